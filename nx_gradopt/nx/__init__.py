"""The NetworkX-facing layer: one module per family, each a thin layer over its kernel.

A module validates graph-level input, builds the kernel's problem from the converted graph
(a :class:`~nx_gradopt.core.tensorgraph.TensorGraph`), calls the kernel and translates its
result into what a NetworkX user expects. Every public function is registered once, with
:func:`nx_gradopt._registry.networkx_function`. These modules are imported while ``import
networkx`` runs: torch, NumPy and the kernels are imported inside the functions.
"""
