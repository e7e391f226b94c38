"""The one registration point: a decorator for every function the backend implements.

Each NetworkX-facing module (``nx_gradopt/nx/*.py``, one per family) decorates its functions
with :func:`networkx_function`. Everything else is derived from the table it fills:

- ``_info.get_info()["functions"]`` (what NetworkX's docs and ``f.backends`` show),
- the attributes of :class:`~nx_gradopt.interface.BackendInterface` (what dispatch calls),
- the new functions installed into ``networkx`` and the lazy public names of ``nx_gradopt``,
- ``can_run``/``should_run`` (each registration's own rules).

This module imports only the standard library: NetworkX reads the table while ``import
networkx`` is still running. The family modules it loads are as light (torch and the kernels
are imported inside their functions).
"""

import collections.abc
import dataclasses
import functools
import importlib
import inspect

# One module per family; importing one registers its functions.
FAMILY_MODULES = (
    "nx_gradopt.nx.connectivity",
    "nx_gradopt.nx.matching",
    "nx_gradopt.nx.maxcut",
    "nx_gradopt.nx.spectral",
)

DEVICE_AND_DTYPE = {
    "device : str or torch.device, optional": (
        "Where to compute: 'cpu', 'cuda', 'cuda:1', ... or 'auto' (CUDA when available). "
        "Default: ``nx.config.backends.gradopt.device``."
    ),
    "dtype : {'float64', 'float32'}, optional": (
        "Floating-point precision of the computation. "
        "Default: ``nx.config.backends.gradopt.dtype``."
    ),
}


@dataclasses.dataclass(frozen=True)
class Registration:
    """One function of the backend.

    Attributes
    ----------
    name : str
        The dispatch name (NetworkX's, or the new function's).
    function : callable
        The implementation; its graph arguments are :class:`TensorGraph` objects.
    docs : str
        The backend's note in the function's NetworkX docstring.
    extra_parameters : dict
        ``{"name : type": description}`` of keyword-only parameters beyond NetworkX's.
    new : bool
        A function NetworkX does not have: installed into ``networkx`` as a dispatchable
        whose default implementation converts the graphs itself and runs the same kernel.
    dispatch : dict
        For a new function, the options of NetworkX's ``_dispatchable`` (``graphs``,
        ``edge_attrs``, ``returns_graph``, ``preserve_all_attrs``, ...).
    not_implemented_for : tuple of str
        For a new function, NetworkX's ``not_implemented_for`` graph kinds.
    can_run, should_run : callable or None
        ``(arguments) -> True or a reason``, with the call's arguments bound by name (graphs
        still NetworkX graphs). None: always.
    fresh_conversion : bool
        Never run on a cached conversion: a certificate must describe the graph the user
        passed, and in-place attribute edits leave NetworkX's cache stale.
    """

    name: str
    function: object
    docs: str
    extra_parameters: dict
    new: bool = False
    dispatch: dict = dataclasses.field(default_factory=dict)
    not_implemented_for: tuple = ()
    can_run: object = None
    should_run: object = None
    fresh_conversion: bool = False

    @functools.cached_property
    def signature(self):
        """The implementation's signature (computed once: every dispatched call binds it)."""
        return inspect.signature(self.function)

    @property
    def graph_parameters(self):
        """Names of the graph arguments, as NetworkX's ``graphs=`` option lists them."""
        graphs = self.dispatch.get("graphs", "G")
        return [graphs] if isinstance(graphs, str) else list(graphs)

    def bind(self, args, kwargs):
        """The call's arguments by name (defaults included), or None if they do not bind."""
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError:
            return None
        bound.apply_defaults()
        return bound.arguments

    def conversion_options(self, arguments):
        """How NetworkX's dispatcher converts this function's graphs: ``from_networkx`` keyword
        arguments for the default implementation, so both paths see the same data."""
        preserve_all = self.dispatch.get("preserve_all_attrs", False)
        options = {
            "preserve_edge_attrs": preserve_all,
            "preserve_node_attrs": preserve_all or self.dispatch.get("preserve_node_attrs", False),
            "preserve_graph_attrs": preserve_all,
        }
        edge_attrs = self.dispatch.get("edge_attrs")
        if isinstance(edge_attrs, str) and not preserve_all:
            attribute = arguments[edge_attrs]
            if isinstance(attribute, (list, tuple)):
                # Layers (edge types), one per attribute: an edge without one is not in
                # that layer. Names that cannot be attributes are left for the function to
                # reject in its own words. (NetworkX's dispatcher cannot convert a list.)
                options["edge_attrs"] = {
                    layer: 0 for layer in attribute if isinstance(layer, collections.abc.Hashable)
                }
            elif attribute is not None:
                options["edge_attrs"] = {attribute: 1}
        return options

    def converted(self, arguments):
        """``arguments`` (bound by name) with the graphs converted as the dispatcher would."""
        from .convert import from_networkx  # torch: at call time, not during import networkx

        options = self.conversion_options(arguments)
        for parameter in self.graph_parameters:
            arguments[parameter] = from_networkx(arguments[parameter], **options)
        return arguments


_REGISTRY = {}


def networkx_function(
    name=None, *, docs, extra_parameters=DEVICE_AND_DTYPE, new=False, dispatch=None,
    not_implemented_for=(), can_run=None, should_run=None, fresh_conversion=False,
):
    """Register the decorated function as the backend's implementation of ``name``.

    The function takes NetworkX's signature (or, for a new function, defines it) plus the
    keyword-only ``extra_parameters``; its graph arguments arrive as TensorGraphs.
    """

    def register(function):
        key = name or function.__name__
        if key in _REGISTRY:
            raise RuntimeError(f"{key!r} is registered twice")
        _REGISTRY[key] = Registration(
            name=key, function=function, docs=docs, extra_parameters=dict(extra_parameters),
            new=new, dispatch=dict(dispatch or {}),
            not_implemented_for=tuple(not_implemented_for), can_run=can_run,
            should_run=should_run, fresh_conversion=fresh_conversion,
        )
        return function

    return register


def registrations():
    """``{dispatch name: Registration}`` of every function, in registration order."""
    for module in FAMILY_MODULES:
        importlib.import_module(module)
    return dict(_REGISTRY)
