r"""The quadratic assignment problem behind graph matching, reduced to its free part.

With seeds fixed and the smaller graph padded, the objective over permutations P of the free
(unseeded) nodes is

.. math:: f(P) = \sum_l \langle A^{(l)}_{ff}, P B^{(l)}_{ff} P^\top\rangle + \langle C, P\rangle + c_0,

summed over the layers l (edge types; one for a plain pair of graphs), where
:math:`C = \sum_l A^{(l)}_{fs} B^{(l)\top}_{fs} + A^{(l)\top}_{sf} B^{(l)}_{sf} + S_{ff}`
collects the seed cross terms and the similarity, and :math:`c_0` the seed-to-seed terms. Its
gradient is :math:`\sum_l A P B^\top + A^\top P B + C` (one product pair per layer when A and
B are symmetric).
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from ..core.sparse import scipy_to_torch_csr

PADDINGS = ("naive", "adopted")
NUMPY_DTYPES = {torch.float64: np.float64, torch.float32: np.float32}

# Below this fraction of nonzeros a sparse-times-dense product beats a dense one on the CPU
# (n = 2000: 0.10 s against 0.27 s at 2% density, 0.18 s against 0.25 s at 5%).
SPARSE_DENSITY = 0.05


@dataclass
class ReducedProblem:
    """The free block of a seeded, padded quadratic assignment problem, as torch operators.

    ``a`` / ``b`` are the layers' free blocks, ``free_a`` / ``free_b`` the padded indices of
    the free nodes (the rows and columns of P, ``free_b`` in the order the columns take),
    ``seeds_a`` / ``seeds_b`` the fixed pairs.
    """

    a: list
    b: list
    linear: torch.Tensor | None
    symmetric: bool
    free_a: np.ndarray
    free_b: np.ndarray
    seeds_a: np.ndarray
    seeds_b: np.ndarray

    def __post_init__(self):
        # Transposed once here, not per Frank–Wolfe iteration (a sparse one is a conversion).
        if not self.symmetric:
            self._a_t = [_transpose(layer) for layer in self.a]
            self._b_t = [_transpose(layer) for layer in self.b]

    @property
    def size(self):
        return len(self.free_a)

    # Starts per problem in a stacked batch (see grouped.StackedProblem): None, every start
    # is this one problem's.
    counts = None

    def restricted(self, keep):
        """The problem on the starts where ``keep`` is True: the same (see StackedProblem)."""
        return self

    def apply(self, x):
        r""":math:`\sum_l A_l X B_l^\top` for a batch X of shape (k, m, m)."""
        return _layer_sum(self.a, self.b if self.symmetric else self._b_t, x)

    def apply_transposed(self, x):
        r""":math:`\sum_l A_l^\top X B_l`, the other half of the gradient (equal to apply when
        symmetric)."""
        if self.symmetric:
            return self.apply(x)
        return _layer_sum(self._a_t, self.b, x)


def _layer_sum(a_layers, b_t_layers, x):
    r""":math:`\sum_l A_l X B_l^\top`, given the :math:`B_l^\top`."""
    total = None
    for a, b_t in zip(a_layers, b_t_layers):
        term = _right_multiply(_left_multiply(a, x), b_t)
        total = term if total is None else total + term
    return total


def _transpose(matrix):
    if isinstance(matrix, np.ndarray):
        return np.ascontiguousarray(matrix.T)
    if matrix.layout == torch.sparse_csr:
        return matrix.to_sparse_coo().t().to_sparse_csr()
    return matrix.t()


def _left_multiply(matrix, x):
    """``matrix @ x[b]`` for every b; a sparse matrix multiplies the batch side by side."""
    if isinstance(matrix, np.ndarray):
        return np.matmul(matrix, x)
    if matrix.layout != torch.sparse_csr:
        return torch.matmul(matrix, x)
    k, m, _ = x.shape
    stacked = x.transpose(0, 1).reshape(m, k * m)
    return (matrix @ stacked).reshape(m, k, m).transpose(0, 1)


def _right_multiply(x, matrix):
    """``x[b] @ matrix`` for every b; with a sparse matrix, as one stack of rows."""
    if isinstance(matrix, np.ndarray):
        return np.matmul(x, matrix)
    if matrix.layout != torch.sparse_csr:
        return torch.matmul(x, matrix)
    # Dense times sparse keeps the rows contiguous. Computed as (M^T X^T)^T and returned as a
    # transposed view, it was 0.59 s against 0.49 s at m = 5000, and every later operation
    # that mixed the view with a contiguous (m, m) matrix read it across its rows: a mixed
    # inner product took 0.37 s against 0.02 s, and at 10^4 nodes a GOAT solve spent more
    # time on such reads than on Sinkhorn.
    k, m, _ = x.shape
    return (x.reshape(k * m, m) @ matrix).view(k, m, -1)


def pad(matrix, size, padding):
    """``matrix`` (a dense NumPy array or SciPy sparse, n <= size) padded with zero rows and
    columns to ``size``, of the same kind.

    ``"adopted"`` padding (Fishkind et al. 2019) first maps A to 2A - J, so that absent edges
    count against a match and the smaller graph is matched to an induced subgraph; the
    result is dense (as CSR when the input is sparse).
    """
    n = matrix.shape[0]
    dense = not sp.issparse(matrix)
    if padding == "adopted" or (dense and n < size):
        padded = np.zeros((size, size))
        block = matrix if dense else matrix.toarray()
        padded[:n, :n] = 2.0 * block - 1.0 if padding == "adopted" else block
        return padded if dense else sp.csr_array(padded)
    if dense or n == size:
        return matrix if dense else sp.csr_array(matrix)
    return sp.csr_array(sp.block_diag([matrix, sp.csr_array((size - n, size - n))]))


def reduce(a_layers, b_layers, seeds, similarity, *, device, dtype, order_b=None, host=False):
    """The free block of padded square matrices (same size, one per layer) with seeds.

    Parameters
    ----------
    a_layers, b_layers : lists of scipy.sparse.csr_array or of NumPy arrays, shape (m, m)
    seeds : ndarray of int, shape (s, 2)
        Pairs (row of a, row of b) that are fixed.
    similarity : scipy.sparse.csr_array or NumPy array, shape (m, m), or None
    order_b : ndarray of int, shape (m - s,), optional
        A permutation of B's free rows (SciPy's ``shuffle_input``); increasing order if None.
    host : bool
        Dense NumPy arrays of ``dtype`` instead of torch operators on ``device``, for
        :func:`~.faq_host.faq_on_host`.
    """
    m = a_layers[0].shape[0]
    seeds_a, seeds_b = seeds[:, 0], seeds[:, 1]
    free_a = np.setdiff1d(np.arange(m), seeds_a) if len(seeds_a) else np.arange(m)
    free_b = np.setdiff1d(np.arange(m), seeds_b) if len(seeds_b) else np.arange(m)
    if order_b is not None:
        free_b = free_b[order_b]
    linear = None
    if len(seeds_a):
        for a, b in zip(a_layers, b_layers):
            cross = (
                a[free_a][:, seeds_a] @ b[free_b][:, seeds_b].T
                + a[seeds_a][:, free_a].T @ b[seeds_b][:, free_b]
            )
            linear = cross if linear is None else linear + cross
    if similarity is not None:
        block = similarity[free_a][:, free_b]
        linear = block if linear is None else linear + block
    symmetric = all(_is_symmetric(matrix) for matrix in a_layers + b_layers)
    if len(seeds_a) or order_b is not None:  # otherwise the free block is the whole matrix
        a_layers = [a[free_a][:, free_a] for a in a_layers]
        b_layers = [b[free_b][:, free_b] for b in b_layers]

    def operator(matrix):
        return _dense_numpy(matrix, dtype) if host else _to_torch(matrix, device, dtype)

    return ReducedProblem(
        a=[operator(a) for a in a_layers],
        b=[operator(b) for b in b_layers],
        linear=None if linear is None else (
            _dense_numpy(linear, dtype) if host else _dense(linear, device, dtype)),
        symmetric=symmetric,
        free_a=free_a,
        free_b=free_b,
        seeds_a=seeds_a,
        seeds_b=seeds_b,
    )


def _is_symmetric(matrix):
    if not sp.issparse(matrix):
        return np.array_equal(matrix, matrix.T)
    return (matrix != matrix.T).nnz == 0


def _dense(matrix, device, dtype):
    array = sp.csr_array(matrix).toarray() if sp.issparse(matrix) else matrix
    return torch.as_tensor(array, device=device, dtype=dtype)


def _dense_numpy(matrix, dtype):
    array = matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)
    return np.ascontiguousarray(array, dtype=NUMPY_DTYPES[dtype])


def _to_torch(matrix, device, dtype):
    """Sparse CSR when sparse enough to be faster, dense otherwise."""
    m = matrix.shape[0]
    if not sp.issparse(matrix) or m == 0 or matrix.nnz >= SPARSE_DENSITY * m * m:
        return _dense(matrix, device, dtype)
    return scipy_to_torch_csr(matrix, device=device, dtype=dtype)


def objective(a_layers, b_layers, similarity, perm):
    r""":math:`\sum_l \sum_{ij} a^{(l)}_{ij}\, b^{(l)}_{\pi(i)\pi(j)} + \sum_i s_{i\pi(i)}`,
    exactly, in float64.

    The layers and ``similarity`` are all SciPy sparse or all dense NumPy arrays.
    """
    value = 0.0
    for a, b in zip(a_layers, b_layers):
        if sp.issparse(a):
            permuted = sp.csr_array(b)[perm][:, perm]
            value += float(sp.csr_array(a).multiply(permuted).sum())
        else:
            value += float((a * b[np.ix_(perm, perm)]).sum())
    if similarity is not None:
        if sp.issparse(similarity):
            similarity = sp.csr_array(similarity)
        value += float(similarity[np.arange(len(perm)), perm].sum())
    return value
