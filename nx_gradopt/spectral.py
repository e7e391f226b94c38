"""Backend implementations of NetworkX's spectral functions.

Each takes exactly NetworkX's signature plus the keyword-only ``device``/``dtype``, checks and
raises in NetworkX's order with NetworkX's messages, and returns NetworkX's types. The graph
arrives as a :class:`~nx_gradopt.core.tensorgraph.TensorGraph` (converted by the dispatcher).
"""

import networkx as nx
import numpy as np
import scipy.sparse as sps
import torch
from scipy.sparse.csgraph import connected_components

from .config import device_and_dtype
from .core.eigensolvers import smallest_eigenpairs
from .core.laplacian import laplacian, null_vector
from .core.runtime import torch_generator

# NetworkX's method names, mapped to ours ("auto" lets the backend choose by size and device).
FIEDLER_METHODS = {
    "tracemin": "auto",
    "tracemin_pcg": "auto",
    "tracemin_lu": "shift_invert",
    "lanczos": "auto",
    "lobpcg": "lobpcg",
}


def _fiedler_method(method, device):
    if method not in FIEDLER_METHODS:
        raise nx.NetworkXError(f"unknown method {method!r}.")
    chosen = FIEDLER_METHODS[method]
    return "lobpcg" if chosen == "shift_invert" and device.type != "cpu" else chosen


def _preprocessed(G, weight):
    """Mirror NetworkX's ``_preprocess_graph``: weights |w| summed over parallel and opposite
    edges, self-loops and zero-weight edges dropped. Returns symmetric COO (row, col, values)."""
    values = G.values(weight, absolute=True)
    keep = (G.row != G.col) & (values != 0)
    row, col, values = G.row[keep], G.col[keep], values[keep]
    if G.directed:
        row, col, values = torch.cat([row, col]), torch.cat([col, row]), torch.cat([values, values])
        coalesced = torch.sparse_coo_tensor(
            torch.stack([row, col]), values, (len(G),) * 2, check_invariants=False
        )
        coalesced = coalesced.coalesce()
        (row, col), values = coalesced.indices(), coalesced.values()
    return row, col, values


def _components(n, row, col):
    """(count, labels) of the weakly connected components of the COO pattern."""
    adjacency = sps.coo_array((np.ones(row.numel()), (row.numpy(), col.numpy())), shape=(n, n))
    return connected_components(adjacency, directed=False)


def count_components(n, row, col):
    """Number of connected components of the COO pattern (edge weights ignored)."""
    return _components(n, row, col)[0]


def _fiedler(n, row, col, values, normalized, tol, method, seed, device, dtype):
    """Fiedler pair of a connected graph with n > 2 (NetworkX's ``find_fiedler``)."""
    values = values.to(device, dtype)
    row, col = row.to(device), col.to(device)
    matrix = laplacian(n, row, col, values, normalized=normalized)
    pairs = smallest_eigenpairs(
        matrix,
        1,
        null_vector=null_vector(n, row, col, values, normalized=normalized),
        method=method,
        tol=max(float(tol), float(torch.finfo(dtype).eps)),
        seed=torch_generator(seed),
    )
    return float(pairs.values[0]), pairs.vectors[:, 0].to("cpu", torch.float64).numpy()


def _two_or_more_nodes(G, weight):
    """NetworkX's first checks of the Fiedler functions: preprocessed COO, connectedness."""
    if len(G) < 2:
        raise nx.NetworkXError("graph has less than two nodes.")
    row, col, values = _preprocessed(G, weight)
    return len(G), row, col, values, count_components(len(G), row, col) == 1


def algebraic_connectivity(
    G, weight="weight", normalized=False, tol=1e-8, method="tracemin_pcg", seed=None,
    *, device=None, dtype=None,
):
    n, row, col, values, connected = _two_or_more_nodes(G, weight)
    if not connected:
        return 0.0
    if n == 2:
        return 2.0 * float(values[0]) if not normalized else 2.0
    device, dtype = device_and_dtype(device, dtype)
    method = _fiedler_method(method, device)
    sigma, _ = _fiedler(n, row, col, values, normalized, tol, method, seed, device, dtype)
    return sigma


def fiedler_vector(
    G, weight="weight", normalized=False, tol=1e-8, method="tracemin_pcg", seed=None,
    *, device=None, dtype=None,
):
    n, row, col, values, connected = _two_or_more_nodes(G, weight)
    if not connected:
        raise nx.NetworkXError("graph is not connected.")
    if n == 2:
        return np.array([1.0, -1.0])
    device, dtype = device_and_dtype(device, dtype)
    method = _fiedler_method(method, device)
    return _fiedler(n, row, col, values, normalized, tol, method, seed, device, dtype)[1]


def spectral_ordering(
    G, weight="weight", normalized=False, tol=1e-8, method="tracemin_pcg", seed=None,
    *, device=None, dtype=None,
):
    if len(G) == 0:
        raise nx.NetworkXError("graph is empty.")
    row, col, values = _preprocessed(G, weight)
    device, dtype = device_and_dtype(device, dtype)
    method = _fiedler_method(method, device)
    n = len(G)
    count, labels = _components(n, row, col)
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
            sub_row, sub_col = local[row[inside]], local[col[inside]]
            _, fiedler = _fiedler(
                size, sub_row, sub_col, values[inside], normalized, tol, method, seed, device, dtype
            )
            order.extend(nodes[i] for _, _, i in sorted(zip(fiedler.tolist(), range(size), component)))
        else:
            # NetworkX extends by the component's set, built from its first node; a set built
            # by the same insertions iterates in the same order.
            members_set = {nodes[component[0]]}
            members_set.update(nodes[i] for i in component[1:])
            order.extend(members_set)
    return order


def _dense_adjacency(G, values, device, dtype):
    """Dense adjacency with the given per-entry ``values`` (self-loops on the diagonal)."""
    adjacency = torch.zeros((len(G),) * 2, device=device, dtype=dtype)
    adjacency[G.row.to(device), G.col.to(device)] = values.to(device, dtype)
    return adjacency


def _inverse_sqrt(degree):
    """``1 / sqrt(d)`` with 0 for zero degrees, as NetworkX's normalised matrices do."""
    return torch.where(degree != 0, degree.rsqrt(), 0.0)


def _dense_laplacian(G, values, *, normalized, device, dtype):
    """``nx.laplacian_matrix`` / ``nx.normalized_laplacian_matrix`` as a dense tensor."""
    adjacency = _dense_adjacency(G, values, device, dtype)
    degree = adjacency.sum(dim=1)
    matrix = torch.diag(degree) - adjacency
    if normalized:
        scale = _inverse_sqrt(degree)
        matrix = scale[:, None] * matrix * scale[None, :]
    return matrix


def _eigvalsh_like_scipy(matrix):
    """``scipy.linalg.eigvalsh``: lower triangle (matters for directed graphs), finite input."""
    if not bool(torch.isfinite(matrix).all()):
        raise ValueError("array must not contain infs or NaNs")
    return torch.linalg.eigvalsh(matrix, UPLO="L").to("cpu", torch.float64).numpy()


def laplacian_spectrum(G, weight="weight", *, device=None, dtype=None):
    device, dtype = device_and_dtype(device, dtype)
    matrix = _dense_laplacian(G, G.values(weight), normalized=False, device=device, dtype=dtype)
    return _eigvalsh_like_scipy(matrix)


def normalized_laplacian_spectrum(G, weight="weight", *, device=None, dtype=None):
    device, dtype = device_and_dtype(device, dtype)
    matrix = _dense_laplacian(G, G.values(weight), normalized=True, device=device, dtype=dtype)
    return _eigvalsh_like_scipy(matrix)


def effective_graph_resistance(G, weight=None, invert_weight=True, *, device=None, dtype=None):
    if len(G) == 0:
        raise nx.NetworkXError("Graph G must contain at least one node.")
    n = len(G)
    if count_components(n, G.row, G.col) > 1:
        return float("inf")
    device, dtype = device_and_dtype(device, dtype)
    values = G.values(weight)
    if invert_weight and weight is not None:
        if G.multigraph:
            raise NotImplementedError("inverting summed parallel-edge weights")
        if bool((values == 0).any()):
            raise ZeroDivisionError("float division by zero")
        values = 1.0 / values
    matrix = _dense_laplacian(G, values, normalized=False, device=device, dtype=dtype)
    mu = torch.sort(torch.linalg.eigvalsh(matrix)).values.to("cpu", torch.float64)
    return float((1.0 / mu[1:]).sum() * n)


def kemeny_constant(G, *, weight=None, device=None, dtype=None):
    if len(G) == 0:
        raise nx.NetworkXError("Graph G must contain at least one node.")
    n = len(G)
    if count_components(n, G.row, G.col) > 1:
        raise nx.NetworkXError("Graph G must be connected.")
    if weight is not None and weight in G.signed_attributes:
        raise nx.NetworkXError("The weights of graph G must be nonnegative.")
    device, dtype = device_and_dtype(device, dtype)
    adjacency = _dense_adjacency(G, G.values(weight), device, dtype)
    scale = _inverse_sqrt(adjacency.sum(dim=1))
    normalized_adjacency = scale[:, None] * adjacency * scale[None, :]
    eigenvalues = torch.sort(torch.linalg.eigvalsh(normalized_adjacency)).values
    eigenvalues = eigenvalues.to("cpu", torch.float64)
    return float((1.0 / (1.0 - eigenvalues[:-1])).sum())


def _adjacency_csr(G, nodelist, weight):
    """``nx.to_scipy_sparse_array(G, nodelist, weight=weight, format="csr")``, same errors."""
    if len(G) == 0:
        raise nx.NetworkXError("Graph has no nodes or edges")
    row, col = G.row.numpy(), G.col.numpy()
    values = G.values(weight).numpy()
    if nodelist is None:
        size = len(G)
    else:
        size = len(nodelist)
        if size == 0:
            raise nx.NetworkXError("nodelist has no nodes")
        index = G.index
        if size != len({node for node in nodelist if node in index}):
            for node in nodelist:
                if node not in index:
                    raise nx.NetworkXError(f"Node {node} in nodelist is not in G")
            raise nx.NetworkXError("nodelist contains duplicates.")
        position = np.full(len(G), -1)
        position[[index[node] for node in nodelist]] = np.arange(size)
        inside = (position[row] >= 0) & (position[col] >= 0)
        row, col, values = position[row[inside]], position[col[inside]], values[inside]
    return sps.csr_array((values, (row, col)), shape=(size, size))


def laplacian_matrix(G, nodelist=None, weight="weight"):
    adjacency = _adjacency_csr(G, nodelist, weight)
    n = adjacency.shape[0]
    return sps.dia_array((adjacency.sum(axis=1), 0), shape=(n, n)).tocsr() - adjacency


def normalized_laplacian_matrix(G, nodelist=None, weight="weight"):
    adjacency = _adjacency_csr(G, nodelist, weight)
    n = adjacency.shape[0]
    degree = adjacency.sum(axis=1)
    laplacian_ = sps.dia_array((degree, 0), shape=(n, n)).tocsr() - adjacency
    with np.errstate(divide="ignore"):
        scale = 1.0 / np.sqrt(degree)
    scale[np.isinf(scale)] = 0
    scaling = sps.dia_array((scale, 0), shape=(n, n)).tocsr()
    return scaling @ (laplacian_ @ scaling)
