"""Backend implementations of NetworkX's spectral functions.

Each takes exactly NetworkX's signature plus the keyword-only ``device``/``dtype``, checks and
raises in NetworkX's order with NetworkX's messages, and returns NetworkX's types. The graph
arrives as a :class:`~nx_gradopt.core.tensorgraph.TensorGraph` (converted by the dispatcher).
torch and the numerics are imported inside the functions: NetworkX imports this module while
``import networkx`` runs.
"""

import networkx as nx

from .._registry import networkx_function

# NetworkX's method names, mapped to ours ("auto" lets the backend choose by size and device).
FIEDLER_METHODS = {
    "tracemin": "auto",
    "tracemin_pcg": "auto",
    "tracemin_lu": "shift_invert",
    "lanczos": "auto",
    "lobpcg": "lobpcg",
}

_FIEDLER_DOCS = (
    "Dense ``eigh`` on small graphs; on the CPU for large graphs, shift-invert Lanczos on a "
    "sparse LU factorisation, or Lanczos on L itself for homogeneous small-world graphs "
    "(random, rewired, regular), where the LU fills in; LOBPCG on a GPU. ``method`` is "
    "validated as NetworkX "
    "does; 'lobpcg' selects LOBPCG and 'tracemin_lu' the sparse LU solver, other methods "
    "let the backend choose."
)
_DENSE_SPECTRUM_DOCS = "Dense ``torch.linalg.eigvalsh``."


def _on_cpu(arguments):
    from ..config import device_and_dtype

    return device_and_dtype(arguments.get("device"), arguments.get("dtype"))[0].type == "cpu"


def _dense_should_run(arguments):
    """Dense spectra: on the CPU NetworkX's SciPy ``eigvalsh`` is as fast as torch's, and
    converting costs extra. Measured (``benchmarks/bench_spectral.py --dispatch``, conversion
    included, two runs): NetworkX took 0.70-1.43x our time at 100 and 900 nodes."""
    return "on the CPU NetworkX's dense eigvalsh is as fast" if _on_cpu(arguments) else True


def _matrix_should_run(arguments):
    """The matrices are what NetworkX builds directly; measured at 100 to 10 000 nodes,
    conversion included (same command, two runs), NetworkX took 0.87-1.40x our time."""
    return "NetworkX builds the same SciPy matrix directly"


def _check_finite(values):
    from ..core.spectra import NON_FINITE, all_finite

    if not all_finite(values):
        raise ValueError(NON_FINITE)


def _fiedler_method(method, device):
    if method not in FIEDLER_METHODS:
        raise nx.NetworkXError(f"unknown method {method!r}.")
    chosen = FIEDLER_METHODS[method]
    return "lobpcg" if chosen == "shift_invert" and device.type != "cpu" else chosen


def _fiedler_problem(G, weight):
    """NetworkX's first checks of the Fiedler functions: (n, row, col, values, connected)."""
    from ..core import spectra

    if len(G) < 2:
        raise nx.NetworkXError("graph has less than two nodes.")
    row, col, values = spectra.preprocessed(G, weight)
    _check_finite(values)
    connected = spectra.components(G, row, col)[0] == 1
    return len(G), row, col, values, connected


def _fiedler(n, row, col, values, normalized, tol, method, seed, device, dtype, vector=True):
    from ..config import runtime as resolve_runtime
    from ..core.spectra import fiedler_pair

    runtime = resolve_runtime(device, dtype, seed)
    return fiedler_pair(
        n, row, col, values, normalized=normalized, tol=tol,
        method=_fiedler_method(method, runtime.device), runtime=runtime, vector=vector,
    )


@networkx_function(docs=_FIEDLER_DOCS)
def algebraic_connectivity(
    G, weight="weight", normalized=False, tol=1e-8, method="tracemin_pcg", seed=None,
    *, device=None, dtype=None,
):
    n, row, col, values, connected = _fiedler_problem(G, weight)
    if not connected:
        return 0.0
    if n == 2:
        return 2.0 * float(values[0]) if not normalized else 2.0
    return _fiedler(n, row, col, values, normalized, tol, method, seed, device, dtype,
                    vector=False)[0]


@networkx_function(docs=_FIEDLER_DOCS)
def fiedler_vector(
    G, weight="weight", normalized=False, tol=1e-8, method="tracemin_pcg", seed=None,
    *, device=None, dtype=None,
):
    import numpy as np

    n, row, col, values, connected = _fiedler_problem(G, weight)
    if not connected:
        raise nx.NetworkXError("graph is not connected.")
    if n == 2:
        return np.array([1.0, -1.0])
    return _fiedler(n, row, col, values, normalized, tol, method, seed, device, dtype)[1]


@networkx_function(docs=_FIEDLER_DOCS)
def spectral_ordering(
    G, weight="weight", normalized=False, tol=1e-8, method="tracemin_pcg", seed=None,
    *, device=None, dtype=None,
):
    import torch

    from ..core import spectra

    if len(G) == 0:
        raise nx.NetworkXError("graph is empty.")
    row, col, values = spectra.preprocessed(G, weight)
    _check_finite(values)
    n = len(G)
    count, labels = spectra.components(G, row, col)
    # NetworkX visits components in node order of their first node.
    members = [[] for _ in range(count)]
    for i, label in enumerate(labels.tolist()):
        members[label].append(i)
    members.sort(key=lambda component: component[0])
    nodes = G.nodes
    order = []
    for component in members:
        size = len(component)
        if size > 2:
            local = torch.full((n,), -1, dtype=torch.int64)
            local[component] = torch.arange(size)
            inside = local[row] >= 0
            _, fiedler = _fiedler(
                size, local[row[inside]], local[col[inside]], values[inside], normalized, tol,
                method, seed, device, dtype,
            )
            order.extend(nodes[i] for _, _, i in sorted(zip(fiedler.tolist(), range(size), component)))
        else:
            # NetworkX extends by the component's set, built from its first node; a set built
            # by the same insertions iterates in the same order.
            members_set = {nodes[component[0]]}
            members_set.update(nodes[i] for i in component[1:])
            order.extend(members_set)
    return order


def _spectrum(G, weight, normalized, device, dtype):
    from ..config import device_and_dtype
    from ..core.spectra import laplacian_eigenvalues

    if len(G) == 0:
        raise nx.NetworkXError("Graph has no nodes or edges")
    values = G.values(weight)
    _check_finite(values)
    device, dtype = device_and_dtype(device, dtype)
    return laplacian_eigenvalues(G, values, normalized=normalized, device=device, dtype=dtype)


@networkx_function(docs=_DENSE_SPECTRUM_DOCS, should_run=_dense_should_run)
def laplacian_spectrum(G, weight="weight", *, device=None, dtype=None):
    return _spectrum(G, weight, False, device, dtype)


@networkx_function(docs=_DENSE_SPECTRUM_DOCS, should_run=_dense_should_run)
def normalized_laplacian_spectrum(G, weight="weight", *, device=None, dtype=None):
    return _spectrum(G, weight, True, device, dtype)


_UNSUMMED_WEIGHTS = "inverting the weights of parallel edges one by one needs them unsummed"


def _resistance_can_run(arguments):
    G, weight = arguments["G"], arguments["weight"]
    if G.is_multigraph() and arguments["invert_weight"] and weight is not None:
        return _UNSUMMED_WEIGHTS
    return True


@networkx_function(
    docs="Laplacian eigenvalues (dense ``eigvalsh``) per component.",
    can_run=_resistance_can_run, should_run=_dense_should_run,
)
def effective_graph_resistance(G, weight=None, invert_weight=True, *, device=None, dtype=None):
    from ..config import device_and_dtype
    from ..core import spectra

    if len(G) == 0:
        raise nx.NetworkXError("Graph G must contain at least one node.")
    n = len(G)
    if spectra.components(G)[0] > 1:
        return float("inf")
    values = G.values(weight)
    _check_finite(values)
    if invert_weight and weight is not None:
        if G.multigraph:
            raise NotImplementedError(_UNSUMMED_WEIGHTS)
        if bool((values == 0).any()):
            raise ZeroDivisionError("float division by zero")
        values = 1.0 / values
    device, dtype = device_and_dtype(device, dtype)
    mu = spectra.laplacian_eigenvalues(G, values, normalized=False, device=device, dtype=dtype)
    return float((1.0 / mu[1:]).sum() * n)


@networkx_function(
    docs="Normalized-Laplacian eigenvalues (dense ``eigvalsh``).", should_run=_dense_should_run
)
def kemeny_constant(G, *, weight=None, device=None, dtype=None):
    from ..config import device_and_dtype
    from ..core import spectra

    if len(G) == 0:
        raise nx.NetworkXError("Graph G must contain at least one node.")
    if spectra.components(G)[0] > 1:
        raise nx.NetworkXError("Graph G must be connected.")
    if weight is not None and weight in G.signed_attributes:
        raise nx.NetworkXError("The weights of graph G must be nonnegative.")
    values = G.values(weight)
    _check_finite(values)
    device, dtype = device_and_dtype(device, dtype)
    return spectra.kemeny(G, values, device=device, dtype=dtype)


def _adjacency_csr(G, nodelist, weight):
    """``nx.to_scipy_sparse_array(G, nodelist, weight=weight, format="csr")``, same errors."""
    import numpy as np
    import scipy.sparse as sps

    if len(G) == 0:
        raise nx.NetworkXError("Graph has no nodes or edges")
    adjacency = G.adjacency(weight)
    if nodelist is None:
        return adjacency
    size = len(nodelist)
    if size == 0:
        raise nx.NetworkXError("nodelist has no nodes")
    index = G.index
    if size != len({node for node in nodelist if node in index}):
        for node in nodelist:
            if node not in index:
                raise nx.NetworkXError(f"Node {node} in nodelist is not in G")
        raise nx.NetworkXError("nodelist contains duplicates.")
    order = np.array([index[node] for node in nodelist], dtype=np.int64)
    return sps.csr_array(adjacency[order][:, order])


_MATRIX_DOCS = "Built from the converted sparse graph; returns a SciPy CSR array."


@networkx_function(docs=_MATRIX_DOCS, extra_parameters={}, should_run=_matrix_should_run)
def laplacian_matrix(G, nodelist=None, weight="weight"):
    import scipy.sparse as sps

    adjacency = _adjacency_csr(G, nodelist, weight)
    n = adjacency.shape[0]
    return sps.dia_array((adjacency.sum(axis=1), 0), shape=(n, n)).tocsr() - adjacency


@networkx_function(docs=_MATRIX_DOCS, extra_parameters={}, should_run=_matrix_should_run)
def normalized_laplacian_matrix(G, nodelist=None, weight="weight"):
    import numpy as np
    import scipy.sparse as sps

    adjacency = _adjacency_csr(G, nodelist, weight)
    n = adjacency.shape[0]
    degree = adjacency.sum(axis=1)
    laplacian = sps.dia_array((degree, 0), shape=(n, n)).tocsr() - adjacency
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 1.0 / np.sqrt(degree)
    scale[np.isinf(scale)] = 0
    scaling = sps.dia_array((scale, 0), shape=(n, n)).tocsr()
    return scaling @ (laplacian @ scaling)
