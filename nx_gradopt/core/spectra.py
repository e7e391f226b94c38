"""Numerics behind NetworkX's spectral functions: TensorGraphs in, tensors and floats out.

The NetworkX layer (``nx_gradopt/nx/spectral.py``) checks the input in NetworkX's order and
turns these results into NetworkX's types.
"""

import math

import torch

from .eigensolvers import smallest_eigenpairs
from .laplacian import laplacian, null_vector
from .sparse import connected_components

# Weights are divided by a power of two (exact in binary floating point) when their largest
# magnitude lies outside [2^-SCALE_EXPONENT, 2^SCALE_EXPONENT]: degrees of weights near 1e308
# overflow to inf and eigen-solvers fail, and weights near 1e-300 underflow in products.
SCALE_EXPONENT = 200
# SciPy's words for a non-finite matrix, which NetworkX users see from NetworkX's functions.
NON_FINITE = "array must not contain infs or NaNs"


def weight_scale(values):
    """A power of two to divide ``values`` by (1.0 when their magnitudes are moderate)."""
    if values.numel() == 0:
        return 1.0
    largest = float(values.abs().max())
    if largest == 0 or 2.0**-SCALE_EXPONENT <= largest <= 2.0**SCALE_EXPONENT:
        return 1.0
    return 2.0 ** math.floor(math.log2(largest))


def all_finite(values):
    return bool(torch.isfinite(values).all())


def preprocessed(G, weight):
    """NetworkX's ``_preprocess_graph``: weights |w| summed over parallel and opposite
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


def fiedler_pair(n, row, col, values, *, normalized, tol, method, runtime, vector=True):
    """(λ₂, Fiedler vector as float64 NumPy) of a connected graph with n > 2; the vector may
    be None when ``vector`` is False (λ₂ alone is cheaper by Lanczos)."""
    dtype = runtime.dtype
    scale = weight_scale(values)
    values = (values / scale).to(runtime.device, dtype)
    row, col = row.to(runtime.device), col.to(runtime.device)
    matrix = laplacian(n, row, col, values, normalized=normalized)
    pairs = smallest_eigenpairs(
        matrix,
        1,
        null_vector=null_vector(n, row, col, values, normalized=normalized),
        method=method,
        tol=max(float(tol), float(torch.finfo(dtype).eps)),
        seed=runtime.generator,
        vectors=vector,
    )
    eigenvalue = float(pairs.values[0]) * (1.0 if normalized else scale)
    if pairs.vectors is None:
        return eigenvalue, None
    return eigenvalue, pairs.vectors[:, 0].to("cpu", torch.float64).numpy()


def components(G, row=None, col=None):
    """``(count, labels)`` of G's weakly connected components (of the given pattern)."""
    if row is None:
        row, col = G.row, G.col
    return connected_components(len(G), row, col)


def dense_adjacency(G, values, device, dtype):
    """Dense adjacency with the given per-entry ``values`` (self-loops on the diagonal)."""
    adjacency = torch.zeros((len(G),) * 2, device=device, dtype=dtype)
    adjacency[G.row.to(device), G.col.to(device)] = values.to(device, dtype)
    return adjacency


def inverse_sqrt(degree):
    """``1 / sqrt(d)`` with 0 for zero degrees, as NetworkX's normalised matrices do."""
    return torch.where(degree != 0, degree.rsqrt(), 0.0)


def dense_laplacian(G, values, *, normalized, device, dtype):
    """``nx.laplacian_matrix`` / ``nx.normalized_laplacian_matrix`` as a dense tensor."""
    adjacency = dense_adjacency(G, values, device, dtype)
    degree = adjacency.sum(dim=1)
    matrix = torch.diag(degree) - adjacency
    if normalized:
        scale = inverse_sqrt(degree)
        matrix = scale[:, None] * matrix * scale[None, :]
    return matrix


def laplacian_eigenvalues(G, values, *, normalized, device, dtype):
    """Eigenvalues of the (normalized) Laplacian with these entry values, ascending, float64
    NumPy; the lower triangle is read, as ``scipy.linalg.eigvalsh`` does (directed graphs)."""
    scale = weight_scale(values)
    matrix = dense_laplacian(G, values / scale, normalized=normalized, device=device, dtype=dtype)
    if not all_finite(matrix):  # negative degrees give NaN scales; SciPy refuses them so
        raise ValueError(NON_FINITE)
    eigenvalues = torch.linalg.eigvalsh(matrix, UPLO="L").to("cpu", torch.float64)
    return (eigenvalues * (1.0 if normalized else scale)).numpy()


def kemeny(G, values, *, device, dtype):
    """Kemeny's constant of a connected graph from its normalized adjacency's spectrum."""
    adjacency = dense_adjacency(G, values / weight_scale(values), device, dtype)
    scale = inverse_sqrt(adjacency.sum(dim=1))
    normalized_adjacency = scale[:, None] * adjacency * scale[None, :]
    eigenvalues = torch.sort(torch.linalg.eigvalsh(normalized_adjacency)).values
    eigenvalues = eigenvalues.to("cpu", torch.float64)
    return float((1.0 / (1.0 - eigenvalues[:-1])).sum())
