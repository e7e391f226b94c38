r"""Certified upper bounds on the max cut from any Burer–Monteiro point.

For the SDP :math:`\max \tfrac14\langle L, X\rangle,\ \operatorname{diag}X = 1,\ X\succeq 0`,
weak duality gives, for every :math:`\nu` with :math:`\operatorname{Diag}(\nu) - L \succeq 0`,
max cut :math:`\le` SDP :math:`\le \tfrac14\sum_i\nu_i`. From a point Y take
:math:`\mu_i = (LYY^\top)_{ii}` and :math:`\nu = \mu + \delta\mathbf 1`: the bound is
:math:`\tfrac14(\sum_i\mu_i + n\delta)` for any :math:`\delta \ge -\lambda_{\min}(S)`,
:math:`S = \operatorname{Diag}(\mu) - L = A - \operatorname{Diag}(\lambda)` with
:math:`\lambda_i = \langle (AY)_i, Y_i\rangle`.

An iterative eigensolver's :math:`\lambda_{\min}` sits *above* the true value, so it cannot
prove anything. A shift :math:`\delta` is accepted only when a Cholesky factorisation of
:math:`S + \delta I`, shifted down further by a rounding margin, succeeds (Rump's verification
of positive definiteness); Gershgorin's theorem gives a shift that needs no factorisation.
"""

import math
import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from ..core.sparse import scipy_to_torch_csr

# Above this many nodes on the CPU, a sparse LDLᵀ (SuperLU with diagonal pivots) replaces dense
# Cholesky: at 5 000 nodes they cost about the same on Gset graphs; beyond, dense grows as n³.
DENSE_LIMIT = 3000
# On a GPU, dense Cholesky up to this many nodes: 3.2 GB of float64 on the device (the dense
# matrix was once built for every n, on the host: out of memory near 10⁵ nodes). Not measured
# on a GPU yet; above it the host's sparse LDLᵀ runs as on the CPU.
GPU_DENSE_LIMIT = 20000


def rounding_margin(diagonal, n):
    """Shift that makes a floating-point Cholesky success a proof of definiteness.

    Rump (BIT 46, 2006, Theorem 2.3 with :math:`\\gamma_{k} = ku/(1-ku)`): if Cholesky of
    :math:`M - cI` succeeds in floating point with :math:`c \\ge \\gamma_{n+1}/(1-\\gamma_{n+1})
    \\operatorname{tr} M` (and no underflow), then M is positive definite. We double it.
    """
    u = np.finfo(np.float64).eps / 2
    gamma = (n + 1) * u / (1 - (n + 1) * u)
    return 2 * gamma / (1 - gamma) * float(np.abs(diagonal).sum()) + 1e-300


def slack_matrix(matrix, rowdot):
    """S = A - Diag(λ) as a SciPy CSC matrix (float64, on the CPU), A a SciPy matrix."""
    return (matrix - sp.diags(rowdot.to("cpu", torch.float64).numpy())).tocsc()


def factorisation_seconds(n):
    """Rough cost of one test, measured on Gset with 2 CPU cores: dense Cholesky 0.04 s at
    800 nodes and 0.12 s at 2 000; sparse LDLᵀ 0.45 s at 5 000 (G55)."""
    return 0.01 + (0.015 * (n / 1000) ** 3 if n <= DENSE_LIMIT else 1e-4 * n)


def is_positive_definite(S, shift, *, device=None):
    """Whether :math:`S + \\text{shift}\\,I` is proven positive definite (rounding included)."""
    n = S.shape[0]
    diagonal = S.diagonal() + shift
    if (diagonal <= 0).any():
        return False
    margin = rounding_margin(diagonal, n)
    shifted = S + sp.identity(n, format="csc") * (shift - margin)
    on_gpu = device is not None and torch.device(device).type != "cpu"
    if n <= DENSE_LIMIT and not on_gpu:
        _, info = torch.linalg.cholesky_ex(torch.from_numpy(shifted.toarray()))
        return int(info) == 0
    if on_gpu and n <= GPU_DENSE_LIMIT:
        # Sent sparse and densified on the device: m entries cross the bus, not n².
        dense = scipy_to_torch_csr(shifted, device=device).to_dense()
        _, info = torch.linalg.cholesky_ex(dense)
        return int(info) == 0
    # Gaussian elimination without pivoting is LDLᵀ; on a positive definite matrix all pivots
    # are positive and none is rejected. SuperLU may still swap rows: then the test is void.
    try:
        factor = spla.splu(
            shifted, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )
    except RuntimeError:  # exactly singular pivot
        return False
    if not np.array_equal(factor.perm_r, factor.perm_c):
        return False
    return bool((factor.U.diagonal() > 0).all())


def gershgorin_shift(S):
    """A δ with :math:`S + \\delta I \\succeq 0`, from Gershgorin's discs (always valid)."""
    off = abs(S - sp.diags(S.diagonal())).sum(axis=1).A1
    return max(0.0, float((off - S.diagonal()).max()))


def smallest_eigenpair(S, *, seed=0):
    """Estimate of :math:`\\lambda_{\\min}(S)` and its eigenvector (Lanczos; not a proof).
    ``seed`` (an int) draws the Lanczos start."""
    n = S.shape[0]
    if n <= 64:
        values, vectors = np.linalg.eigh(S.toarray())
        return float(values[0]), vectors[:, 0]
    v0 = np.random.default_rng(seed).standard_normal(n)
    try:
        values, vectors = spla.eigsh(S, k=1, which="SA", v0=v0, tol=1e-6, maxiter=300)
    except spla.ArpackNoConvergence as error:
        if not len(error.eigenvalues):
            return 0.0, v0
        values, vectors = error.eigenvalues, error.eigenvectors
    return float(values[0]), vectors[:, 0]


def certified_shift(S, start, *, device=None, growth=8.0, max_tries=6, deadline=math.inf):
    """A verified δ: the first of ``start``·growthᵏ that factorises (tried until
    ``deadline``, a ``time.perf_counter()`` value), else Gershgorin's."""
    limit = gershgorin_shift(S)
    shift = max(start, 1e-12 * max(limit, 1.0))
    for _ in range(max_tries):
        if shift >= limit or time.perf_counter() + factorisation_seconds(S.shape[0]) > deadline:
            break
        if is_positive_definite(S, shift, device=device):
            return shift
        shift *= growth
    return limit
