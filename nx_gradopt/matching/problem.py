r"""The quadratic assignment problem behind graph matching, reduced to its free part.

With seeds fixed and the smaller graph padded, the objective over permutations P of the free
(unseeded) nodes is

.. math:: f(P) = \langle A_{ff}, P B_{ff} P^\top\rangle + \langle C, P\rangle + c_0,

where :math:`C = A_{fs} B_{fs}^\top + A_{sf}^\top B_{sf} + S_{ff}` collects the seed cross terms
and the similarity, and :math:`c_0` the seed-to-seed terms. Its gradient is
:math:`A P B^\top + A^\top P B + C` (one product pair when A and B are symmetric).
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from ..core.sparse import scipy_to_torch_csr

PADDINGS = ("naive", "adopted")

# Below this fraction of nonzeros a sparse-times-dense product beats a dense one on the CPU
# (n = 2000: 0.10 s against 0.27 s at 2% density, 0.18 s against 0.25 s at 5%).
SPARSE_DENSITY = 0.05


@dataclass
class ReducedProblem:
    """The free block of a seeded, padded quadratic assignment problem, as torch operators.

    ``free_a`` / ``free_b`` are the padded indices of the free nodes (the rows and columns of
    P), ``seeds_a`` / ``seeds_b`` the fixed pairs.
    """

    a: torch.Tensor
    b: torch.Tensor
    linear: torch.Tensor | None
    symmetric: bool
    free_a: np.ndarray
    free_b: np.ndarray
    seeds_a: np.ndarray
    seeds_b: np.ndarray

    def __post_init__(self):
        # Transposed once here, not per Frank–Wolfe iteration (a sparse one is a conversion).
        if not self.symmetric:
            self._a_t, self._b_t = _transpose(self.a), _transpose(self.b)

    @property
    def size(self):
        return len(self.free_a)

    def apply(self, x):
        r""":math:`A X B^\top` for a batch X of shape (k, m, m)."""
        return _right_multiply(_left_multiply(self.a, x), self.b)

    def apply_transposed(self, x):
        r""":math:`A^\top X B`, the other half of the gradient (equal to apply when symmetric)."""
        if self.symmetric:
            return self.apply(x)
        return _right_multiply(_left_multiply(self._a_t, x), self._b_t)


def _transpose(matrix):
    if matrix.layout == torch.sparse_csr:
        return matrix.to_sparse_coo().t().to_sparse_csr()
    return matrix.t()


def _left_multiply(matrix, x):
    """``matrix @ x[b]`` for every b; a sparse matrix multiplies the batch side by side."""
    if matrix.layout != torch.sparse_csr:
        return torch.matmul(matrix, x)
    k, m, _ = x.shape
    stacked = x.transpose(0, 1).reshape(m, k * m)
    return (matrix @ stacked).reshape(m, k, m).transpose(0, 1)


def _right_multiply(x, matrix):
    """``x[b] @ matrix.T`` for every b."""
    if matrix.layout != torch.sparse_csr:
        return torch.matmul(x, matrix.t())
    # (X M^T)^T = M X^T: multiply the transposed batch side by side, return a transposed view.
    return _left_multiply(matrix, x.transpose(1, 2)).transpose(1, 2)


def pad(matrix, size, padding):
    """``matrix`` (SciPy sparse, n <= size) padded with zero rows and columns to ``size``.

    ``"adopted"`` padding (Fishkind et al. 2019) first maps A to 2A - J, so that absent edges
    count against a match and the smaller graph is matched to an induced subgraph; the
    result is dense.
    """
    n = matrix.shape[0]
    if padding == "adopted":
        dense = np.zeros((size, size))
        dense[:n, :n] = 2.0 * matrix.toarray() - 1.0
        return sp.csr_array(dense)
    if n == size:
        return sp.csr_array(matrix)
    return sp.csr_array(sp.block_diag([matrix, sp.csr_array((size - n, size - n))]))


def reduce(a, b, seeds, similarity, *, device, dtype):
    """The free block of padded square SciPy matrices ``a``, ``b`` (same size) with seeds.

    Parameters
    ----------
    a, b : scipy.sparse.csr_array, shape (m, m)
    seeds : ndarray of int, shape (s, 2)
        Pairs (row of a, row of b) that are fixed.
    similarity : scipy.sparse.csr_array, shape (m, m), or None
    """
    m = a.shape[0]
    seeds_a, seeds_b = seeds[:, 0], seeds[:, 1]
    free_a = np.setdiff1d(np.arange(m), seeds_a)
    free_b = np.setdiff1d(np.arange(m), seeds_b)
    a, b = sp.csr_array(a), sp.csr_array(b)
    linear = None
    if len(seeds_a):
        linear = (
            a[free_a][:, seeds_a] @ b[free_b][:, seeds_b].T
            + a[seeds_a][:, free_a].T @ b[seeds_b][:, free_b]
        )
    if similarity is not None:
        block = similarity[free_a][:, free_b]
        linear = block if linear is None else linear + block
    symmetric = _is_symmetric(a) and _is_symmetric(b)
    if len(seeds_a):  # without seeds the free block is the whole matrix
        a, b = a[free_a][:, free_a], b[free_b][:, free_b]
    return ReducedProblem(
        a=_to_torch(a, device, dtype),
        b=_to_torch(b, device, dtype),
        linear=None if linear is None else _dense(linear, device, dtype),
        symmetric=symmetric,
        free_a=free_a,
        free_b=free_b,
        seeds_a=seeds_a,
        seeds_b=seeds_b,
    )


def _is_symmetric(matrix):
    return (matrix != matrix.T).nnz == 0


def _dense(matrix, device, dtype):
    return torch.as_tensor(sp.csr_array(matrix).toarray(), device=device, dtype=dtype)


def _to_torch(matrix, device, dtype):
    """Sparse CSR when sparse enough to be faster, dense otherwise."""
    m = matrix.shape[0]
    if m == 0 or matrix.nnz >= SPARSE_DENSITY * m * m:
        return _dense(matrix, device, dtype)
    return scipy_to_torch_csr(matrix, device=device, dtype=dtype)


def objective(a, b, similarity, perm):
    r""":math:`\sum_{ij} a_{ij}\, b_{\pi(i)\pi(j)} + \sum_i s_{i\pi(i)}`, exactly, in float64.

    ``a``, ``b`` and ``similarity`` are all SciPy sparse or all dense NumPy arrays.
    """
    if not sp.issparse(a):
        value = float((a * b[np.ix_(perm, perm)]).sum())
        if similarity is not None:
            value += float(similarity[np.arange(len(perm)), perm].sum())
        return value
    permuted = sp.csr_array(b)[perm][:, perm]
    value = float(sp.csr_array(a).multiply(permuted).sum())
    if similarity is not None:
        value += float(sp.csr_array(similarity)[np.arange(len(perm)), perm].sum())
    return value
