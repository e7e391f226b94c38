r"""The few smallest eigenpairs of a symmetric positive semidefinite (Laplacian) matrix.

One entry point, :func:`smallest_eigenpairs`, three methods:

- ``"dense"``: ``torch.linalg.eigh``; exact, for small matrices, any device.
- ``"shift_invert"``: Lanczos (SciPy's ARPACK) on :math:`(L + sI)^{-1}` with a sparse LU
  factorisation (SuperLU); the CPU method for large graphs, where a 2-D-like Laplacian
  factorises cheaply and the inverse separates the small eigenvalues in a handful of steps.
- ``"lobpcg"``: block LOBPCG in torch, device-agnostic (the GPU method), warm-startable.
  Written here because ``torch.lobpcg`` cannot deflate a known null vector and is fragile
  in float32; SciPy's runs on the CPU only.

A known null vector ``u`` (the constant vector of a connected graph's Laplacian) is deflated
exactly: dense adds :math:`c\,uu^\top` with :math:`c` above the spectrum, the iterative
methods keep their iterates orthogonal to ``u``.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from .results import ConvergenceWarning
from .runtime import randn, torch_generator

METHODS = ("auto", "dense", "shift_invert", "lobpcg")
# Below this size a dense eigh beats every sparse method on the CPU (measured: n=1024
# dense eigh ~0.05 s, shift-invert ~0.01 s but with larger constant costs on weighted graphs).
DENSE_MAX_NODES = 600


@dataclass(frozen=True)
class EigenPairs:
    """Ascending eigenvalues ``values`` (k,) and orthonormal eigenvectors ``vectors`` (n, k)."""

    values: torch.Tensor
    vectors: torch.Tensor
    method: str
    nit: int = 0


def smallest_eigenpairs(
    matrix, k, *, null_vector=None, method="auto", tol=None, x0=None, max_iter=None, seed=0
):
    """The ``k`` smallest eigenpairs of ``matrix`` orthogonal to ``null_vector``.

    Parameters
    ----------
    matrix : torch.Tensor
        Symmetric PSD, sparse CSR/COO or dense, shape (n, n).
    k : int
        Number of eigenpairs, ``1 <= k < n`` (``k <= n - 1`` with a null vector).
    null_vector : torch.Tensor, optional
        Unit vector to deflate.
    method : {"auto", "dense", "shift_invert", "lobpcg"}
        "auto": dense for small n, else shift-invert on the CPU and LOBPCG elsewhere.
    tol : float, optional
        Relative residual tolerance of the iterative methods (default: ``finfo.eps ** 0.5``).
    x0 : torch.Tensor, optional
        Warm start, (n,) or (n, j): previous eigenvectors.
    max_iter : int, optional
        Iteration cap of the iterative methods.
    seed : int or generator
        For random starting blocks.

    Returns
    -------
    EigenPairs
    """
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}; got {method!r}")
    n = matrix.shape[0]
    available = n - (null_vector is not None)
    if not 1 <= k <= available:
        raise ValueError(f"`k` must be between 1 and {available}; got {k!r}")
    if tol is None:
        tol = float(torch.finfo(matrix.dtype).eps) ** 0.5
    if method == "auto":
        if n <= DENSE_MAX_NODES or 3 * k >= available:
            method = "dense"
        elif matrix.device.type == "cpu":
            method = "shift_invert"
        else:
            method = "lobpcg"
    if method == "dense":
        return _dense(matrix, k, null_vector)
    if method == "shift_invert":
        return _shift_invert(matrix, k, null_vector, tol, x0, max_iter, seed)
    return _lobpcg(matrix, k, null_vector, tol, x0, max_iter, seed)


def _dense(matrix, k, null_vector):
    dense = matrix.to_dense() if matrix.layout != torch.strided else matrix
    dense = 0.5 * (dense + dense.T)
    if null_vector is not None:
        # Lift u's eigenvalue above the spectrum (Gershgorin bound on lambda_max).
        lift = 2.0 * dense.abs().sum(dim=1).max() + 1.0
        dense = dense + lift * torch.outer(null_vector, null_vector)
    values, vectors = torch.linalg.eigh(dense)
    return EigenPairs(values[:k], vectors[:, :k], "dense")


def _to_scipy(matrix):
    import scipy.sparse as sps

    csr = matrix.to_sparse_csr() if matrix.layout != torch.sparse_csr else matrix
    csr = csr.to("cpu", torch.float64)
    return sps.csr_array(
        (csr.values().numpy(), csr.col_indices().numpy(), csr.crow_indices().numpy()),
        shape=tuple(matrix.shape),
    )


def _project_out(block, null_vector):
    if null_vector is None:
        return block
    return block - null_vector[:, None] * (null_vector @ block)[None, :]


def _shift_invert(matrix, k, null_vector, tol, x0, max_iter, seed):
    import scipy.sparse as sps
    import scipy.sparse.linalg as spla

    laplacian = _to_scipy(matrix)
    n = laplacian.shape[0]
    diagonal = laplacian.diagonal()
    # A small positive shift makes L + sI definite; the null direction, with the huge
    # eigenvalue 1/s of the inverse, is projected out, so s barely affects convergence.
    shift = 1e-7 * max(float(np.abs(diagonal).mean()), np.finfo(float).tiny)
    factor = spla.splu(
        (laplacian + shift * sps.identity(n, format="csr")).tocsc(),
        permc_spec="MMD_AT_PLUS_A",
        diag_pivot_thresh=0.0,
        options={"SymmetricMode": True},
    )
    u = None if null_vector is None else null_vector.detach().to("cpu", torch.float64).numpy()

    def project(x):
        return x if u is None else x - u * (u @ x)

    def apply_inverse(x):
        return project(factor.solve(project(np.asarray(x, dtype=float).ravel())))

    operator = spla.LinearOperator((n, n), matvec=apply_inverse, dtype=float)
    if x0 is not None:
        start = x0.detach().to("cpu", torch.float64).reshape(n, -1).sum(dim=1).numpy()
    else:
        generator = torch_generator(seed)
        start = randn((n,), generator=generator, device="cpu", dtype=torch.float64).numpy()
    start = project(start)
    # A few more Lanczos vectors than ARPACK's default 2k+1 cut restarts: measured 2-4x faster
    # on 10^5-node grids and geometric graphs (ncv=20 was slower again).
    _, vectors = spla.eigsh(
        operator, k=k, which="LM", v0=start, tol=tol, ncv=min(n - 1, max(2 * k + 1, k + 7)),
        maxiter=max_iter or max(1000, 10 * n),
    )
    vectors = torch.as_tensor(vectors, dtype=matrix.dtype, device=matrix.device)
    return _rayleigh_ritz(matrix, vectors, null_vector, "shift_invert")


def _rayleigh_ritz(matrix, basis, null_vector, method, nit=0):
    """Best approximations within span(basis): more accurate eigenvalues than the inverse's."""
    basis = _orthonormal(_project_out(basis, null_vector))
    projected = basis.T @ (matrix @ basis)
    values, coefficients = torch.linalg.eigh(0.5 * (projected + projected.T))
    return EigenPairs(values, basis @ coefficients, method, nit)


def _orthonormal(block):
    """An orthonormal basis of span(block) by SVQB (Stathopoulos & Wu 2002), dropping
    directions the block does not really span, so ill-conditioned LOBPCG blocks stay stable."""
    scale = block.norm(dim=0).clamp_min(torch.finfo(block.dtype).tiny)
    block = block / scale
    for _ in range(2):  # a second pass restores orthogonality lost to rounding
        gram = block.T @ block
        values, vectors = torch.linalg.eigh(0.5 * (gram + gram.T))
        keep = values > values.max() * torch.finfo(block.dtype).eps * block.shape[1] * 10
        block = block @ (vectors[:, keep] * values[keep].rsqrt())
    return block


def _lobpcg(matrix, k, null_vector, tol, x0, max_iter, seed):
    # Knyazev (2001), "Toward the optimal preconditioned eigensolver: LOBPCG", Algorithm 4.1,
    # with a Jacobi preconditioner and the Rayleigh-Ritz step done on an SVQB basis.
    n = matrix.shape[0]
    device, dtype = matrix.device, matrix.dtype
    diagonal = _diagonal(matrix)
    norm_bound = float(2.0 * diagonal.abs().max().clamp_min(torch.finfo(dtype).tiny))
    inverse_diagonal = torch.where(diagonal > 0, 1.0 / diagonal.clamp_min(1e-300), 1.0)
    block = randn((n, k), generator=torch_generator(seed), device=device, dtype=dtype)
    if x0 is not None:
        warm = x0.to(device, dtype).reshape(n, -1)[:, :k]
        block[:, : warm.shape[1]] = warm
    pairs = _rayleigh_ritz(matrix, block, null_vector, "lobpcg")
    values, block = pairs.values[:k], pairs.vectors[:, :k]
    previous_direction = None
    max_iter = max_iter or max(200, min(n, 5000))
    for iteration in range(1, max_iter + 1):
        residual = matrix @ block - block * values
        residual_norms = residual.norm(dim=0)
        if bool((residual_norms <= tol * norm_bound).all()):
            return EigenPairs(values, block, "lobpcg", iteration)
        direction = _project_out(residual * inverse_diagonal[:, None], null_vector)
        parts = [block, direction] + ([previous_direction] if previous_direction is not None else [])
        pairs = _rayleigh_ritz(matrix, torch.cat(parts, dim=1), null_vector, "lobpcg")
        new_block = pairs.vectors[:, :k]
        previous_direction = new_block - block @ (block.T @ new_block)
        values, block = pairs.values[:k], new_block
    warnings.warn(
        f"LOBPCG stopped after {max_iter} iterations (residual {float(residual_norms.max()):.1e}"
        f" > tol={tol:.1e} x {norm_bound:.1e}); raise max_iter or tol.",
        ConvergenceWarning,
        stacklevel=3,
    )
    return EigenPairs(values, block, "lobpcg", max_iter)


def _diagonal(matrix):
    if matrix.layout == torch.strided:
        return matrix.diagonal().clone()
    coo = matrix.to_sparse_coo().coalesce()
    row, col = coo.indices()
    on_diagonal = row == col
    return torch.zeros(matrix.shape[0], device=matrix.device, dtype=matrix.dtype).index_add_(
        0, row[on_diagonal], coo.values()[on_diagonal]
    )
