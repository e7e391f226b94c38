r"""The dual of the algebraic-connectivity problem as a graph embedding, solved low-rank.

Without capacities or a base network, the optimum is :math:`\lambda_2^* = B / T^*` with

.. math::

    T^* = \max_{V \in \mathbb R^{n \times r}} \ \|PV\|_F^2 \quad \text{s.t.} \quad
    \|V_u - V_v\|^2 \le 1 \ \text{for every candidate edge } (u, v),

:math:`P = I - \mathbf 1\mathbf 1^\top/n`: the maximum variance unfolding of the graph (Sun,
Boyd, Xiao & Diaconis 2006), here in Burer–Monteiro form (:math:`X = VV^\top`). Its edge
multipliers :math:`y` are the optimal weights up to scale: stationarity reads
:math:`L(y)\,V = PV`, i.e. :math:`\lambda_2(L(y)) = 1` on the embedding's span.

We run the augmented Lagrangian method (Hestenes–Powell; Burer & Monteiro 2003 for SDPs),

.. math::

    V_{k+1} = \arg\min_V -\|PV\|_F^2 + \frac{1}{2\sigma}\sum_e
        \big[\max(0, y_e + \sigma(g_e(V) - 1))^2 - y_e^2\big], \qquad
    y_{k+1} = \max(0, y_k + \sigma(g(V_{k+1}) - 1)),

inner problems by L-BFGS (on the CPU preconditioned by the graph's Laplacian where a race
shows that pays: :func:`_faster_minimizer`), with :math:`\sigma` adapted to the steps'
outcomes (:class:`_Penalty`: large closes the bound fast, small keeps the multipliers usable
as weights on real networks). Every iterate is useful whatever its accuracy: any :math:`V` gives
the valid bound :math:`\lambda_2^* \le B \max_e g_e(V) / \|PV\|_F^2` (weak duality; each step's
is tightened by a short search near its V, :func:`_tightened_ratio`), and
:math:`B\,y / \sum_e y_e` is a feasible weighting whose :math:`\lambda_2` the caller measures.
Where the optimal weights vanish on many edges (random geometric graphs: three quarters of
them) this closes the gap that a primal method, which must drive those weights to zero one
bound at a time, leaves open.

With capacities the unfolding gains the knapsack's threshold and excesses
(:func:`_capacitated_unfolding_iterates`). A base network has no unfolding here: its form
(the base Laplacian's energy in the budget constraint) was tried and did not help.
"""

import functools
import time
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.optimize
import scipy.sparse
import scipy.sparse.linalg
import torch

from ..core.eigensolvers import EigenPairs, factorisation_fills_in
from ..core.projections import project_onto_capped_simplex
from .certificate import certified_upper_bound, knapsack_value

# sigma relative to the mean multiplier at the start. Measured on a 2 000-node random
# geometric graph: 30 and 100 left a gap of 1-2% after 15 and 10 outer steps, 1 000 reached
# 6e-4 after 4. It is the most sigma is ever raised to (see _Penalty) ...
PENALTY = 1000.0
# ... and it falls, by CUT_FACTOR down to PENALTY_MIN, after an outer step whose weights
# left the graph cut and which (with the search towards them) raised the best lambda_2 by at
# most STALL_SHARE of the gap; it rises, by RAISE_FACTOR, after a step whose weights kept
# the graph connected and after which it rose no more. The floor, on the US power grid (30 s,
# budget m, one run each): 100 gave 2.4e-3, 50 gave 6.0e-4 (twice), 30 gave 5.8e-4 but
# facebook 0.35 against 0.16-0.18 (its bound closes slowly at low sigma); 50 gave it 0.20.
# The other real networks never reach the floor.
PENALTY_MIN = 50.0
CUT_FACTOR = 10.0
RAISE_FACTOR = 2.0
STALL_SHARE = 0.01
# L-BFGS iterations per inner problem. Certifying that graph to 1e-3 took 6.5 s with 250
# and 6.8 s with 500 (fewer outer steps), 10.1 s with 1 000.
INNER_ITERATIONS = 500
# The same for problems with capacities, whose inner problems take longer. Measured on the
# 2 000-node geometric graph, capacity 2 (mean weight 1), from the uniform weights: with
# sigma 1 000x and 500 iterations the gap was 2.7 % after 10 outer steps; 100x and 1 000
# iterations, 5.4e-3 after 2 and 5.5e-4 after 4; 30x and 1 000, 2.1e-3 after 2 and 6.3e-5
# after 4. In the solver (capacity 2 and 1.5, 60 s limit): 6.0e-4 in 18 s and 7.3e-5 in
# 20 s with 30x and 1 000, against 7.3e-4 in 23 s and 1.4e-4 in 24 s with 100x and 500.
# Since then, with 30x (2026-12-04, gap <= 1e-3 reached, L-BFGS-B evaluations of the dual
# phase): rgg 2000 capacity 1.5: 3 555 with 1 000 iterations, 2 371 with 500, 2 900 with 350;
# capacity 2: 2 362, 2 361, 2 879; arenas_email capacity 2: 1 929 and 1 207 (1 000, 500); the
# US power grid, capacity 2: 22.4 and 22.7 s of dual phase (7 264 and 8 452 evaluations).
CAPPED_PENALTY = 30.0
CAPPED_INNER_ITERATIONS = 500
# Rank escapes (_escape): eigenvalues of L(y) this far below 1 count, at most this many new
# columns per outer step, each scaled so that its longest edge has this squared length.
ESCAPE_MARGIN = 1e-3
ESCAPE_COLUMNS = 4
ESCAPE_LENGTH = 0.05
# ... and only after an outer step that moved the bound by less than this share (or
# the first).
ESCAPE_STALL = 1e-3
# ... and only while the embedding has fewer than this many times its starting columns.
# Uncapped, facebook's rank grew from 6 to 20 and its inner problems slowed with it: 1.3e-2
# at 120 s, against 1.7e-3 without escapes and 2.1e-3 with this cap; arenas_email, which
# needs them (1.6e-2 at 30 s without), grew from 12 to 36 and certified in 13.0 s, and
# certifies capped at 24 in 13.3 s (one run each, 2026-12-05).
ESCAPE_RANK_FACTOR = 2
# ... or fewer than this many columns. The primal phase ends with 6 or 12 eigenvectors, as
# its last stage's cluster of eigenvalues goes: the Watts-Strogatz C. elegans network
# (279 nodes) certified from 12 with escapes to 24 in 2.8 s, and from 6 stalled at rank 14
# with its multipliers' lambda_2 6 % short (13 s, certified by the interior-point method);
# with this floor, 4.9 s (2026-12-05, first-order method alone, one run each). Facebook,
# from 6, still ended at 2.3e-3 after 120 s.
ESCAPE_MIN_RANK = 24
# Iterations and smoothing (relative to the longest edge) of the search for a tighter bound
# near each step's embedding (_tightened_ratio). Facebook, 30 s, budget m (2026-12-05, one
# run each, alternating): bound 4.95-5.48 and gap 0.15-0.26 in five runs with 50
# iterations, 5.57-7.41 and 0.23-0.45 in five without; 0.17 with 100 iterations and 0.21
# with 200 (fewer outer steps). From one of its embeddings (bound 9.28), 50 iterations at
# smoothing 0.003, 0.01 and 0.03 took the bound down by factors of 0.60, 0.61 and 0.66, in
# about 0.3 s.
TIGHTEN_ITERATIONS = 50
TIGHTEN_SMOOTHING = 0.01
# The inner problems' preconditioner on the CPU (_GraphPreconditioner): the candidate graph's
# Laplacian with unit weights, shifted by this share of the mean degree, and the L-BFGS
# iterations an inner problem gets with it. Facebook, 30 s, budget m (2026-12-06, one run
# each unless stated): with a first form of the loop 250 gave a gap of 8.4e-2, 100 gave
# 0.17, torch's 500 unpreconditioned 0.39; with this one 250 gave 0.11-0.12 (three runs),
# 500 6.8e-2 and 0.30.
PRECONDITIONER_SHIFT = 1e-3
PRECONDITIONED_INNER_ITERATIONS = 250
# Its factorisation in float32, which an approximate inverse tolerates: SuperLU's solves are
# memory-bound, and one with 12 right-hand sides on the Luxembourg road network took 16.5 ms
# against 36 ms in float64; its dual steps came to 26 in 300 s instead of 22 (gap 1.46e-2
# against 1.80e-2, one trace each, 2026-12-06).
PRECONDITIONER_DTYPE = np.float32
# The plain minimizer's iterations in the first inner problem's race against the
# preconditioned loop (_faster_minimizer); the winner then solves that problem from where it
# got.
RACE_ITERATIONS = 100


class _Incidence:
    r"""The (m, n) signed incidence matrix D of a problem's edges, with the two products an
    evaluation of the dual phase runs: the edge differences DV and
    :math:`D^\top \operatorname{diag}(y) \Delta` (y per edge, :math:`\Delta` (m, r)).

    Neither allocates an (m, r) array: the differences go into one buffer, reused (read them
    before the next call), and the weighted sum scales the entries of :math:`D^\top` (2m
    numbers) instead of :math:`\Delta`'s rows (m r). A fresh (m, r) array per evaluation,
    18 MB on random_geometric_graph(20000, 0.0175) at rank 12, had its pages faulted in
    every time: the augmented Lagrangian took 17 ms an evaluation, 7-9 ms without them
    (medians of eight to ten runs, 2026-12-05).
    """

    def __init__(self, problem, dtype):
        m, n, device = problem.m, problem.n, problem.u.device
        rows = torch.arange(m, device=device).repeat_interleave(2)
        cols = torch.stack([problem.u, problem.v], dim=1).reshape(-1)
        values = torch.tensor([1.0, -1.0], device=device, dtype=dtype).repeat(m)
        coo = torch.sparse_coo_tensor(
            torch.stack([rows, cols]), values, (m, n), check_invariants=False
        )
        self.matrix = coo.coalesce().to_sparse_csr()
        transpose = coo.t().coalesce().to_sparse_csr()
        self._crow, self._col = transpose.crow_indices(), transpose.col_indices()
        self._signs = transpose.values()
        self._buffer = None

    def differences(self, v):
        """DV, (m, r), in the buffer: valid until the next call. (A fresh array where v
        requires its gradient: autograd does not record products with ``out=``.)"""
        if v.requires_grad:
            return self.matrix @ v
        shape = (self.matrix.shape[0], v.shape[1])
        if self._buffer is None or self._buffer.shape != shape or self._buffer.dtype != v.dtype:
            self._buffer = v.new_empty(shape)
        return torch.mm(self.matrix, v, out=self._buffer)

    def weighted_sum(self, weights, differences):
        r""":math:`D^\top \operatorname{diag}(\text{weights})\,\text{differences}`, (n, r)."""
        scaled = torch.sparse_csr_tensor(
            self._crow, self._col, self._signs * weights[self._col],
            (self.matrix.shape[1], self.matrix.shape[0]), check_invariants=False,
        )
        return scaled @ differences


# Embedding entries (n x rank) from which a GPU runs the inner problems itself. SciPy's
# L-BFGS-B copies the embedding and its gradient across the bus at every evaluation (690 MB
# on a 1 500-node graph, fake device) with 2 waits; torch's L-BFGS copies nothing but waits
# about 4 times as often (35 862 against 9 138 waits there). At ~25 GB/s and ~15 us a wait
# the copies cost more from about 1.4e5 entries: a model, not yet a GPU measurement.
DEVICE_INNER_MIN_ENTRIES = 100_000
# The same on the CPU, where torch's L-BFGS costs more Python per iteration than SciPy's
# L-BFGS-B but less arithmetic. Five outer steps from 8 eigenvectors, SciPy's against
# torch's (2026-12-05): 20 x 20 grid (3 200 entries) 0.94 against 1.94 s; 25 x 25 (5 000)
# 1.32 against 1.49 s; 30 x 30 (7 200) 1.62 against 1.35 s; random geometric graphs of 500
# nodes (4 000) 1.18 against 1.20 s and 2 000 nodes 3.41 against 2.43 s; a connected
# Watts-Strogatz graph of 5 000 nodes 7.51 against 2.65 s.
CPU_INNER_MIN_ENTRIES = 6_000


def inner_problems_by_scipy(embedding):
    """Whether the inner problems go to SciPy's L-BFGS-B on the host rather than to torch's
    L-BFGS on the embedding's device: only small embeddings (above).

    On the larger networks torch's is much the faster: SciPy's L-BFGS-B spent 2 ms an
    iteration in its own code on the 6 474-node Internet AS graph (rank 12; 16 of the 30 s,
    profiled), and with torch's the solver (budget m, 30 s, one run each, 2026-12-05) took
    as20000102 from a gap of 0.12 to 5.4e-2 (21 outer steps against 7), certified ca_grqc
    (9.6e-4 in 24.1 s, 2.1e-3 at the limit before), power in 13.0 s (19.3) and arenas_email
    in 8.1 s (13.9); the 2 000-node random geometric graph took 5.9 s against 5.3 s, and
    facebook and bio_dmela ended as before (their time goes to the eigen-solves and the
    searches).
    """
    cpu = embedding.device.type == "cpu"
    return embedding.numel() < (CPU_INNER_MIN_ENTRIES if cpu else DEVICE_INNER_MIN_ENTRIES)


def _past(deadline):
    """Whether :func:`time.perf_counter` has passed ``deadline`` (None: never). Both inner
    solvers ask it as they go, so that a time limit binds inside an inner problem too."""
    return deadline is not None and time.perf_counter() > deadline


def _minimize_with_scipy(lagrangian, embedding, deadline=None, iterations=INNER_ITERATIONS):
    shape, device = embedding.shape, embedding.device

    def value_and_gradient(x):
        value, gradient = lagrangian(torch.from_numpy(x).to(device).view(shape))
        return float(value), gradient.cpu().numpy().ravel()

    def stop_at_deadline(intermediate_result):
        if _past(deadline):
            raise StopIteration

    result = scipy.optimize.minimize(
        value_and_gradient, embedding.cpu().numpy().ravel(), jac=True, method="L-BFGS-B",
        options={"maxiter": iterations, "maxfun": 2 * iterations, "maxcor": 10,
                 "ftol": 1e-13, "gtol": 1e-12},
        callback=stop_at_deadline,
    )
    return torch.from_numpy(result.x).to(device).view(shape)


class _PastDeadline(Exception):
    """Raised from torch's L-BFGS closure, which has no callback, to end an inner problem."""


def _minimize_with_torch(lagrangian, embedding, deadline=None, iterations=INNER_ITERATIONS):
    # torch's L-BFGS with a strong Wolfe line search, set to SciPy's settings above (its
    # change tolerance is absolute: SciPy's relative ftol times the starting value).
    x = embedding.clone()

    def closure():
        if _past(deadline):
            raise _PastDeadline
        value, x.grad = lagrangian(x)
        return value

    start, _ = lagrangian(x)
    optimizer = torch.optim.LBFGS(
        [x], lr=1.0, max_iter=iterations, max_eval=2 * iterations,
        tolerance_grad=1e-12, tolerance_change=1e-13 * max(abs(float(start)), 1.0),
        history_size=10, line_search_fn="strong_wolfe",
    )
    try:
        optimizer.step(closure)
    except _PastDeadline:
        pass  # x is where the closure was called (the start or a line-search trial): any
        # embedding gives a valid bound, and the caller stops at the deadline anyway
    return x.detach()


class _GraphPreconditioner:
    r"""Applies :math:`(L_1 + \epsilon I)^{-1}` to each of an embedding's columns: :math:`L_1`
    the candidate graph's Laplacian with unit weights, factorised once for the dual phase.

    An inner problem unfolds the graph: its slow directions are smooth motions of whole
    regions, along which the variance's pull is weak and few edges' penalties act, and
    L-BFGS from the identity finds them one iteration at a time. The Laplacian's inverse
    makes them the first it takes. Facebook's second inner problem (4 039 nodes, rank 6,
    2026-12-06): the Lagrangian at -2.50e4 after 50 iterations (0.7 s) with it, after 500
    (3.8 s) without. The shift keeps :math:`L_1` invertible; the gradients are orthogonal
    to 1 (the Lagrangian does not see translations), so it does not bias them.
    """

    def __init__(self, problem):
        laplacian = _unit_laplacian(problem)
        shift = PRECONDITIONER_SHIFT * laplacian.diagonal().mean()
        shifted = laplacian + shift * scipy.sparse.identity(problem.n, format="csr")
        self._factor = scipy.sparse.linalg.splu(
            shifted.astype(PRECONDITIONER_DTYPE).tocsc(),
            permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True},
        )
        self._n = problem.n

    @classmethod
    def of(cls, problem):
        """The preconditioner, or None where the factorisation fills in (homogeneous small
        worlds: a 20 000-node Watts-Strogatz graph's took 10.6 s and 1.3e7 nonzeros)."""
        if factorisation_fills_in(_unit_laplacian(problem)):
            return None
        return cls(problem)

    def __call__(self, gradient):
        """The preconditioned ``gradient``, a flat NumPy array: the embedding's n x r entries
        first, then any others (the twin classes' spreads, fewer than n), left as they are."""
        size = gradient.size - gradient.size % self._n
        result = gradient.copy()
        block = gradient[:size].reshape(self._n, -1)
        result[:size] = self._factor.solve(np.asfortranarray(block, PRECONDITIONER_DTYPE)).ravel()
        return result


def _unit_laplacian(problem):
    """The candidate graph's Laplacian with unit weights, SciPy CSR."""
    n, (u, v) = problem.n, problem.host_edges
    adjacency = scipy.sparse.coo_array((np.ones(problem.m), (u, v)), shape=(n, n)).tocsr()
    adjacency = adjacency + adjacency.T
    return scipy.sparse.diags_array(np.asarray(adjacency.sum(axis=1)).ravel()) - adjacency


def _minimize_preconditioned(preconditioner, function, embedding, deadline=None,
                             iterations=PRECONDITIONED_INNER_ITERATIONS, memory=10):
    """L-BFGS whose initial inverse Hessian is ``preconditioner`` (scaled by the first
    curvature pair), with SciPy's Wolfe line search; on the host.

    Neither SciPy's L-BFGS-B nor torch's L-BFGS takes a preconditioner, hence this loop:
    the two-loop recursion (Nocedal & Wright, Algorithm 7.4) with that initial matrix.
    """
    shape = embedding.shape
    last = {}  # the line search asks for the value and the gradient at a point separately

    def evaluate(x):
        if "x" not in last or not np.array_equal(last["x"], x):
            if _past(deadline):
                raise _PastDeadline
            value, gradient = function(torch.from_numpy(x).view(shape))
            last.update(x=x, value=float(value), gradient=gradient.numpy().ravel())
        return last["value"], last["gradient"]

    x = embedding.cpu().numpy().ravel().copy()
    pairs = []  # the last ``memory`` (step, gradient change, their product)
    scale = None  # set by the first pair; before it, torch's L-BFGS's short first step
    try:
        value, gradient = evaluate(x)
        for _ in range(iterations):
            direction = gradient.copy()
            alphas = []
            for step, change, curvature in reversed(pairs):
                alphas.append(step @ direction / curvature)
                direction -= alphas[-1] * change
            direction = preconditioner(direction)
            direction *= scale if scale is not None else min(1.0, 1.0 / np.abs(gradient).sum())
            for (step, change, curvature), alpha in zip(pairs, reversed(alphas)):
                direction += step * (alpha - change @ direction / curvature)
            direction = -direction
            with warnings.catch_warnings():
                # Its failure to meet the Wolfe conditions is an answer (None), not a warning.
                warnings.filterwarnings("ignore", "The line search algorithm", RuntimeWarning)
                found = scipy.optimize.line_search(
                    lambda x: evaluate(x)[0], lambda x: evaluate(x)[1], x, direction,
                    gradient, value, maxiter=25,
                )
            if found[0] is None:
                break
            new_x = x + found[0] * direction
            new_value, new_gradient = evaluate(new_x)
            step, change = new_x - x, new_gradient - gradient
            curvature = step @ change
            if curvature > 0:
                if scale is None:
                    scale = curvature / (change @ preconditioner(change))
                pairs = (pairs + [(step, change, curvature)])[-memory:]
            converged = value - new_value <= 1e-13 * max(abs(new_value), 1.0)  # SciPy's ftol
            x, value, gradient = new_x, new_value, new_gradient
            if converged:
                break
    except _PastDeadline:
        pass  # x is the last point accepted: any embedding gives a valid bound
    return torch.from_numpy(x).view(shape)


@dataclass(frozen=True)
class StepReport:
    """What the caller measured after a dual step: the smallest nontrivial eigenpairs of the
    step's weighting (None where its support leaves the graph cut), the best lambda_2 and
    certified bound it holds since (searches after the step included), and how much the
    step's weighting, or the search towards it, raised the best lambda_2 (``rise``: the
    penalty's signal; a search towards other weights does not count)."""

    pairs: EigenPairs | None
    best: float
    bound: float
    rise: float

    @property
    def stalled(self):
        """Whether the step raised the best lambda_2 by at most STALL_SHARE of the gap."""
        return self.rise <= STALL_SHARE * (self.bound - self.best)


def unfolding_iterates(problem, weights, value, vectors, mixing, *, twins=None, deadline=None):
    """Augmented Lagrangian steps from a primal point; yields ``(weights, upper_bound)``.

    In float64 whatever the working precision: in float32 the Lagrangian is quantised, and
    383 of 404 inner L-BFGS-B runs on one graph stopped at their first step (gap 1.3e-2
    where float64 certified 2.3e-4). Its data are only n x rank.

    Parameters
    ----------
    problem : EdgeBudget
        Without a base network (capacities are allowed).
    weights, value : torch.Tensor, float
        A feasible weighting and its lambda_2 (> 0): the starting multipliers.
    vectors, mixing : torch.Tensor
        (n, k) eigenvectors of that weighting's smallest nontrivial eigenvalues and (k,)
        nonnegative weights for them: the starting embedding (with ``twins``, (k + C,):
        the classes' weights follow).
    twins : Twins, optional
        The problem's twin classes (:mod:`.twins`; not with capacities). The embedding then
        gains one number per class, its spread :math:`s_c \\ge 0`: X is
        :math:`VV^\\top + \\sum_c s_c \\Pi_c / (k_c - 1)`, whose edge lengths are
        :math:`\\|V_u - V_v\\|^2 + (T^\\top s)_e` and variance :math:`\\|PV\\|_F^2 + \\sum_c s_c`.
        A class of k twins would need k - 1 columns of V otherwise.
    deadline : float, optional
        A :func:`time.perf_counter` reading at which an inner problem stops early (its
        iterate still yields a valid bound); the caller stops the generator.

    Yields
    ------
    (torch.Tensor, float)
        A feasible weighting (float64, the whole budget spent) and a certified upper bound
        on the optimum, once per outer step; the caller stops the generator. The caller may
        send back a :class:`StepReport` (or None): the embedding then gains a column along
        each eigenvector that shows it lacks a dimension (:func:`_escape`), and the penalty
        adapts (:class:`_Penalty`); not with capacities, whose steps ignore it.
    """
    dtype = torch.float64
    if problem.base_w is not None:
        raise ValueError("the unfolding dual has no base network")
    if problem.capacity is not None:
        yield from _capacitated_unfolding_iterates(problem, weights, value, vectors, mixing,
                                                   deadline)
        return
    budget = problem.budget
    incidence = _Incidence(problem, dtype)
    multipliers = weights.to(dtype) / value
    k = vectors.shape[1]
    classes = 0 if twins is None else twins.count
    # The embedding and the square roots of the spreads, as one flat vector x for L-BFGS.
    embedding = _starting_embedding(vectors, mixing[:k])
    roots = (mixing[k:].to(dtype) + 1e-2 / mixing.numel()).sqrt()

    def unpack(x):
        return x[: x.numel() - classes].view(problem.n, -1), x[x.numel() - classes:]

    def geometry(x):
        """Edge differences, squared edge lengths, the centred embedding and the spreads."""
        v, r = unpack(x)
        differences = incidence.differences(v)
        lengths = (differences * differences).sum(dim=1)
        spreads = r * r
        if classes:
            lengths = lengths + twins.gains(spreads)
        return differences, lengths, v - v.mean(dim=0), spreads

    def variance(centred, spreads):
        return float((centred * centred).sum() + spreads.sum())

    x = torch.cat([embedding.reshape(-1), roots])
    _, lengths, centred, _ = geometry(x)
    x = torch.cat([centred.reshape(-1), roots]) / lengths.max().sqrt()
    penalty = _Penalty(float(multipliers.mean()))
    start_rank = k

    def lagrangian(x):
        """The augmented Lagrangian and its gradient at x, on its device."""
        differences, lengths, centred, spreads = geometry(x)
        sigma = penalty.sigma
        shifted = (multipliers + sigma * (lengths - 1.0)).clamp_min(0.0)
        value = -(centred * centred).sum() - spreads.sum() + (
            (shifted * shifted).sum() - (multipliers * multipliers).sum()) / (2.0 * sigma)
        gradient = 2.0 * (incidence.weighted_sum(shifted, differences) - centred)
        if classes:
            _, r = unpack(x)
            pull = twins.eigenvalues(shifted)  # T shifted: the lengths' term's slope in s
            gradient = torch.cat([gradient.reshape(-1), 2.0 * r * (pull - 1.0)])
        return value, gradient.reshape(x.shape)

    minimize = _minimize_with_scipy if inner_problems_by_scipy(x) else _minimize_with_torch
    # The bound's search keeps it: a smoothed maximum over a few edges is no unfolding, and
    # the preconditioner was measured on the inner problems only.
    tighten = minimize
    if minimize is _minimize_with_torch and x.device.type == "cpu":
        minimize = _raced(minimize, _GraphPreconditioner.of(problem))
    previous_bound = float("inf")
    while True:
        x = minimize(lagrangian, x, deadline)
        _, lengths, centred, spreads = geometry(x)
        multipliers = (multipliers + penalty.sigma * (lengths - 1.0)).clamp_min(0.0)
        embedding, roots = unpack(x)
        longest = float(lengths.max())
        own_bound = budget * longest / variance(centred, spreads)
        twin_lengths = twins.gains(spreads) if classes else 0.0
        bound = budget * _tightened_ratio(embedding, longest, twin_lengths, float(spreads.sum()),
                                          incidence, tighten, deadline)
        total = float(multipliers.sum())
        candidate = budget * multipliers / total if total > 0 else weights
        report = yield candidate, bound
        if report is not None:
            penalty.update(report)
        # Only where the bound has settled: while it moves (down, or up as the multipliers
        # adjust), the rank is not what holds it. The first step, with no bound before it,
        # counts as settled (inf <= inf): the primal phase's end is its previous state. The
        # embedding's own bound, not the tightened one, which moves more from step to step:
        # with it, facebook at 120 s ended at a gap of 5.1e-3 against 2.3e-3.
        settled = abs(own_bound - previous_bound) <= ESCAPE_STALL * previous_bound
        room = embedding.shape[1] < max(ESCAPE_RANK_FACTOR * start_rank, ESCAPE_MIN_RANK)
        if report is not None and report.pairs is not None and total > 0 and settled and room:
            embedding = _escape(embedding, report.pairs, total / budget, incidence)
            x = torch.cat([embedding.reshape(-1), roots])
        previous_bound = own_bound


def _raced(plain_minimizer, preconditioner):
    """An inner minimizer that races ``plain_minimizer`` against the preconditioned loop on
    its first problem (:func:`_faster_minimizer`) and is the winner from then on; the plain
    one where there is no preconditioner (None)."""
    if preconditioner is None:
        return plain_minimizer
    winner = None

    def minimize(function, x, deadline=None):
        nonlocal winner
        if winner is None:
            winner, x = _faster_minimizer(preconditioner, function, x, deadline,
                                          plain_minimizer)
            return x
        return winner(function, x, deadline)

    return minimize


def _faster_minimizer(preconditioner, lagrangian, x, deadline, plain_minimizer=None):
    """The inner minimizer that gets further on the first inner problem, and its answer.

    The plain one (torch's L-BFGS unless given) runs RACE_ITERATIONS iterations, the
    preconditioned loop gets the same time from the same start, and the one whose point has
    the lower Lagrangian goes on from it for a whole inner problem.

    The preconditioner pays where the graph has far to unfold, and costs where the edges'
    penalties shape the inner problem: the first inner problem's Lagrangian after 0.5, 1 and
    2 s, torch's against the preconditioned (2026-12-06): the Internet AS graph -1.25e4,
    -1.57e4, -1.86e4 against -1.99e4, -2.26e4, -2.34e4; random_geometric_graph(2000, 0.05)
    -1.6395e5, -1.6423e5, -1.6427e5 against -1.41e5, -1.55e5, -1.63e5 (arenas_email alike):
    the order is settled within the first half second, so a short race tells. The race of
    whole inner problems it replaced took 10.9 s on random_geometric_graph(20000, 0.0175),
    half of it the preconditioned loop's, lost; the short one and the plain winner's problem
    8.2 s, to a lower Lagrangian (-1.2713e7 against -1.2686e7).
    """
    plain_minimizer = plain_minimizer or _minimize_with_torch
    started = time.perf_counter()
    plain = plain_minimizer(lagrangian, x, deadline, iterations=RACE_ITERATIONS)
    now = time.perf_counter()
    limit = now + (now - started)
    if deadline is not None:
        limit = min(limit, deadline)
    preconditioned_minimizer = functools.partial(_minimize_preconditioned, preconditioner)
    preconditioned = preconditioned_minimizer(lagrangian, x, limit)
    winner, reached = plain_minimizer, plain
    if float(lagrangian(preconditioned)[0]) < float(lagrangian(plain)[0]):
        winner, reached = preconditioned_minimizer, preconditioned
    return winner, winner(lagrangian, reached, deadline)


class _Penalty:
    """The augmented Lagrangian's sigma, adapted to the outer steps' outcomes.

    A large sigma closes the bound in few steps, but its multipliers jump with the inner
    problems' residuals, and on real networks they zero edges that the graph needs: on the
    US power grid (30 s, sigma fixed at 1 000x) every step's weights left it cut, the
    searches towards them gained little, and the best weights stayed 6 % below the bound,
    where 100x certified 9e-4. A random geometric graph, whose bound closes slowly at
    100x, took 22 s instead of 5 there; its early steps leave it cut too, but the searches
    towards them gain. So sigma starts large, falls where cut weights stop paying, and
    rises back once connected weights no longer raise the best lambda_2.
    """

    def __init__(self, mean):
        self.unit = mean  # sigma's unit: the multipliers' scale at the start
        self.sigma = PENALTY * mean

    def update(self, report):
        stalled = report.stalled
        if stalled and report.pairs is None:  # cut
            self.sigma = max(self.sigma / CUT_FACTOR, PENALTY_MIN * self.unit)
        elif stalled:
            self.sigma = min(self.sigma * RAISE_FACTOR, PENALTY * self.unit)


def _tightened_ratio(embedding, start_longest, twin_lengths, twin_variance, incidence, minimize,
                     deadline):
    r"""The least ratio :math:`\max_e g_e(V) / \|PV\|_F^2` found from ``embedding`` (whose
    longest squared edge the caller has: ``start_longest``) by TIGHTEN_ITERATIONS steps of
    ``minimize``: the bound, over the budget, that the step certifies. ``twin_lengths`` and
    ``twin_variance`` are the twin classes' spreads' shares of the edge lengths and of the
    variance (0 without), held fixed.

    Any embedding certifies (weak duality), and an inner problem's minimiser leaves a few
    edges far longer than the rest, which alone set the bound: on facebook, after ten outer
    steps, 12 of its 88 234 edges were longer than 1.01 and the longest 1.34 (the
    0.999-quantile 1.007). The ratio is minimised, smoothed, as
    :math:`\log \operatorname{smax}_\tau g(V) - \log \|PV\|_F^2` with
    :math:`\operatorname{smax}_\tau g = \tau \log \sum_e e^{g_e / \tau}` and
    :math:`\tau` TIGHTEN_SMOOTHING times the longest edge, then evaluated exactly. The
    embedding found serves the bound only: as the next inner problem's start it left the
    multipliers' lambda_2 lower (facebook, 30 s: 3.40 against 4.17 at budget m).
    """
    shape = embedding.shape

    def lengths_of(v):
        differences = incidence.differences(v)
        return differences, (differences * differences).sum(dim=1) + twin_lengths

    def ratio(v, longest):
        centred = v - v.mean(dim=0)
        return longest / (float((centred * centred).sum()) + twin_variance)

    start_ratio = ratio(embedding, start_longest)
    tau = TIGHTEN_SMOOTHING * start_longest
    if not tau > 0.0:  # every edge of length 0: nothing to tighten
        return start_ratio

    def smoothed(x):
        v = x.view(shape)
        differences, lengths = lengths_of(v)
        centred = v - v.mean(dim=0)
        variance = (centred * centred).sum() + twin_variance
        top = lengths.max()
        scaled = (lengths - top) / tau
        longest = top + tau * torch.logsumexp(scaled, dim=0)
        shares = torch.softmax(scaled, dim=0)  # the smoothed max's gradient in the lengths
        gradient = (2.0 * incidence.weighted_sum(shares, differences) / longest
                    - 2.0 * centred / variance)
        return longest.log() - variance.log(), gradient.reshape(x.shape)

    found = minimize(smoothed, embedding.reshape(-1), deadline, TIGHTEN_ITERATIONS).view(shape)
    return min(start_ratio, ratio(found, float(lengths_of(found)[1].max())))


def _escape(embedding, pairs, scale, incidence):
    """The embedding with new columns along the eigenvectors of :math:`L(y)` whose
    eigenvalues are below 1 (``pairs``: the smallest eigenpairs of :math:`L(y) / \\text{scale}`).

    At a stationary point of the Burer–Monteiro form, :math:`L(y)V = PV`: the multipliers
    y are optimal, and the bound tight, only if no other direction x has
    :math:`x^\\top L(y) x < \\|Px\\|^2` too. Such an x raises the Lagrangian by
    :math:`t^2 (1 - \\lambda)` along a new column :math:`t x`: the rank was too small. On the
    1 133-node arenas e-mail network the rank of 12 stopped the dual at a bound of 1.767
    with multipliers whose lambda_2 was 1.652 (budget m) after 30 outer steps.
    """
    values = pairs.values.to(embedding.device, embedding.dtype) * scale
    low = values < 1.0 - ESCAPE_MARGIN
    if not bool(low.any()):
        return embedding
    directions = pairs.vectors.to(embedding.device, embedding.dtype)[:, low][:, :ESCAPE_COLUMNS]
    directions = directions - directions.mean(dim=0)
    stretch = ((incidence.matrix @ directions) ** 2).amax(dim=0)
    return torch.cat([embedding, directions * (ESCAPE_LENGTH / stretch).sqrt()], dim=1)


def _starting_embedding(vectors, mixing):
    """The eigenvectors weighted by the square roots of their mixing weights (and a little
    of each, so that none starts at zero), in float64."""
    dtype = torch.float64
    return vectors.to(dtype) * (mixing.to(dtype) + 1e-2 / mixing.numel()).sqrt()


def _capacitated_unfolding_iterates(problem, weights, value, vectors, mixing, deadline):
    r""":func:`unfolding_iterates` for problems with capacities c.

    Their dual bound for an embedding :math:`U` is :math:`h(g(U)) / \|PU\|_F^2`, with
    :math:`h(g) = \max\{w^\top g : 0 \le w \le c,\ \sum_e w_e = B\}
    = \min_t \, B t + \sum_e c_e (g_e - t)_+` (LP duality for the knapsack). With the
    threshold t and the excesses :math:`z_e \ge 0` as variables, the unfolding reads

    .. math::

        \max_{U, t, z \ge 0} \|PU\|_F^2 \quad \text{s.t.} \quad g_e(U) \le t + z_e, \qquad
        t + c^\top z / B \le 1,

    the plain unfolding when the capacities do not bind (z = 0, t = 1). Its edge
    multipliers y and budget multiplier :math:`\eta` give the weights :math:`B y / \eta`: at
    a stationary point :math:`\eta = \sum_e y_e` (the t-gradient) and
    :math:`y_e \le \eta c_e / B` (the z-gradient), and :math:`\lambda_2 = B / \eta`.

    Augmented Lagrangian steps as for the plain problem, both constraints augmented. The
    excesses are not variables of the inner problems: for given U and t the Lagrangian's
    minimum over z is set by one scalar, the budget term's multiplier :math:`\mu`, the root
    of a piecewise-linear equation (:func:`_budget_multiplier`), with
    :math:`z_e = (r_e - \mu c_e / B)_+ / \sigma` for the shifted multipliers
    :math:`r = y + \sigma(g - t)`: the edges' multipliers are clipped at :math:`\mu c_e / B`.
    As bounded variables of L-BFGS-B the excesses made every inner problem stop at its
    iteration limit (a 300-node geometric graph, capacity 2: 3.6 % after 15 outer steps,
    where the clipped form reaches 9.5e-4 in 6).
    """
    dtype, device = torch.float64, problem.u.device
    n, budget = problem.n, problem.budget
    incidence = _Incidence(problem, dtype)
    caps = problem.caps.to(device, dtype)
    host_caps = caps.cpu().numpy()
    multipliers = weights.to(dtype) / value
    total = float(multipliers.sum())  # the budget multiplier eta = B / lambda_2
    embedding = _starting_embedding(vectors, mixing)
    embedding = embedding - embedding.mean(dim=0)
    rank = embedding.shape[1]
    # The start: the eigenvectors' embedding scaled so that its knapsack bound is the
    # budget, t the knapsack's threshold (the length of the edge that fills the budget).
    lengths = ((incidence.matrix @ embedding) ** 2).sum(dim=1)
    scale = knapsack_value(lengths, caps, budget) / budget
    embedding, lengths = embedding / scale**0.5, lengths / scale
    order = torch.argsort(lengths, descending=True)
    filled = int(torch.searchsorted(torch.cumsum(caps[order], 0),
                                    torch.tensor([budget], dtype=dtype, device=device)))
    threshold = float(lengths[order[min(filled, problem.m - 1)]])
    sigma = CAPPED_PENALTY * float(multipliers.mean())
    budget_sigma = CAPPED_PENALTY * total
    last_root = [total]  # the previous evaluation's mu: Newton's start
    size = n * rank

    def unpack(x):
        return x[:size].view(n, rank), x[size]

    def multipliers_at(u, t):
        """Edge differences, the clipped shifted edge multipliers and the budget multiplier
        mu, with the excesses at their optimum."""
        differences = incidence.differences(u)
        shifted = multipliers + sigma * ((differences * differences).sum(dim=1) - t)
        mu = _budget_multiplier(
            shifted.cpu().numpy(), host_caps, budget, total + budget_sigma * (float(t) - 1.0),
            budget_sigma / (sigma * budget), last_root[0],
        )
        last_root[0] = mu
        return differences, torch.minimum(shifted.clamp_min(0.0), mu * caps / budget), mu

    def lagrangian(x):
        u, t = unpack(x)
        differences, clipped, mu = multipliers_at(u, t)
        centred = u - u.mean(dim=0)
        # At the optimal z, (r_e - sigma z_e)_+ is the clipped multiplier and the budget
        # term's shifted multiplier is mu; by the envelope theorem the gradient in (U, t)
        # holds z fixed.
        value = -(centred * centred).sum() + (
            (clipped * clipped).sum() - (multipliers * multipliers).sum()) / (2.0 * sigma) + (
            mu * mu - total**2) / (2.0 * budget_sigma)
        gradient_u = 2.0 * (incidence.weighted_sum(clipped, differences) - centred)
        gradient_t = mu - clipped.sum()
        return value, torch.cat([gradient_u.reshape(-1), gradient_t.reshape(1)])

    # (U, t) as one flat vector. SciPy's L-BFGS-B on the host, the root of mu is found there
    # at every evaluation anyway; or the preconditioned loop, where it wins the race: with
    # capacity 2 (twice the mean weight, 30 s, 2026-12-06) bio_dmela certified in 25-29 s
    # with it (three runs) and ended at 3.8e-3 and 5.4e-3 without.
    x = torch.cat([embedding.reshape(-1), torch.tensor([threshold], dtype=dtype, device=device)])
    minimize = functools.partial(_minimize_with_scipy, iterations=CAPPED_INNER_ITERATIONS)
    if device.type == "cpu":
        minimize = _raced(minimize, _GraphPreconditioner.of(problem))
    while True:
        x = minimize(lagrangian, x, deadline)
        u, t = unpack(x)
        _, multipliers, total = multipliers_at(u, t)
        bound, _ = certified_upper_bound(u, problem, start=u.new_ones(rank), refine=False)
        spent = float(multipliers.sum())
        candidate = weights
        if spent > 0:
            candidate = project_onto_capped_simplex(budget * multipliers / spent, caps, budget)
        yield candidate, bound


def _budget_multiplier(shifted, caps, budget, base, slope, start):
    r"""The root :math:`\mu \ge 0` of :math:`\mu = \big(b + \text{slope}\,\sum_e c_e
    (r_e - \mu c_e / B)_+\big)_+` (b is ``base``), on the host; NumPy arrays in.

    :math:`\varphi(\mu) = b + \text{slope} \sum_e c_e (r_e - \mu c_e / B)_+ - \mu` is convex,
    decreasing and piecewise linear, so Newton's method converges from any start (after
    one step it climbs to the root from the left) and lands on it once the active set stops
    changing. From the previous evaluation's root it takes a pass or two; sorting the
    breakpoints in torch took twice the rest of an evaluation (rgg 2000, 15 111 edges).
    """
    weighted_caps = caps / budget
    mu = max(start, 0.0)
    previous = None
    for _ in range(100):
        excess = shifted - mu * weighted_caps
        active = excess > 0
        if previous is not None and np.array_equal(active, previous):
            break  # the last step solved this linear piece exactly
        previous = active
        value = base + slope * float(caps[active] @ excess[active]) - mu
        step = value / (1.0 + slope * float(caps[active] @ weighted_caps[active]))
        mu += step
        if mu <= 0.0:
            if base + slope * float(caps @ np.maximum(shifted, 0.0)) <= 0.0:
                return 0.0  # phi(0) <= 0: the root is 0
            mu = 0.0
    return mu
