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

On large graphs without small separators (random, expanders) every factorisation fills in:
an LDLᵀ of gnm(10⁴, 2.5·10⁴) took 4.2 s and of gnm(2·10⁴, 5·10⁴) over 30 s. There the shift
comes from Lanczos with a random start instead (:func:`randomized_shift`): Kuczyński and
Woźniakowski's bound makes its estimate an upper bound on :math:`-\lambda_{\min}(S)` except
with a probability chosen in advance (:data:`FAILURE_PROBABILITY`), at a cost of a few
thousand sparse products. The bound is then certified in that sense, and says so.
"""

import math
import time

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from ..core.eigensolvers import factorisation_fills_in
from ..core.sparse import scipy_to_torch_csr

# Above this many nodes on the CPU, a sparse LDLᵀ (SuperLU with diagonal pivots) replaces dense
# Cholesky: at 5 000 nodes they cost about the same on Gset graphs; beyond, dense grows as n³.
DENSE_LIMIT = 3000
# On a GPU, dense Cholesky up to this many nodes: 3.2 GB of float64 on the device (the dense
# matrix was once built for every n, on the host: out of memory near 10⁵ nodes). Not measured
# on a GPU yet; above it the host's sparse LDLᵀ runs as on the CPU.
GPU_DENSE_LIMIT = 20000
# On the CPU, from this many nodes a graph whose factorisation fills in (see
# core.eigensolvers.factorisation_fills_in) gets the randomized certificate: an LDLᵀ takes 4 s
# and more there (above), a randomized shift 1-3 s at 2·10⁴ nodes (tol 1e-3 to 1e-4), and a
# check that cannot succeed yet 0.1 s.
RANDOMIZED_MIN_NODES = 8000
# What a randomized certificate may get wrong: the probability, over its random start, that
# its shift is below -λ_min(S) (then the bound could be below the SDP value).
FAILURE_PROBABILITY = 1e-9
# Lanczos steps at most (each a sparse product): the accuracy then asked of the shift is
# out of reach and the certificate keeps the best it gets.
MAX_LANCZOS_STEPS = 20000


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
    return max(0.0, -_gershgorin_interval(S)[1])


def smallest_eigenpair(S, *, seed=0):
    """Estimate of :math:`\\lambda_{\\min}(S)` and its eigenvector (Lanczos; not a proof).
    ``seed`` (an int) draws the Lanczos start."""
    values, vectors = _smallest_eigenpairs(S, 1, seed=seed, tol=1e-6)
    if not len(values):  # ARPACK converged nothing
        return 0.0, np.random.default_rng(seed).standard_normal(S.shape[0])
    return float(values[0]), vectors[:, 0]


def negative_curvature(S, below, count, *, seed=0):
    """Estimates of up to ``count`` eigenpairs of S with eigenvalues below ``below``
    (Lanczos at a loose tolerance, 1e-2: directions are all that is wanted; at 1e-6 ARPACK
    did not converge within 300 iterations on G58's slack, at 1e-2 it took 0.2-0.5 s).
    Returns (values, vectors as columns); none when ARPACK does not converge."""
    values, vectors = _smallest_eigenpairs(S, count, seed=seed, tol=1e-2)
    keep = values < below
    return values[keep], vectors[:, keep]


def _smallest_eigenpairs(S, count, *, seed, tol):
    """Up to ``count`` smallest eigenpairs of S: exact for n <= 64, else Lanczos from a
    seeded start (300 restarts at most; what converged when that runs out)."""
    n = S.shape[0]
    if n <= 64:
        values, vectors = np.linalg.eigh(S.toarray())
        return values[:count], vectors[:, :count]
    v0 = np.random.default_rng(seed).standard_normal(n)
    try:
        return spla.eigsh(S, k=min(count, n - 2), which="SA", v0=v0, tol=tol, maxiter=300)
    except spla.ArpackNoConvergence as error:
        return error.eigenvalues, error.eigenvectors


def uses_randomized_certificate(matrix, device, certificate):
    """Whether the bound of this graph (its SciPy adjacency) comes from
    :func:`randomized_shift`: ``certificate`` is "randomized", or "auto" on a large graph
    whose factorisation fills in on the CPU."""
    if certificate != "auto":
        return certificate == "randomized"
    n = matrix.shape[0]
    on_cpu = device is None or torch.device(device).type == "cpu"
    return on_cpu and n >= RANDOMIZED_MIN_NODES and factorisation_fills_in(matrix)


def randomized_seconds(S, accuracy):
    """Rough cost of :func:`randomized_shift` (2 CPU cores: 0.5 ms a step at 2·10⁴ nodes and
    10⁵ entries)."""
    return 0.01 + 2e-9 * _lanczos_steps(S, accuracy) * (S.nnz + 10 * S.shape[0])


def _lanczos_steps(S, accuracy):
    """Steps after which Kuczyński and Woźniakowski's ε times the spread is ``accuracy``."""
    top, bottom = _gershgorin_interval(S)
    epsilon = min(0.5, max(accuracy, 1e-300) / max(top - bottom, 1e-300))
    return min(MAX_LANCZOS_STEPS,
               math.ceil((_failure_logarithm(S.shape[0]) / math.sqrt(epsilon) + 1) / 2))


def _failure_logarithm(n):
    """log(1.648 sqrt(n) / FAILURE_PROBABILITY): after k steps, Kuczyński and
    Woźniakowski's bound on the failure probability is FAILURE_PROBABILITY times
    exp(this - sqrt(ε) (2k - 1))."""
    return math.log(1.648 * math.sqrt(n) / FAILURE_PROBABILITY)


def _gershgorin_interval(S):
    """(upper, lower): every eigenvalue of S lies between them (Gershgorin's discs)."""
    diagonal = S.diagonal()
    radius = np.asarray(abs(S - sp.diags(diagonal)).sum(axis=1)).ravel()
    return float((diagonal + radius).max()), float((diagonal - radius).min())


def randomized_shift(S, accuracy, *, seed, stop_above=math.inf):
    r"""A δ with :math:`S + \delta I \succeq 0` except with probability at most
    :data:`FAILURE_PROBABILITY`, about ``accuracy`` above :math:`-\lambda_{\min}(S)`; and
    the estimate of :math:`-\lambda_{\min}(S)` it comes from.

    With c ≥ λ_max(S) from Gershgorin, X = cI - S is positive semidefinite and
    :math:`\lambda_{\max}(X) = c - \lambda_{\min}(S)`. After k Lanczos steps on X from a
    start uniform on the sphere, the largest Ritz value θ satisfies
    :math:`P(\theta < (1-\varepsilon)\lambda_{\max}(X)) \le 1.648\sqrt n\,
    e^{-\sqrt\varepsilon(2k-1)}` (Kuczyński and Woźniakowski 1992, Theorem 4.2); ε is
    chosen to make that :data:`FAILURE_PROBABILITY`, and then :math:`\lambda_{\max}(X) \le
    \theta/(1-\varepsilon)`. In floating point, Lanczos without reorthogonalisation keeps
    the Chebyshev convergence of its extreme Ritz value up to rounding terms (Druskin and
    Knizhnerman 1991; Greenbaum 1989), for which 64 k u ‖X‖ is added.

    θ - c never exceeds :math:`-\lambda_{\min}(S)`: once it passes ``stop_above`` the
    iterations stop and the shift returned is infinite (a check that cannot succeed costs a
    few hundred steps, not thousands). ``seed`` (an int) draws the start.
    """
    n = S.shape[0]
    top, bottom = _gershgorin_interval(S)
    steps = _lanczos_steps(S, accuracy)
    q = np.random.default_rng(seed).standard_normal(n)
    q /= np.linalg.norm(q)
    previous = np.zeros(n)
    alphas, betas, beta = [], [], 0.0
    for step in range(1, steps + 1):
        w = top * q - S @ q - beta * previous
        alpha = float(q @ w)
        w -= alpha * q
        alphas.append(alpha)
        beta = float(np.linalg.norm(w))
        if beta <= 1e-12 * (top - bottom):  # an invariant subspace: θ is exact
            break
        betas.append(beta)
        previous, q = q, w / beta
        if step % 100 == 0:
            estimate = _largest_ritz_value(alphas, betas) - top
            if estimate > stop_above:
                return math.inf, estimate
    k = len(alphas)
    theta = _largest_ritz_value(alphas, betas)
    epsilon = (_failure_logarithm(n) / (2 * k - 1)) ** 2
    gershgorin = max(0.0, -bottom)  # gershgorin_shift(S)
    if epsilon >= 1:
        return gershgorin, theta - top  # too few steps to say more than Gershgorin
    spread = top - bottom  # ≥ ‖X‖
    largest = theta / (1 - epsilon) + 64 * k * np.finfo(float).eps * spread
    return min(max(0.0, largest - top), gershgorin), theta - top


def _largest_ritz_value(alphas, betas):
    """The largest eigenvalue of the Lanczos tridiagonal matrix (bisection, O(k))."""
    k = len(alphas)
    return float(sla.eigvalsh_tridiagonal(
        np.array(alphas), np.array(betas[:k - 1]), select="i", select_range=(k - 1, k - 1),
    )[0])


def certified_shift(S, start, *, device=None, growth=8.0, max_tries=6, deadline=math.inf,
                    factorise=True):
    """A verified δ: the first of ``start``·growthᵏ that factorises (tried until
    ``deadline``, a ``time.perf_counter()`` value), else Gershgorin's (at once when not
    ``factorise``)."""
    limit = gershgorin_shift(S)
    shift = max(start, 1e-12 * max(limit, 1.0))
    for _ in range(max_tries if factorise else 0):
        if shift >= limit or time.perf_counter() + factorisation_seconds(S.shape[0]) > deadline:
            break
        if is_positive_definite(S, shift, device=device):
            return shift
        shift *= growth
    return limit
