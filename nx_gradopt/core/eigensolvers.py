r"""The few smallest eigenpairs of a symmetric positive semidefinite (Laplacian) matrix.

One entry point, :func:`smallest_eigenpairs`, four methods:

- ``"dense"``: ``torch.linalg.eigh``; exact, for small matrices, any device.
- ``"shift_invert"``: Lanczos (SciPy's ARPACK) on :math:`(L + sI)^{-1}` with a sparse LU
  factorisation (SuperLU); the CPU method for large graphs, where a 2-D-like Laplacian
  factorises cheaply and the inverse separates the small eigenvalues in a handful of steps.
- ``"lanczos"``: Lanczos on :math:`L` itself, for the smallest eigenvalues; the CPU method for
  nearly regular small-world graphs and small ones, where the LU fills in. One pair (the
  Fiedler pair) by Lanczos without reorthogonalisation and a second pass for the vector;
  several, or when that fails, by ARPACK.
- ``"lobpcg"``: block LOBPCG in torch, Jacobi-preconditioned, device-agnostic (the GPU
  method), warm-startable; on the CPU, for large small-world graphs whose degrees vary.
  Written here because ``torch.lobpcg`` cannot deflate a known null vector and is fragile
  in float32; SciPy's runs on the CPU only.

A known null vector ``u`` (the constant vector of a connected graph's Laplacian) is deflated
exactly: dense adds :math:`c\,uu^\top` with :math:`c` above the spectrum, the iterative
methods keep their iterates orthogonal to ``u``.
"""

import itertools
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from .results import ConvergenceWarning
from .runtime import randn, single_threaded_blas, torch_generator

METHODS = ("auto", "dense", "shift_invert", "lanczos", "lobpcg")
# LOBPCG iterations without halving the worst relative residual after which a float32 run
# near its rounding floor continues in float64.
STALL = 10
# Below this size a dense eigh beats every sparse method on the CPU (measured: n=1024
# dense eigh ~0.05 s, shift-invert ~0.01 s but with larger constant costs on weighted graphs).
DENSE_MAX_NODES = 600
# Shift-invert's sparse LU fills in on homogeneous small-world graphs (random, rewired,
# regular, block models), which have no small separators; LOBPCG's cost does not depend on
# that. Measured (algebraic_connectivity, 2 cores), LU against LOBPCG: G(10^4, 10^-3) 14.1 s
# against 0.18 s, connected Watts-Strogatz (2*10^4, 6, 0.1) 7.2 against 2.2 s, random
# 4-regular (10^4) 5.2 against 0.9 s, a 5-block SBM (10^4) 17.8 against 0.3 s. Graphs with a
# long way across (grids 0.34 against 5.2 s, geometric graphs 1.2 against 8.1 s, the US
# power grid 0.02 against 4.3 s) or a heavy-tailed degree sequence, whose minimum-degree
# ordering eliminates the periphery around the hubs cheaply (AS graph 0.05 against 0.49 s,
# ca-GrQc 0.08 against 0.63 s, Facebook 0.53 against 1.0 s), factorise well. Small-world:
# a breadth-first search from the largest-degree node reaches every node within
# SMALL_WORLD_DEPTH * ln n levels (the homogeneous ones above: 0.65-1.41; grids, geometric
# graphs and road or power networks: 3.8 and more). Homogeneous: degree standard deviation
# below HOMOGENEOUS_SPREAD of the mean (0-0.32 above; the heavy-tailed ones 1.2-6.4).
# There, plain Lanczos on L beats LOBPCG in turn (1 and 4 pairs, tol 1.5e-8): G(10^4, 10^-3)
# 0.08 / 0.14 s against 0.21 / 0.21 s, Watts-Strogatz (10^4) 0.16 / 0.25 s against 0.92 /
# 2.35 s, random 4-regular (10^4) 0.16 / 0.25 s against 0.68 / 1.55 s.
SMALL_WORLD_DEPTH = 2.0
HOMOGENEOUS_SPREAD = 0.6
# Heavy-tailed graphs factorise well through their periphery of low-degree nodes; without
# one (fewer than CORELESS_PERIPHERY of the nodes below degree 3: Barabasi-Albert or
# Holme-Kim graphs with m >= 3, where real networks have 5-80 %) a small-world one fills in
# too. There LOBPCG (Jacobi-preconditioned, which suits the heavy tail) wins, and Lanczos
# does not: Barabasi-Albert (n, 3), shift-invert / Lanczos / LOBPCG: n = 10^4 2.6 / 1.7 /
# 0.45 s, 3 * 10^4 53 / 93 / 0.80 s, 10^5 over 8 minutes for shift-invert, 1.8 s for LOBPCG;
# Holme-Kim (10^4, 3, 0.5) 1.1 s / - / 0.19 s. Barabasi-Albert (10^4, 2), whose 3-core is
# empty, stays with shift-invert (0.66 against 1.28 s).
CORELESS_PERIPHERY = 0.01
# ... from this many nodes up. Below it Lanczos is faster still (Barabasi-Albert (n, 3),
# Lanczos / LOBPCG / NetworkX's fastest, its lanczos: n = 1000 0.028 / 0.048 / 0.032 s,
# 2000 0.082 / 0.111 / 0.072 s, 5000 0.49 / 0.25 / 0.32 s).
CORELESS_LOBPCG_MIN_NODES = 3000
# Homogeneous graphs whose degrees still vary (standard deviation at least JACOBI_SPREAD of
# the mean: random graphs, block models) go to LOBPCG too from VARIED_LOBPCG_MIN_NODES up:
# its Jacobi preconditioner pays where degrees vary, and is a mere scaling on nearly regular
# graphs (Watts-Strogatz 0.13, random regular 0), where Lanczos stays the better Krylov
# method. Measured (algebraic_connectivity, largest component, best of three calls),
# Lanczos / LOBPCG: G(n, 10/n) (spread 0.32) n = 10^4 0.14 / 0.12 s, 2 * 10^4 0.57 / 0.33 s,
# 10^5 2.0 / 1.1 s; G(n, 20/n) (0.22) 10^5 2.0 / 1.5 s; a 5-block model (0.32) 10^4 0.16 /
# 0.20 s, 5 * 10^4 2.2 / 0.95 s; Watts-Strogatz (n, 6, 0.1) 2 * 10^4 0.54 / 1.3 s, 10^5
# 3.9 / 3.7 s; random 4-regular 2 * 10^4 0.84 / 1.7 s, 10^5 4.3 / 5.0 s.
JACOBI_SPREAD = 0.2
VARIED_LOBPCG_MIN_NODES = 20000
# ARPACK's Lanczos vectors (its ncv; ARPACK computes several pairs, and one where the method
# below fails), more on large graphs, whose spectra are denser at the bottom: fewer restarts
# then outweigh the longer orthogonalisations. algebraic_connectivity when ARPACK computed
# its pair, ncv 20 / 60, best of three: Watts-Strogatz (n, 6, 0.1) 5 * 10^4 0.90 / 1.14-1.17 s,
# 10^5 3.9-5.3 / 2.9-3.5 s; random 4-regular 5 * 10^4 1.86-1.92 / 1.64-1.77 s, 10^5 4.8-5.6 /
# 3.8-4.2 s; at 10^4 and below 60 was up to 3.5x slower (random 4-regular, 2000 nodes).
# Where the time goes (2026-12-03, Watts-Strogatz (10^5, 6, 0.1), ncv 60): 694 products
# with L at 1.2 ms each make 0.8 s of ARPACK's 4.1-4.4 s; the rest is the restarts'
# orthogonalisation against up to 60 vectors.
LANCZOS_VECTORS = 20
LARGE_LANCZOS_VECTORS = 60
LARGE_LANCZOS_MIN_NODES = 80000
# Several pairs (the lambda_2 optimiser asks for 6 to 12, plus the null vector's) get at least
# LANCZOS_VECTORS_PER_PAIR vectors each: its weights pack the small eigenvalues together.
# Measured (2026-12-06, one BLAS thread) on connected_watts_strogatz_graph(20000, 6, 0.1)
# with the weights of 60 s of optimisation (its 6 smallest within 1 % of each other),
# perturbed by 1 %, from the last eigenvectors: 7 pairs with 20 / 30 / 40 / 60 / 80 vectors
# 3.6 / 1.9 / 1.9 / 1.7 / 2.1 s; 13 pairs with 30 / 40 / 60 / 80 vectors 8.4 / 3.3 / 2.6 /
# 3.1 s. At the uniform weights 7 pairs with 20 and 40 vectors took 0.41 and 0.45 s there,
# 0.13 and 0.14 s on a random 4-regular graph of 10 000 nodes.
LANCZOS_VECTORS_PER_PAIR = 5
# One pair needs none of that orthogonalisation: Lanczos without reorthogonalisation (Paige
# 1976; Cullum & Willoughby 1985) keeps three vectors, stops as soon as the smallest Ritz
# value's residual bound meets the tolerance (before rounding makes copies of it), and runs
# the recurrence again to assemble the Ritz vector; the eigenvalue alone needs one pass.
# Measured (one Fiedler pair, tol 1e-8, best of two), two passes / one pass / LOBPCG:
# Watts-Strogatz (10^5, 6, 0.1) 1.20 / 0.59 / 5.9 s (ARPACK, ncv 60: 4.2-4.6 s against two
# passes' 1.04 s in another hour); G(n, 10/n) 2 * 10^4 0.15 / 0.08 / 0.50 s, 5 * 10^4 0.48 /
# 0.24 / 0.34 s, 10^5 1.14 / 0.56 / 0.72 s; a 5-block model (5 * 10^4) 0.90 / 0.46 / 1.29 s;
# Barabasi-Albert (n, 3) 10^4 0.40 / 0.22 / 0.78 s, but from 3 * 10^4 more than
# TWO_PASS_MAX_STEPS steps (10^5: 2400; its lambda_max is the largest degree). So one
# eigenvalue alone goes to Lanczos on graphs with varied degrees too, and the rest of the
# choice of method above stands. The recurrence is a string of short BLAS-1 calls, which OpenBLAS's
# threads slowed tenfold (10.7 s on Watts-Strogatz 10^5), so it runs with one BLAS thread.
# A solve that has not converged in TWO_PASS_MAX_STEPS steps (Watts-Strogatz 10^5 took 360,
# random 4-regular 10^5 640), or whose vector's residual is off, goes to ARPACK.
TWO_PASS_MAX_STEPS = 1500
TWO_PASS_CHECK_EVERY = 20
# An eigenvalue in a tight cluster (lambda_2 of an optimised weighting is repeated by design:
# on arenas-email 19 eigenvalues lie within 1e-4 of it) is out of reach of a small Lanczos
# basis: shift-invert with ARPACK's 8 vectors ran 11 331 restarts (8.4 s) and failed, and
# plain Lanczos failed after 23 s. So a solve that has not converged after so many restarts
# starts again with twice the vectors. Shift-invert's solves took 1-3 restarts on grids,
# geometric graphs, road, power and e-mail networks; plain Lanczos's up to about 100
# (random 4-regular, 2 * 10^4 nodes, some starts). Shift-invert widens up to
# MAX_LANCZOS_VECTORS, which then run to the full iteration cap (on that cluster 8, 16 and
# 32 vectors failed and 64 converged: 0.85 s in all); plain Lanczos up to four times its
# vectors, and then factorises after all (4.7 s there).
SHIFT_INVERT_RESTARTS_PER_TRY = 100
LANCZOS_RESTARTS_PER_TRY = 300
MAX_LANCZOS_VECTORS = 256


@dataclass(frozen=True)
class EigenPairs:
    """Ascending eigenvalues ``values`` (k,) and orthonormal eigenvectors ``vectors`` (n, k),
    or None where they were not asked for and cost extra."""

    values: torch.Tensor
    vectors: torch.Tensor | None
    method: str
    nit: int = 0


def smallest_eigenpairs(
    matrix, k, *, null_vector=None, method="auto", tol=None, x0=None, max_iter=None, seed=0,
    vectors=True,
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
        "auto": dense for small n, else (on the CPU) Lanczos on homogeneous small-world
        graphs and shift-invert on the others, LOBPCG on other devices (see
        :func:`choose_method`). Any
        method is dense when 3k reaches the dimension left (the iterative subspaces do not fit).
    tol : float, optional
        Relative residual tolerance of the iterative methods (default: ``finfo.eps ** 0.5``;
        for LOBPCG, whose test is relative to each eigenvalue, at least 1e-6, which puts the
        eigenvalues within ~1e-12 relative).
    x0 : torch.Tensor, optional
        Warm start, (n,) or (n, j): previous eigenvectors.
    max_iter : int, optional
        Iteration cap of the iterative methods. For ARPACK, restarts: those of shift-invert's
        widest Lanczos basis, and at most LANCZOS_RESTARTS_PER_TRY at each of plain
        Lanczos's widths (see SHIFT_INVERT_RESTARTS_PER_TRY).
    seed : int or generator
        For random starting blocks.
    vectors : bool
        False: the eigenvalues are wanted alone, and ``vectors`` may be None where they cost
        extra (one pair by Lanczos then skips the second pass that assembles its vector).

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
        if method == "lobpcg" or (method == "auto" and matrix.device.type != "cpu"):
            # Measured on the λ₂ optimiser's warm-started solves (30 x 30 grid): 102 LOBPCG
            # iterations per evaluation at sqrt(eps64), 68 at 1e-6 (62 with the old absolute
            # test, which meant 2.4e-5 relative there).
            tol = max(tol, 1e-6)
    if 3 * k >= available:
        # The iterative methods' 3k-column subspaces do not fit: LOBPCG's block then lost
        # rank and returned a zero Fiedler vector of a triangle in 16 of 300 calls. SciPy's
        # lobpcg turns to a dense solver likewise.
        method = "dense"
    elif method == "auto":
        method = choose_method(matrix, one_value=k == 1 and not vectors)
    if method == "dense":
        return _dense(matrix, k, null_vector)
    if method == "shift_invert":
        return _shift_invert(matrix, k, null_vector, tol, x0, max_iter, seed)
    if method == "lanczos":
        return _lanczos(matrix, k, null_vector, tol, x0, max_iter, seed, vectors)
    return _lobpcg(matrix, k, null_vector, tol, x0, max_iter, seed)


def choose_method(matrix, *, one_value=False):
    """What ``method="auto"`` runs on this matrix: "dense" for small n; on the CPU, where a
    sparse LU fills in (a small-world graph, homogeneous or heavy-tailed without a
    periphery), "lobpcg" from CORELESS_LOBPCG_MIN_NODES nodes on a heavy-tailed one and from
    VARIED_LOBPCG_MIN_NODES on a homogeneous one whose degrees vary (unless ``one_value``:
    a single eigenvalue without its vector, which Lanczos computes in one pass), "lanczos"
    on the others; "shift_invert" where the LU does not fill in; "lobpcg" on other devices.
    For one solve of a few pairs, as the spectral functions make (the λ₂ optimiser, which
    wants many, keeps shift-invert)."""
    n = matrix.shape[0]
    if n <= DENSE_MAX_NODES:
        return "dense"
    if matrix.device.type != "cpu":
        return "lobpcg"
    kind = _fill_in_kind(_to_scipy(matrix))
    if kind is None:
        return "shift_invert"
    if kind == "coreless" and n >= CORELESS_LOBPCG_MIN_NODES:
        return "lobpcg"
    if kind == "varied" and n >= VARIED_LOBPCG_MIN_NODES and not one_value:
        return "lobpcg"
    return "lanczos"


def factorisation_fills_in(matrix):
    """Whether a sparse factorisation of this SciPy or torch matrix (a Laplacian, an
    adjacency: any with the graph's pattern) fills in: the graph is small-world and
    homogeneous or without a periphery (see SMALL_WORLD_DEPTH and CORELESS_PERIPHERY). The
    degrees, then one breadth-first search (as an unweighted Dijkstra, which is compiled),
    O(m log n)."""
    if isinstance(matrix, torch.Tensor):
        matrix = _to_scipy(matrix)
    return _fill_in_kind(matrix) is not None


def _fill_in_kind(matrix):
    """Why a factorisation fills in: "near_regular" (homogeneous, degrees within
    JACOBI_SPREAD of their mean), "varied" (homogeneous otherwise), "coreless" (heavy-tailed
    without a periphery), or None when it does not."""
    import math

    import scipy.sparse as sp
    import scipy.sparse.csgraph as csgraph

    laplacian = sp.csr_array(matrix)
    n = laplacian.shape[0]
    degrees = np.diff(laplacian.indptr) - (laplacian.diagonal() != 0)
    spread = degrees.std() / max(degrees.mean(), 1e-300)
    if spread < HOMOGENEOUS_SPREAD:
        kind = "near_regular" if spread < JACOBI_SPREAD else "varied"
    elif np.count_nonzero(degrees < 3) < CORELESS_PERIPHERY * n:
        kind = "coreless"
    else:
        return None
    # The pattern with unit weights: the Laplacian's negative entries make SciPy warn even
    # when it is told to ignore the weights.
    pattern = type(laplacian)((np.ones_like(laplacian.data), laplacian.indices,
                               laplacian.indptr), shape=laplacian.shape)
    levels = csgraph.dijkstra(pattern, indices=int(np.argmax(degrees)), unweighted=True)
    small_world = levels[np.isfinite(levels)].max() <= SMALL_WORLD_DEPTH * math.log(n)
    return kind if small_world else None


def _dense(matrix, k, null_vector):
    # In float64 whatever the working precision: float32 eigh is accurate to eps * ||L||
    # absolutely, and the lift below makes ||L|| large (lambda_2 of a 400-node weighted graph
    # came out 4e-4 too high, enough to stall the lambda_2 optimiser); n is small here.
    dense = matrix.to_dense() if matrix.layout != torch.strided else matrix
    dense = dense.to(torch.float64)
    dense = 0.5 * (dense + dense.T)
    if null_vector is not None:
        # Lift u's eigenvalue above the spectrum (Gershgorin bound on lambda_max).
        lift = 2.0 * dense.abs().sum(dim=1).max() + 1.0
        u = null_vector.to(torch.float64)
        dense = dense + lift * torch.outer(u, u)
    values, vectors = torch.linalg.eigh(dense)
    return EigenPairs(values[:k].to(matrix.dtype), vectors[:, :k].to(matrix.dtype), "dense")


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

    def apply_inverse(x):
        # A copy: x is ARPACK's workspace.
        return _orthogonal(factor.solve(_orthogonal(np.array(x, dtype=float).ravel(), u)), u)

    operator = spla.LinearOperator((n, n), matvec=apply_inverse, dtype=float)
    start = _orthogonal(_start_vector(n, x0, seed), u)
    # A few more Lanczos vectors than ARPACK's default 2k+1 cut restarts: measured 2-4x faster
    # on 10^5-node grids and geometric graphs (ncv=20 was slower again).
    try:
        vectors = _widening_eigsh(operator, k, "LM", start, tol, max(2 * k + 1, k + 7),
                                  MAX_LANCZOS_VECTORS, SHIFT_INVERT_RESTARTS_PER_TRY,
                                  max_iter or max(1000, 10 * n))
    except spla.ArpackNoConvergence:
        # Not seen; LOBPCG returns its best block with a ConvergenceWarning at worst.
        return _lobpcg(matrix, k, null_vector, tol, x0, max_iter, seed)
    return _rayleigh_ritz(matrix, laplacian, vectors, null_vector, "shift_invert", k)


def _widening_eigsh(operator, k, which, v0, tol, ncv, widest, restarts, max_iter):
    """ARPACK's eigenvectors, with ``ncv`` Lanczos vectors at first and twice as many after
    each ``restarts`` restarts without convergence, up to ``widest`` vectors, which get
    ``max_iter`` restarts; raises ArpackNoConvergence when they fail too."""
    import scipy.sparse.linalg as spla

    n = operator.shape[0]
    widest, ncv = min(n - 1, max(ncv, widest)), min(n - 1, ncv)
    while True:
        last = ncv >= widest
        try:
            return spla.eigsh(
                operator, k=k, which=which, v0=v0, tol=tol, ncv=ncv,
                maxiter=max_iter if last else min(max_iter, restarts),
            )[1]
        except spla.ArpackNoConvergence:
            if last:
                raise
        ncv = min(widest, 2 * ncv)


def _lanczos(matrix, k, null_vector, tol, x0, max_iter, seed, with_vectors=True):
    import scipy.sparse.linalg as spla

    laplacian = _to_scipy(matrix)
    n = laplacian.shape[0]
    v0 = _start_vector(n, x0, seed)
    u = None if null_vector is None else null_vector.detach().to("cpu", torch.float64).numpy()
    v0 = _orthogonal(v0, u)
    if k == 1:
        with single_threaded_blas():
            pair = _two_pass_lanczos(laplacian, u, v0, tol, with_vectors)
        if pair is not None:
            value, vector = pair
            if vector is not None:
                vector = torch.as_tensor(vector[:, None], dtype=matrix.dtype, device=matrix.device)
            return EigenPairs(torch.tensor([value], dtype=matrix.dtype, device=matrix.device),
                              vector, "lanczos")
    # ARPACK computes the null vector's eigenpair too, as the smallest, and the Rayleigh-Ritz
    # step drops it: ARPACK then multiplies by the sparse matrix itself, not by an operator
    # with the null vector lifted, whose Python-level products cost a third of the solve
    # (Barabasi-Albert (2000, 3): 691 products of 35 us against 20 us).
    extra = int(u is not None)
    ncv = LARGE_LANCZOS_VECTORS if n >= LARGE_LANCZOS_MIN_NODES else LANCZOS_VECTORS
    try:
        # Not up to MAX_LANCZOS_VECTORS with the full cap, as shift-invert: on the cluster
        # above that took 580 s.
        ncv = max(LANCZOS_VECTORS_PER_PAIR * (k + extra), ncv)
        restarts = min(max_iter or LANCZOS_RESTARTS_PER_TRY, LANCZOS_RESTARTS_PER_TRY)
        vectors = _widening_eigsh(laplacian, k + extra, "SA", v0, tol, ncv, 4 * ncv, restarts,
                                  restarts)
    except spla.ArpackNoConvergence:  # a graph the rule misjudged: factorise after all
        return _shift_invert(matrix, k, null_vector, tol, x0, max_iter, seed)
    if extra:
        # The null vector's own column projects to rounding noise, whose Rayleigh quotient
        # can be anything (0.046 against a lambda_2 of 1.25 on Barabasi-Albert (5000, 3)):
        # drop what is left of it.
        vectors = vectors - np.outer(u, u @ vectors)
        vectors = vectors[:, np.linalg.norm(vectors, axis=0) > 1e-6]
    # The null vector is projected out above already (or there is none).
    return _rayleigh_ritz(matrix, laplacian, vectors, None, "lanczos", k)


def _two_pass_lanczos(laplacian, null, start, tol, with_vector=True):
    """The smallest eigenpair (value, unit vector) of the symmetric SciPy matrix ``laplacian``
    orthogonal to the unit vector ``null`` (or None), by Lanczos without reorthogonalisation
    from ``start``; None when it has not converged within TWO_PASS_MAX_STEPS steps or the
    vector's residual misses ``tol`` (relative to the eigenvalue, as ARPACK's). Without the
    vector: (Ritz value, None), one pass."""
    import scipy.linalg as sla

    # Rounding level of a residual: eps times a bound on the norm (Gershgorin).
    floor = np.finfo(float).eps * max(2.0 * float(np.abs(laplacian.diagonal()).max()), 1e-300)
    alphas, betas = [], []
    for step, (_, alpha, beta) in enumerate(_lanczos_recurrence(laplacian, null, start), 1):
        alphas.append(alpha)
        betas.append(beta)
        exhausted = beta <= floor  # the Krylov space is invariant: its Ritz values are exact
        if step % TWO_PASS_CHECK_EVERY and step < TWO_PASS_MAX_STEPS and not exhausted:
            continue
        values, vectors = sla.eigh_tridiagonal(alphas, betas[:-1], select="i",
                                               select_range=(0, 0))
        # |theta - lambda| <= beta_j |s_j| holds in floating point too (Paige 1976).
        if exhausted or beta * abs(vectors[-1, 0]) <= max(tol * abs(values[0]), floor):
            break
        if step >= TWO_PASS_MAX_STEPS:
            return None
    if not with_vector:
        # The Ritz value lies within the residual bound of the eigenvalue (in practice
        # within the bound's square over the gap).
        return float(values[0]), None
    coefficients = vectors[:, 0]
    vector = np.zeros_like(start)
    recorded = _lanczos_recurrence(laplacian, null, start, (alphas, betas))
    for coefficient, (q, _, _) in zip(coefficients, recorded):
        vector += coefficient * q
    vector = _orthogonal(vector, null)
    vector /= np.linalg.norm(vector)
    image = laplacian @ vector
    value = float(vector @ image)
    residual = np.linalg.norm(_orthogonal(image - value * vector, null))
    if residual > max(10 * tol * abs(value), 100 * floor):
        return None
    return value, vector


def _lanczos_recurrence(laplacian, null, start, recorded=None):
    """Lanczos vectors q_j of ``laplacian`` from ``start``, kept orthogonal to ``null``, with
    their alpha_j = q_j . L q_j and beta_j (the next vector's scale): computed, or taken from
    ``recorded`` (alphas, betas) to rebuild the vectors of an earlier run."""
    from scipy.linalg import blas

    axpy = blas.get_blas_funcs("axpy", (start,))  # in place, without temporaries
    q = _orthogonal(start.copy(), null)
    q /= np.linalg.norm(q)
    previous, beta = np.zeros_like(q), 0.0
    for step in itertools.count():
        w = laplacian @ q
        alpha = float(q @ w) if recorded is None else recorded[0][step]
        w = axpy(q, w, a=-alpha)
        w = axpy(previous, w, a=-beta)
        # After the recurrence, which would otherwise amplify the rounding along the null
        # vector step after step (a zero Ritz value after 160 steps on Watts-Strogatz 10^4).
        w = _orthogonal(w, null)
        beta = float(np.linalg.norm(w)) if recorded is None else recorded[1][step]
        yield q, alpha, beta
        if beta == 0:
            return
        previous, q = q, w / beta


def _orthogonal(x, null):
    """``x`` with its part along the unit vector ``null`` removed (in place)."""
    if null is not None:
        x -= (null @ x) * null
    return x


def _start_vector(n, x0, seed):
    """ARPACK's start: the warm start's columns summed, or a seeded random vector."""
    if x0 is not None:
        return x0.detach().to("cpu", torch.float64).reshape(n, -1).sum(dim=1).numpy()
    generator = torch_generator(seed)
    return randn((n,), generator=generator, device="cpu", dtype=torch.float64).numpy()


def _rayleigh_ritz(matrix, laplacian, basis, null_vector, method, k):
    """The ARPACK methods' final step: the k best approximations within span(basis) (NumPy
    columns), more accurate eigenvalues than ARPACK's. On the host, in NumPy and SciPy as
    ARPACK ran: torch operations right after ARPACK waited for BLAS threads still spinning,
    and this step took 5.6 ms at 1000 nodes against 0.23 ms alone."""
    if null_vector is not None:
        u = null_vector.detach().to("cpu", torch.float64).numpy()
        basis = basis - np.outer(u, u @ basis)
    gram, projected = basis.T @ basis, basis.T @ (laplacian @ basis)
    values, coefficients = _ritz(gram, projected, k, np.finfo(np.float64).eps)
    return EigenPairs(torch.as_tensor(values, dtype=matrix.dtype, device=matrix.device),
                      torch.as_tensor(basis @ coefficients, dtype=matrix.dtype,
                                      device=matrix.device), method)


def _lobpcg(matrix, k, null_vector, tol, x0, max_iter, seed):
    # Knyazev (2001), "Toward the optimal preconditioned eigensolver: LOBPCG", with a Jacobi
    # preconditioner. The n x 3k block lives on the matrix's device; the small problems (the
    # SVQB orthonormalisation, Stathopoulos & Wu 2002, and the Rayleigh-Ritz step) are solved
    # on the host in float64 from the block's Gram matrices, fetched with the residual norms
    # in one copy: one host synchronisation per iteration (there were eight).
    #
    # Converged means ||r_i|| <= tol * lambda_i, relative to the eigenvalue sought (an
    # absolute test, tol * ||L||, accepted a Fiedler value of a 1 000-node path 270 % off in
    # float32). Near ~eps * ||L|| a residual is rounding noise and float32 LOBPCG wanders: a
    # float32 run that gets there, or stops improving there for STALL iterations, short of
    # the test restarts in float64 from its block.
    n = matrix.shape[0]
    diagonal = _diagonal(matrix)
    norm_bound = float(2.0 * diagonal.abs().max())
    if norm_bound == 0:
        norm_bound = 1.0
    inverse_diagonal = torch.where(diagonal > 0, 1.0 / diagonal.clamp_min(1e-300), 1.0)
    block = _start_block(matrix, k, x0, seed)
    state = _LobpcgState(matrix, inverse_diagonal, null_vector, block)
    max_iter = max_iter or max(200, min(n, 5000))
    best, best_at = np.inf, 0
    for iteration in range(1, max_iter + 1):
        values, norms = state.step()
        eps = float(torch.finfo(state.dtype).eps)
        wanted = np.maximum(tol * np.abs(values), 10 * eps * norm_bound)
        if (norms <= wanted).all():
            return state.pairs(matrix.dtype, iteration)
        progress = float((norms / wanted).max())
        if progress < 0.5 * best:
            best, best_at = progress, iteration
        noise = norms <= 100 * eps * norm_bound
        stalled = iteration - best_at >= STALL and (norms <= 1e4 * eps * norm_bound).all()
        if state.dtype != torch.float64 and (noise.all() or stalled):
            state, best, best_at = state.in_float64(), np.inf, iteration
    warnings.warn(
        f"LOBPCG stopped after {max_iter} iterations with relative residual "
        f"{float((norms / np.maximum(np.abs(values), 1e-300)).max()):.1e} > tol={tol:.1e}; "
        "raise max_iter or tol.",
        ConvergenceWarning,
        stacklevel=3,
    )
    return state.pairs(matrix.dtype, max_iter)


def _start_block(matrix, k, x0, seed):
    """The warm start's columns, with random columns only for those it lacks."""
    n, device, dtype = matrix.shape[0], matrix.device, matrix.dtype
    warm = None if x0 is None else x0.detach().to(device, dtype).reshape(n, -1)[:, :k]
    missing = k - (0 if warm is None else warm.shape[1])
    if missing == 0:
        return warm.clone()
    fresh = randn((n, missing), generator=torch_generator(seed), device=device, dtype=dtype)
    return fresh if warm is None else torch.cat([warm, fresh], dim=1)


class _LobpcgState:
    """The block X, its image LX and the previous direction P (with LP), in one dtype."""

    def __init__(self, matrix, inverse_diagonal, null_vector, block):
        self.matrix, self.inverse_diagonal = matrix, inverse_diagonal
        self.null_vector = null_vector
        self.dtype, self.k = matrix.dtype, block.shape[1]
        self.block = _project_out(block, null_vector)
        self.image = matrix @ self.block
        self.previous = None  # (P, LP) once a step has been taken
        self.values = None  # Ritz values of block, once it is a Ritz basis

    def in_float64(self):
        """A float64 restart warm-started from the block (the float32 search direction is
        dropped: carried over, it stalled the finish at a relative residual of 1e-6)."""
        double = lambda tensor: None if tensor is None else tensor.to(torch.float64)  # noqa: E731
        return _LobpcgState(
            double(self.matrix), double(self.inverse_diagonal), double(self.null_vector),
            double(self.block),
        )

    def step(self):
        """One step. Returns the Ritz values and the residual norms of the block it started
        from (float64 NumPy; inf before the first Ritz values): all it reads on the host."""
        k, block, image = self.k, self.block, self.image
        parts, images, residual = [block], [image], None
        if self.values is not None:
            values = torch.as_tensor(self.values, dtype=self.dtype, device=block.device)
            # The residual of the deflated operator: with a matrix rounded to float32, L u is
            # not exactly 0 and its part along u would stall the float64 finish at ~eps32.
            residual = _project_out(image - block * values, self.null_vector)
            direction = _project_out(residual * self.inverse_diagonal[:, None], self.null_vector)
            # W and P orthogonalised against the (near-orthonormal) block and scaled to unit
            # columns on the device: as the iteration converges they shrink, and a Gram matrix
            # mixing them with X in float32 lost them (900 iterations on a 30 x 30 grid where
            # float64 needs 200).
            direction = _unit_columns(direction - block @ (block.T @ direction))
            parts.append(direction)
            images.append(self.matrix @ direction)
            if self.previous is not None:
                previous, previous_image = self.previous
                overlap = block.T @ previous
                scale = _column_scale(previous - block @ overlap)
                parts.append((previous - block @ overlap) * scale)
                images.append((previous_image - image @ overlap) * scale)
        basis, basis_image = torch.cat(parts, dim=1), torch.cat(images, dim=1)
        extra = () if residual is None else (residual.norm(dim=0),)
        gram, projected, norms = _read_back(basis, basis_image, *extra)
        if residual is None:
            norms = np.full(k, np.inf)
        measured = self.values if self.values is not None else np.zeros(k)
        self.values, coefficients = _ritz(gram, projected, k, torch.finfo(self.dtype).eps)
        mix = torch.as_tensor(coefficients, dtype=self.dtype, device=block.device)
        # Re-projected every step so that rounding cannot bring the null vector back.
        self.block = _project_out(basis @ mix, self.null_vector)
        self.image = basis_image @ mix
        if basis.shape[1] > k:
            # The step's direction: the new block's part outside the old block.
            self.previous = (basis[:, k:] @ mix[k:], basis_image[:, k:] @ mix[k:])
        return measured, norms

    def pairs(self, dtype, nit):
        return EigenPairs(
            torch.as_tensor(self.values, dtype=dtype, device=self.block.device),
            self.block.to(dtype), "lobpcg", nit,
        )


def _read_back(basis, image, *vectors):
    """S^T S, S^T L S (S = basis, L S = image) and ``vectors``, in one copy to the host, as
    float64 NumPy: the single wait of a Rayleigh-Ritz step."""
    width = basis.shape[1]
    square = width * width
    host = torch.cat([(basis.T @ basis).reshape(-1), (basis.T @ image).reshape(-1), *vectors])
    host = host.to("cpu", torch.float64).numpy()
    return (host[:square].reshape(width, width), host[square:2 * square].reshape(width, width),
            host[2 * square:])


def _column_scale(block):
    return 1.0 / block.norm(dim=0).clamp_min(torch.finfo(block.dtype).tiny)


def _unit_columns(block):
    return block * _column_scale(block)


def _ritz(gram, projected, k, eps):
    """Rayleigh-Ritz on span(S) from G = S^T S and H = S^T L S (float64 NumPy): the k
    smallest Ritz values and the coefficients C with S C orthonormal Ritz vectors.

    S is orthonormalised through G (SVQB): directions whose Gram eigenvalue is below the
    rounding of the working precision ``eps`` are ones S does not really span, and dropped.
    """
    width = gram.shape[0]
    scale = np.sqrt(np.clip(np.diag(gram), np.finfo(float).tiny, None))
    gram = gram / np.outer(scale, scale)
    projected = projected / np.outer(scale, scale)
    spread, vectors = np.linalg.eigh(0.5 * (gram + gram.T))
    keep = spread > spread.max() * eps * width * 10
    basis = vectors[:, keep] / np.sqrt(spread[keep])
    reduced = basis.T @ projected @ basis
    values, ritz = np.linalg.eigh(0.5 * (reduced + reduced.T))
    return values[:k], (basis @ ritz[:, :k]) / scale[:, None]


def _diagonal(matrix):
    """The diagonal, without host synchronisation (no coalesce, no boolean mask)."""
    if matrix.layout == torch.strided:
        return matrix.diagonal().clone()
    csr = matrix if matrix.layout == torch.sparse_csr else matrix.to_sparse_csr()
    crow, col, values = csr.crow_indices(), csr.col_indices(), csr.values()
    n = matrix.shape[0]
    row = torch.repeat_interleave(
        torch.arange(n, device=matrix.device), crow.diff(), output_size=col.numel()
    )
    return values.new_zeros(n).index_add_(0, row, torch.where(row == col, values, 0.0))
