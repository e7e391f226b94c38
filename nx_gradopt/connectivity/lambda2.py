r"""Maximise the algebraic connectivity :math:`\lambda_2(L_0 + L(w))` over a weight budget.

.. math::

    \max_w \ \lambda_2\Big(L_0 + \sum_{e=(u,v)} w_e (e_u - e_v)(e_u - e_v)^\top\Big)
    \quad \text{s.t.} \quad 0 \le w \le c,\ \sum_e w_e = \text{budget}.

:math:`\lambda_2` is concave in :math:`w` but not differentiable where it is repeated, which
is the rule at the optimum. We maximise the soft-min of the k smallest nontrivial eigenvalues,

.. math::

    f_\mu(w) = -\mu \log \sum_{i=2}^{k+1} e^{-\lambda_i(w)/\mu}, \qquad
    \nabla f_\mu(w)_e = \sum_i \pi_i (x_{i,u} - x_{i,v})^2, \quad \pi = \operatorname{softmax}(-\lambda/\mu),

a smooth concave function with :math:`f_\mu \le \lambda_2 \le f_\mu + \mu \log k`, by
L-BFGS-B (see :mod:`.engine`), lowering :math:`\mu` in stages as the certified gap closes
and doubling k when the cluster of eigenvalues near :math:`\lambda_2` fills it.

Certificate: :math:`X = \sum_i \pi_i x_i x_i^\top` is dual feasible, so every evaluation gives
a bound for free (:mod:`.certificate`); with a base network, at the end of each stage the
best :math:`X` in the span of the computed eigenvectors is found by a small SDP. At a
maximiser of :math:`f_\mu` the free bound is :math:`\sum_i \pi_i \lambda_i`, so the gap
closes as :math:`\mu` does.

That primal method certifies grids quickly but stalls where the optimal weights vanish on most
edges (15-30 % gaps on random geometric graphs). Problems without a base network therefore
switch after ``PRIMAL_STAGES`` stages to the dual phase (:mod:`.unfolding`, with or without
capacities), warm started from the best point, which returns a bound and a feasible
weighting at every step; where those stages would outlast the time limit, once
``PRIMAL_SHARE`` of it has passed, and where a stage has not risen above its first point
within ``STUCK_EVALUATIONS`` evaluations. A dual phase whose first ``DUAL_TRIAL_STEPS`` steps do
not lower the bound gives the rest of the run back to the primal stages; so does one that has
settled (``DUAL_SETTLED_STEPS``), and they go on from the best point.
"""

import dataclasses
import itertools
import math
import time

import numpy as np
import torch

from ..core.eigensolvers import DENSE_MAX_NODES, factorisation_fills_in, smallest_eigenpairs
from ..core.laplacian import edge_laplacian_quadratic
from ..core.progress import Progress
from ..core.results import INTERRUPTED, OptimizationResult
from ..core.runtime import Runtime, TimeLimit, single_threaded_blas, torch_generator
from ..core.sparse import connected_components
from .certificate import certified_upper_bound
from .engine import StopOptimization, fill_budget, maximize_over_budget
from .interior_point import maximize_by_interior_point
from .twins import twins_of
from .unfolding import StepReport, unfolding_iterates

# Evaluations per stage of constant mu: long enough for L-BFGS-B to build curvature, short
# enough to refine the certificate and adapt mu and k regularly.
STAGE_EVALUATIONS = 40
# Primal stages before the dual phase (problems without a base network). Grids
# certify within them; graphs whose optimal weights vanish on most edges stall there.
PRIMAL_STAGES = 2
# Evaluations of the golden-section search between the best point and a dual step's weights
# whose support leaves the graph cut (lambda_2 = 0; every step on the US power grid). On
# power, 60 s: lambda_2 0.00842 -> 0.00987 (gap 1.7e-1 -> 2.3e-2); facebook, 30 s: 2.02 ->
# 2.14 (budget m). Searching after every worse step too cost rgg 2000 up to 2 s for nothing.
SEGMENT_EVALUATIONS = 4
# Such a step's weights are searched towards a second time, reconnected (_reconnected), where
# their support's largest component holds at least this share of the nodes; where it holds
# less, the reconnected weights are mostly the best point's. Shares at the first cut step
# (2026-12-06): bio_dmela 0.007 (99 % of its edges without weight), the US power grid 0.15
# (then 0.67, 0.88, 0.97), the Internet AS graph 0.90, the Luxembourg road network 0.52 at
# its fourth step and 0.90 at its tenth.
RECONNECT_MIN_SHARE = 0.5
# Where the primal stages would outlast the time limit, the share of the limit they keep
# before the dual phase starts. bio_dmela (7 393 nodes, 0.4-1 s an eigen-solve), 30 s: with
# the primal stages alone lambda_2 0.371 and bound 433 (gap 0.999); 0.5: 0.354-0.364 and
# 1.5-3.8 (two runs); 0.25: 0.43-0.50 and 1.30; 0: 0.28 and 1.35. A 20 000-node
# Watts-Strogatz graph (4-7 s), 60 s: alone 0.244-0.283 and 10.6 (0.98); 0.5: 0.236 and 0.505
# (0.53); 0.25: 0.188 and 0.49. Where the primal stages end within the limit, entering the
# dual phase early did worse (30 s: arenas_email gap 1.6e-2 -> 0.20, power 8.7e-2 -> 0.92).
PRIMAL_SHARE = 0.5
# Evaluations after which a primal stage none of whose points has risen above its first
# (in the smoothed lambda_2 that stage maximises) hands over to the dual phase. On
# random_geometric_graph(20000, 0.0175, seed=5) the second stage's line searches from its
# first point never rose above it: 64 evaluations, 15 s of a 60 s limit. Stages elsewhere
# (the real networks, the 2 000-node geometric graph) rise within their first few.
STUCK_EVALUATIONS = 10
# Outer steps after which a dual phase that has not lowered the bound it started from gives
# way to the primal stages for good. On the six real networks of 4 000-7 400 nodes the first
# step lowered it (power 0.0255 -> 0.0146, bio_dmela 441 -> 19.7 at budget m); on the
# 114 599-node Luxembourg road network, 300 s: ten steps of ~27 s never did (gap 0.77),
# where the primal stages alone reached 0.64. (With the preconditioned inner problems of
# .unfolding its second step lowers it, 3.0e-5 -> 1.3e-5 at budget m: gap 1.3e-2.)
DUAL_TRIAL_STEPS = 2
# ... unless its last step's bound is within this share of the one it started from. The US
# power grid with capacity 2 (twice the mean weight, 30 s) entered the dual phase at 1.4 s
# with a bound of 0.00151359; its first two steps came to 0.00151823 and 0.001516, and the
# primal stages it gave way to ended at a gap of 1.6e-3, where it had certified before the
# trial (7.8e-4 in 22.9 s, 2026-12-04). Luxembourg's were 400 and 33 times its entry bound.
DUAL_TRIAL_MARGIN = 0.01
# A dual phase whose last DUAL_SETTLED_STEPS steps lowered their bound by less than
# DUAL_SETTLED_SHARE and raised the best lambda_2 by at most DUAL_SETTLED_RISE of the gap
# left has done what it can: its bound has settled and its multipliers no longer serve the
# weights. The primal stages take over from the best point. The Internet AS graph (budget
# m, bench_lambda2.py --real, 2026-12-06, one run each): before, 2.8e-2 at 60 s and 2.4e-2
# at 120 s; the dual settles after 43 s (bound 0.5338, best 0.5182), and then 2.9e-3 and
# 5.1e-3 at 60 s (two runs) and 2.3e-3 at 120 s. Requiring the best unchanged instead, it
# handed over at 66 s (small rises kept it going): 2.8e-2 and 1.6e-3. With 3 steps (and the
# best unchanged) it also fired on arenas_email and C. elegans neural, whose rank escapes
# were still raising the best (certified in 22 and 7.6 s, not 9 and 4.6 s); with 6 it fires
# on no other real network at 30 s (plain or capacity 2), nor on facebook at 120 s or the
# 20 000-node graphs at 60 s.
DUAL_SETTLED_STEPS = 6
DUAL_SETTLED_SHARE = 2e-3
DUAL_SETTLED_RISE = 0.1
GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
# The optimiser asks for up to dozens of warm-started eigenpairs, which one shift-invert
# factorisation serves on most graphs. Where it fills in (homogeneous small worlds) plain
# Lanczos may be cheaper, but it slows more than shift-invert as the optimised weights pack
# the small eigenvalues together: the first solves (uniform weights) race, and Lanczos wins
# only when LANCZOS_SLOWDOWN times its time still beats shift-invert's. Measured (budget m,
# time_limit 60, 2 cores, 2026-12-06), the first solves (Lanczos, shift-invert) and the gap
# with shift-invert alone and Lanczos alone: connected Watts-Strogatz (5000, 6, 0.1) 0.12 s,
# 0.28 s; 1.1e-2 and 2.0e-2 (Lanczos took 1 s a solve later, shift-invert 0.4 s); (20 000,
# 6, 0.1) 0.6 s, 5 s; 0.45 and 0.20; random 4-regular (10 000) 0.13 s, 3.6 s; 0.13 and
# 2.8e-2; G(5000, 0.002) 0.03 s, 1.6 s; 0.33 and 2.0e-2. Shift-invert did better at a ratio
# of 2.3, Lanczos at 8 and above: 4 lies between. Racing at every evaluation by the last
# times went wrong: on the 4-regular graph shift-invert, 3.6 s at first, took 19.6 s when
# Lanczos's 4.4 s passed it. LOBPCG, which the spectral functions take on some of these
# graphs, was worse than both: 5.2e-2 and 9.9e-2 on the 5000-node Watts-Strogatz and the
# 4-regular graph.
LANCZOS_SLOWDOWN = 4.0
# method="auto": problems this small go to the interior-point method at once (karate to
# Les Miserables certify to 1e-7 in 0.02-0.16 s, where the first-order method took 0.5-2 s
# for 1e-3); up to the larger sizes, the first-order method's primal stages run first (they
# certify grids in a fraction of a second) and the interior-point method takes over if they
# have not. Its step is dense, ~n^3 + m^3 / 3: about a second at n = 1000, m = 2500 here, where
# the first-order method ends at gaps of 1-4 % on expanders (see the note of issue 15).
INTERIOR_POINT_MAX_NODES, INTERIOR_POINT_MAX_EDGES = 200, 1000
AFTER_PRIMAL_MAX_NODES, AFTER_PRIMAL_MAX_EDGES = 1200, 4000


def maximize_algebraic_connectivity(
    problem, *, max_iter=500, tol=1e-3, time_limit=None, method="auto", eigen_method="auto",
    runtime=None, started=None,
):
    """Maximise lambda_2 over ``problem``'s feasible set, with a certified upper bound.

    Parameters
    ----------
    problem : EdgeBudget
        Candidate edges, budget, capacities, base network (the union must be connected).
    max_iter : int
        Maximum number of eigen-solves (objective evaluations) plus Newton steps.
    tol : float
        Stop when the certified relative gap ``(bound - best) / bound`` is at most ``tol``
        (the problems the interior-point method takes at once go on to ``min(tol, 1e-6)``:
        there its last digits are cheap).
    time_limit : float, optional
        A cap in seconds: an eigen-solve or Newton step that would end past it does not
        start (:class:`~nx_gradopt.core.runtime.TimeLimit`); the first evaluation always runs.
    method : {"auto", "interior_point", "first_order"}
        The primal-dual method of :mod:`.interior_point` (dense), or the smoothed L-BFGS-B
        and dual phases of this module. "auto" takes the first for problems of at most
        ``INTERIOR_POINT_MAX_NODES`` nodes and ``INTERIOR_POINT_MAX_EDGES`` edges; up to
        ``AFTER_PRIMAL_MAX_NODES`` and ``AFTER_PRIMAL_MAX_EDGES``, the first-order primal
        stages and then, unless they certified, the interior-point method; the first-order
        method beyond.
    eigen_method : str
        The first-order method's eigen-solver (see :func:`.smallest_eigenpairs`).
    runtime : Runtime, optional
        Working precision and random generator (the device is the problem's); float64 and
        seed 0 by default.
    started : float, optional
        The :func:`time.perf_counter` reading that ``time_limit`` counts from; by default
        this call's start. The NetworkX functions pass their own start, so that checking
        and converting the input count against the limit too.

    Returns
    -------
    OptimizationResult
        ``x`` the best weights (feasible, the whole budget spent), ``fun`` their lambda_2,
        ``upper_bound`` the best certified bound.
    """
    if method not in ("auto", "interior_point", "first_order"):
        raise ValueError(
            f"method must be 'auto', 'interior_point' or 'first_order'; got {method!r}"
        )
    if runtime is None:
        runtime = Runtime(problem.u.device, torch.float64, torch_generator(0))
    if started is None:
        started = time.perf_counter()
    n, m = problem.n, problem.m
    if method == "auto":
        if n <= INTERIOR_POINT_MAX_NODES and m <= INTERIOR_POINT_MAX_EDGES:
            method = "interior_point"
        elif n <= AFTER_PRIMAL_MAX_NODES and m <= AFTER_PRIMAL_MAX_EDGES:
            method = "first_order, then interior_point"
        else:
            method = "first_order"
    with single_threaded_blas():
        if method == "interior_point":
            return _interior_point(problem, max_iter, tol, time_limit, started, runtime)
        if method == "first_order":
            local_problem, order, rank = problem.in_local_order() or (problem, None, None)
            result = _maximize(local_problem, max_iter, tol, time_limit, started, eigen_method,
                               runtime)
            if order is None:
                return result
            weights = torch.empty_like(result.x)
            weights[order] = result.x  # back on the caller's edges and nodes
            vectors = None if result.vectors is None else result.vectors[rank]
            return dataclasses.replace(result, x=weights, vectors=vectors)
        primal_evaluations = min(max_iter, PRIMAL_STAGES * STAGE_EVALUATIONS)
        first = _maximize(
            problem, primal_evaluations, tol, time_limit, started, eigen_method, runtime
        )
        # Stopped because its next eigen-solve would have ended past the limit: a Newton
        # step, dense, costs more.
        out_of_time = first.reason.startswith("time limit")
        if first.converged or first.reason == INTERRUPTED or out_of_time or first.nit >= max_iter:
            return first
        # Here a step costs up to a second: stop at tol, not at the small graphs' 1e-7.
        second = _interior_point(
            problem, max_iter - first.nit, tol, time_limit, started, runtime, target=tol
        )
        return _better_of(first, second, tol)


class _EigenRace:
    """The first-order method's eigen-solver where a sparse factorisation fills in (see
    .eigensolvers.factorisation_fills_in): plain Lanczos and shift-invert solve one
    evaluation each, and the faster then serves every evaluation, Lanczos's time counted
    LANCZOS_SLOWDOWN times (see there)."""

    def __init__(self):
        self.seconds = {}

    def next(self):
        for method in ("lanczos", "shift_invert"):
            if method not in self.seconds:
                return method
        lanczos, shift_invert = self.seconds["lanczos"], self.seconds["shift_invert"]
        return "lanczos" if LANCZOS_SLOWDOWN * lanczos < shift_invert else "shift_invert"

    def record(self, method, seconds):
        self.seconds.setdefault(method, seconds)


def _interior_point(problem, max_iter, tol, time_limit, started, runtime, target=None):
    result = maximize_by_interior_point(
        problem, max_iter=max_iter, tol=tol, time_limit=time_limit, target=target,
        started=started,
    )
    return dataclasses.replace(result, x=result.x.to(runtime.dtype))


def _better_of(first, second, tol):
    """One result from two runs on the same problem: the better point, the lower bound."""
    best = second if second.fun >= first.fun else first
    bound = min(first.upper_bound, second.upper_bound)
    gap = (bound - best.fun) / bound if bound > 0 else 0.0
    return OptimizationResult(
        x=best.x, fun=best.fun, nit=first.nit + second.nit, converged=gap <= tol,
        reason=second.reason, upper_bound=bound, time=first.time + second.time,
        history=first.history + second.history, vectors=best.vectors,
    )


def _maximize(problem, max_iter, tol, time_limit, started, eigen_method, runtime):
    start_time = time.perf_counter()
    n, device, dtype = problem.n, problem.u.device, runtime.dtype
    null = torch.full((n,), n**-0.5, device=device, dtype=dtype)
    limit = TimeLimit(time_limit, started)
    unfoldable = problem.base_w is None  # the unfolding has no form with a base network
    # With twin classes the weights stay symmetric, the eigen-solver sees the vectors
    # constant on the classes only, and the classes' own eigenvalues are exact (.twins).
    twins = twins_of(problem)
    # The eigenvectors the solver can find: those orthogonal to 1 (and constant on the
    # twin classes).
    room = n - 1 if twins is None else n - 1 - int((twins.sizes - 1).sum())
    if room < 1:  # one class holds every node (a complete graph): nothing left to solve for
        twins, room = None, n - 1
    laplacian_of = problem.laplacian if twins is None else twins.laplacian
    # On the CPU above the dense size, shift-invert, or where its factorisation fills in the
    # winner of a race (_EigenRace); the matrix's pattern decides, whatever the weights.
    race = None
    if eigen_method == "auto" and device.type == "cpu" and n > DENSE_MAX_NODES:
        eigen_method = "shift_invert"
        if factorisation_fills_in(laplacian_of(problem.uniform_weights(dtype))):
            race = _EigenRace()
    state = {
        # Whether the dual phase may still start: not after one that did not pay (unfold()).
        "dual": unfoldable,
        "k": min(room, 6), "mu": None, "warm": None, "count": 0, "best": -math.inf,
        "weights": None, "pairs": None, "bound": math.inf, "history": [],
        # The last and the best point's eigenvalues on the host (the k computed, then the
        # twin classes'), and the last λ₂.
        "values": None, "best_values": None, "last": None,
        # The current stage's first smoothed value and evaluation count, and whether a
        # later point of the stage has risen above it (primal_is_stuck()).
        "stage_start": None, "stage_rose": False,
    }

    def gap():
        bound = state["bound"]
        return (bound - state["best"]) / bound if bound > 0 else 0.0

    def check_stop():
        if gap() <= tol:
            raise StopOptimization(f"certified relative gap {gap():.2e} <= tol={tol:g}")
        if state["count"] >= max_iter:
            raise StopOptimization(f"max_iter={max_iter} reached (gap {gap():.2e} > tol={tol:g})")
        # The first evaluation (the uniform start) always runs: however short the time
        # limit, there are feasible weights to return.
        if state["count"] > 0 and not limit.next_step_fits():
            raise StopOptimization(f"time limit {time_limit:g} s reached (gap {gap():.2e})")

    def soft_min(values):
        """The smoothed λ₂ and the eigenvalues' softmax weights, from the eigenvalues on the
        host; the weights stay there (the callers copy them to the device, which costs no
        synchronisation, and read sums of them here, which would)."""
        lowest = values.min()
        scaled = -(values - lowest) / state["mu"]
        weights = torch.softmax(scaled, dim=0)
        return float(lowest) - state["mu"] * float(torch.logsumexp(scaled, dim=0)), weights

    def best_mixing():
        """The best point's softmax weights, on the device."""
        return soft_min(state["best_values"])[1].to(device, dtype)

    def gains(pairs, mixing):
        """The edge gains of X = sum_i pi_i x_i x_i^T (plus the twin classes' projectors
        weighted by theirs): the soft-min's gradient in the weights."""
        k = pairs.vectors.shape[1]
        result = edge_laplacian_quadratic(pairs.vectors, problem.u, problem.v) @ mixing[:k]
        if twins is not None:
            result = twins.symmetrize(result + twins.gains(mixing[k:]))
        return result

    def free_bound(pairs, mixing, shares):
        """The certificate of that X, valid at every evaluation (``shares``: ``mixing`` on
        the host)."""
        k = pairs.vectors.shape[1]
        extra = None
        if twins is not None:
            extra = (twins.gains(mixing[k:]), float(shares[k:].sum()))
        bound, _ = certified_upper_bound(pairs.vectors, problem, start=mixing[:k], refine=False,
                                         extra=extra)
        return bound

    def measure(weights):
        """lambda_2 and its eigenvectors at ``weights``, the best point kept."""
        method = eigen_method if race is None else race.next()
        with limit.step():
            pairs = smallest_eigenpairs(
                laplacian_of(weights), state["k"], null_vector=null, method=method,
                x0=state["warm"], seed=runtime.generator,
            )
        if race is not None:
            race.record(method, limit.last_step)
        state["count"] += 1
        state["warm"] = pairs.vectors
        values = pairs.values
        if twins is not None:
            values = torch.cat([values, twins.eigenvalues(weights).to(values.dtype)])
        # The eigenvalues' one read-back per evaluation.
        state["values"] = values.to("cpu", torch.float64)
        value = state["last"] = float(state["values"].min())
        if value > state["best"]:
            state["best"], state["weights"], state["pairs"] = value, weights, pairs
            state["best_values"] = state["values"]
        return pairs

    def evaluate(w):
        check_stop()
        weights = torch.as_tensor(w, device=device, dtype=dtype)
        if twins is not None:
            weights = twins.symmetrize(weights)
        cut = _cut_of_support(problem, weights)
        if cut is not None:
            # lambda_2 = 0: a quasi-Newton step zeroed a cut. Its supergradient is the
            # (centred, unit) component indicator's; no eigen-solve needed.
            state["count"] += 1
            state["history"].append((0.0, state["bound"]))
            if twins is not None:
                cut = twins.symmetrize(cut)
            return 0.0, cut.cpu().double().numpy()
        pairs = measure(weights)
        value = state["last"]
        if state["mu"] is None:
            state["mu"] = 0.1 * max(value, 1e-300)
        smooth, shares = soft_min(state["values"])
        mixing = shares.to(device, dtype)
        gradient = gains(pairs, mixing)
        # X = sum_i pi_i x_i x_i^T is dual feasible: a certificate at every evaluation.
        state["bound"] = min(state["bound"], free_bound(pairs, mixing, shares))
        state["history"].append((value, state["bound"]))
        report()
        if state["dual"] and state["best"] > 0 and (primal_outlasts_limit()
                                                    or primal_is_stuck(smooth)):
            raise _DualNow
        return smooth, gradient.cpu().double().numpy()

    def primal_is_stuck(smooth):
        """Whether STUCK_EVALUATIONS evaluations of this stage have all stayed at or below
        its first point's ``smooth`` value."""
        if state["stage_start"] is None:
            state["stage_start"] = (smooth, state["count"])
            return False
        first, count = state["stage_start"]
        state["stage_rose"] = state["stage_rose"] or smooth > first
        return not state["stage_rose"] and state["count"] - count >= STUCK_EVALUATIONS

    def primal_outlasts_limit():
        """Whether the primal stages left would end past the time limit at the last
        eigen-solve's cost (the first, cold one does not count), once PRIMAL_SHARE of the
        limit has passed. The dual phase then starts: its inner problems need no
        eigen-solves, and its bound is the one that closes on these graphs."""
        left = PRIMAL_STAGES * STAGE_EVALUATIONS - state["count"]
        now = time.perf_counter()
        return (state["count"] >= 2 and left > 0
                and now + left * limit.last_step > limit.deadline  # never without a limit
                and now - started >= PRIMAL_SHARE * time_limit)

    def unfold():
        """The dual phase: augmented Lagrangian steps on the unfolding, from the best point.
        Returns (for good) if its first DUAL_TRIAL_STEPS steps did not lower the bound and
        the last of them is not within DUAL_TRIAL_MARGIN of it: None, the primal stages go
        on where they were. Or once it has settled (DUAL_SETTLED_STEPS): the weights the
        primal stages go on from, the best point, with mu set for the gap left."""
        pairs = state["pairs"]
        mixing = best_mixing()
        steps = unfolding_iterates(problem, state["weights"], state["best"], pairs.vectors, mixing,
                                   twins=twins, deadline=limit.deadline)
        entry_bound = state["bound"]
        # After each step, the least bound of the dual's own steps and the best lambda_2: not
        # the bound the phase started from, which a dual still closing on it would hide (the
        # US power grid with capacity 2 entered at 0.00151359; its steps went from
        # 0.00151823 to 0.00151312 in seven, and it gave way there at a gap of 1.1e-3).
        after_steps = []
        dual_bound = math.inf
        weights, bound = next(steps)
        for step in itertools.count(1):
            weights = weights.to(dtype)
            if twins is not None:
                weights = twins.symmetrize(weights)
            state["bound"] = min(state["bound"], bound)
            check_stop()
            value = 0.0  # the multipliers' support can leave the graph cut early on
            best_before = state["best"]
            cut = _cut_of_support(problem, weights) is not None
            pairs = None
            if cut:
                state["count"] += 1
            else:
                pairs = measure(weights)
                value = state["last"]
            state["history"].append((value, state["bound"]))
            report()
            check_stop()
            if cut and SEGMENT_EVALUATIONS:
                search_segment(weights)
            # The eigenpairs show the dual where its embedding lacks a dimension; the rise,
            # whether its multipliers pay (the penalty's signal).
            outcome = StepReport(pairs, state["best"], state["bound"], state["best"] - best_before)
            if cut and SEGMENT_EVALUATIONS and outcome.stalled:
                reconnected = _reconnected(problem, weights, state["weights"])
                if reconnected is not None:
                    search_segment(reconnected)
                    outcome = dataclasses.replace(outcome, best=state["best"])
            if (step >= DUAL_TRIAL_STEPS and state["bound"] >= entry_bound
                    and bound > (1.0 + DUAL_TRIAL_MARGIN) * entry_bound):
                state["dual"] = False
                steps.close()
                return None
            dual_bound = min(dual_bound, bound)
            after_steps.append((dual_bound, state["best"]))
            if len(after_steps) > DUAL_SETTLED_STEPS:
                (bound_then, best_then), (bound_now, best_now) = (
                    after_steps[-1 - DUAL_SETTLED_STEPS], after_steps[-1])
                if (bound_now > (1.0 - DUAL_SETTLED_SHARE) * bound_then
                        and best_now - best_then <= DUAL_SETTLED_RISE * (bound_now - best_now)):
                    state["dual"] = False
                    steps.close()
                    # The stage-end rule lowers mu at most fourfold from a stage that went
                    # on from the last; this one starts afresh, where the dual left the gap.
                    state["mu"] = 0.25 * max(gap(), tol) * state["best"]
                    return state["weights"]
            weights, bound = steps.send(outcome)

    def search_segment(weights):
        """Golden-section search for the best lambda_2 between the best point (alpha = 0)
        and ``weights`` (alpha = 1): lambda_2 is concave in the weights, so unimodal on the
        segment, whose points are all feasible; measure() keeps the best."""
        start = state["weights"]

        def value_at(alpha):
            check_stop()
            measure(start + alpha * (weights - start))
            found = state["last"]
            state["history"].append((found, state["bound"]))
            return found

        # Not scipy.optimize.minimize_scalar: "golden" brackets outside [0, 1] (negative
        # weights), and "bounded" is Brent's method with its own point choices.
        low, high = 0.0, 1.0
        inner = [high - GOLDEN * (high - low), low + GOLDEN * (high - low)]
        values = [value_at(alpha) for alpha in inner]
        for _ in range(SEGMENT_EVALUATIONS - 2):
            if values[0] >= values[1]:  # the maximum lies in [low, inner[1]]
                high = inner[1]
                inner[1], values[1] = inner[0], values[0]
                inner[0] = high - GOLDEN * (high - low)
                values[0] = value_at(inner[0])
            else:
                low = inner[0]
                inner[0], values[0] = inner[1], values[1]
                inner[1] = low + GOLDEN * (high - low)
                values[1] = value_at(inner[1])
        report()

    progress = Progress("lambda_2")

    def report(force=False):
        progress("evaluation %d: best lambda_2 %.6g, certified bound %.6g, gap %.2e",
                 state["count"], state["best"], state["bound"], gap(), force=force)

    reason, converged = "", False
    w = problem.uniform_weights(dtype)
    try:
        for stage in itertools.count():
            if state["dual"] and stage == PRIMAL_STAGES and state["best"] > 0:
                settled_at = unfold()  # returns only if the dual did not pay or has settled
                if settled_at is not None:
                    w = settled_at
            scale = 1.0 / max(state["best"], 1e-300) if state["best"] > 0 else 1.0
            state["stage_start"], state["stage_rose"] = None, False
            try:
                w, _ = maximize_over_budget(
                    problem, evaluate, w.cpu().numpy(), max_evaluations=STAGE_EVALUATIONS,
                    scale=scale,
                )
            except _DualNow:
                settled_at = unfold()
                if settled_at is not None:  # a fresh stage from there
                    w = settled_at
                    continue
            pairs = state["pairs"]
            mixing = best_mixing()
            if not unfoldable:
                # Stage end: the best X in the span of the best point's eigenvectors. (The
                # unfolding phase certifies the other problems; this SDP took 0.4 s on a
                # 100 x 100 grid without improving on the free bound.) A base network has
                # no dual phase: its form of the unfolding, measured, did not help (see
                # docs/connectivity.rst).
                bound, _ = certified_upper_bound(pairs.vectors, problem, start=mixing)
                state["bound"] = min(state["bound"], bound)
                check_stop()
            cluster = int((mixing[: pairs.vectors.shape[1]] > 1e-3).sum())
            if cluster >= state["k"] - 1 and state["k"] < room:
                state["k"] = min(room, 2 * state["k"])
            # Smoothing comparable to the remaining gap (a larger mu cannot certify below
            # mu * log k), lowered by a factor 2 to 4 per stage: a sudden drop leaves
            # L-BFGS-B on a nearly non-smooth function far from its maximiser.
            target = 0.25 * max(gap(), tol) * state["best"]
            state["mu"] = min(0.5 * state["mu"], max(0.25 * state["mu"], target))
            w = torch.as_tensor(w, device=device, dtype=dtype)
    except StopOptimization as stop:
        reason = str(stop)
        converged = gap() <= tol
    except KeyboardInterrupt:
        if state["weights"] is None:  # interrupted before the first evaluation: nothing to return
            raise
        reason = INTERRUPTED
    report(force=True)
    weights = fill_budget(state["weights"], problem)
    return OptimizationResult(
        x=weights,
        fun=state["best"],
        nit=state["count"],
        converged=converged,
        reason=reason,
        upper_bound=state["bound"],
        time=time.perf_counter() - start_time,
        history=tuple(state["history"]),
        vectors=None if state["pairs"] is None else state["pairs"].vectors,
    )


class _DualNow(Exception):
    """Raised from an evaluation to enter the dual phase before the primal stages end: they
    would outlast the time limit, or the current one is stuck."""


def _reconnected(problem, weights, best):
    """``weights``, whose support leaves the graph cut, with the ``best`` point's weights back
    on the edges between their support's components, rescaled to the budget: connected,
    since the best point is (an edge of its support that crossed a component boundary is
    one of those). Within the capacities, since both are and the rescaling shrinks. None
    where the support's largest component holds less than RECONNECT_MIN_SHARE of the nodes.

    A dual step's zero multipliers are mostly its inner problem's inexactness, not the
    optimum's zeros: on the Luxembourg road network after ten steps 13 275 of the 119 666
    edges had none, and 8 171 nodes none on any of their edges. The golden-section search
    towards the step's weights then peaked at lambda_2 8.25e-6 (alpha 0.5; budget m), and
    towards these at 8.83e-6 (alpha 0.9, the bound 9.56e-6).
    """
    _, labels = _support_components(problem, weights > 0)
    if np.bincount(labels).max() < RECONNECT_MIN_SHARE * problem.n:
        return None
    u, v = problem.host_edges
    m = weights.shape[0]
    between = torch.as_tensor(labels[u[:m]] != labels[v[:m]], device=weights.device)
    repaired = torch.where(between, best, weights)
    return repaired * (problem.budget / repaired.sum())


def _support_components(problem, positive):
    """The number of components of the graph of the candidate edges marked ``positive`` (an
    (m,) mask, on any device) and the base network's edges, and each node's component."""
    u, v = problem.host_edges
    positive = positive.cpu().numpy()
    support = np.concatenate([positive, np.ones(len(u) - len(positive), dtype=bool)])
    return connected_components(problem.n, u[support], v[support])


def _cut_of_support(problem, weights):
    """None if the edges with positive weight (and the base network) connect the graph;
    otherwise the supergradient (x_u - x_v)^2 of lambda_2 = 0 at a component indicator x.

    Every candidate edge positive: connected (the problem's graph is), known from one
    device-side test. Otherwise only the (m,) mask crosses to the host, where the edges wait.
    """
    positive = weights > 0
    if bool(positive.all()):
        return None
    count, labels = _support_components(problem, positive)
    if count == 1:
        return None
    indicator = torch.as_tensor(labels == labels[0], dtype=weights.dtype, device=weights.device)
    indicator = indicator - indicator.mean()
    indicator = indicator / indicator.norm()
    return (indicator[problem.u] - indicator[problem.v]) ** 2
