"""Max-cut: Burer–Monteiro SDP with a certified bound, hyperplane rounding, breakout search."""

import math
import os
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..core.progress import Progress
from ..core.results import INTERRUPTED, OptimizationResult
from ..core.sparse import scipy_to_torch_csr
from . import certificate, cycles
from .local_search import cut_value, descend, gains, load_compiled, symmetric_csr
from .memetic import Stagnation, memetic_search
from .oblique import ObliqueLBFGS, add_rank, random_point
from .rounding import hyperplane_cuts

# Hyperplanes drawn per rounding: the search's fresh starts, best first.
HYPERPLANES = 256
# Each breakout run (see memetic.py) ends after this many neighbour visits per node (a move
# visits the node's neighbours) without improving its best cut: 100 n moves on G18 (degree
# 12), 25 n on G1 (degree 48), 300 n on the tori G11-G13 (degree 4). With a time limit, also
# not before as many moves as it took to find that cut: the clock bounds the runs, and on
# the large tori long runs do better (G62, G72, time_limit=30: 0.9947 and 0.9926 of the best
# known, against 0.9926 and 0.9920 without). Measured single-threaded on G18 and G19, seeds
# 0-5, the median moves until 0.995 of the best known: runs of 200 n moves 7 000 n and
# 5 300 n, 100 n 4 500 n and 2 100 n, 50 n 6 300 n (one seed short) and 1 900 n. G1 reached
# its best known within the first run of 25 n moves.
RUN_STALL_VISITS_PER_NODE = 1_200
# Without a time limit, at most this many moves per node: the stagnation rule counts runs,
# and on sparse graphs long runs only delay it (2026-12-03, seed 0 unless stated, 300 n and
# 240 n moves against 100 n: G12 and G13, seeds 0-3, the best known cut either way, 3.0-4.1
# s against 1.3-1.8 s; G57 0.9983 either way, 41 s against 13 s; G55 0.9986 in 65 s against
# 0.9983 in 33 s; G56 0.9955 in 61 s against 0.9950 in 30 s).
RUN_STALL_MOVES_PER_NODE_UNTIMED = 100
# The search stops after this many runs without a better cut: single-threaded on G18-G21,
# seeds 0-3 (runs of 200 n moves), 32 runs reached 0.995 of the best known on all 16; 16
# runs (crossover starts only, seeds 0-2) left G19 and G21 below it with one seed each.
# With a time limit the user has said how long a cut is worth waiting for, so the stretch
# is longer.
STALL_RUNS = 48
STALL_RUNS_TIMED = 320
# Without a time limit a search that keeps improving a little also stops once a doubling of
# its runs, from GAIN_CHECK_FROM_RUNS on, gains less than this share of the cut (G56, 5 000
# nodes, kept finding small gains for over 5 minutes without such a rule). Chosen on every
# round's best cut and time recorded with neither rule, two threads, G1-G21, seeds 0-3
# (2026-12-03): 32 runs without a better cut and 2e-3 from 32 runs left G18 (seed 0), G19
# (3) and G20 (3) at 0.9940-0.9947 of the best known, at most 4.1 s a call; 48 runs reached
# 0.995 on all but took up to 5.4 s (G18, seed 0, still gaining); 48 runs and 3e-3 from 32
# runs reach 0.9960 at worst, at most 4.5 s a call, 2.7 s on average (2.3 s before). The
# benchmark with this rule and the untimed run cap (docs/maxcut.rst) measured 0.9960 at
# worst and 0.01-3.05 s (up to 5.14 s on a busier machine without the cap).
MIN_GAIN_PER_DOUBLING = 3e-3
GAIN_CHECK_FROM_RUNS = 32
# From this many Burer–Monteiro iterations on, a failed factorisation check also estimates
# λ_min(S), and the factor gains up to RANK_STEP columns when it stops halving (see
# _iterate_and_certify).
RANK_CHECKS_FROM = 150
RANK_STEP = 4
# With a time limit, the SDP phase may use at most this share of it, and the cycle
# relaxation's matchings (before it) this one.
SDP_TIME_SHARE = 0.6
RELAXATION_TIME_SHARE = 0.2


# What can prove a bound: a Cholesky (or LDLᵀ) factorisation with Rump's rounding margin;
# Lanczos from a random start, wrong with probability at most
# certificate.FAILURE_PROBABILITY; Gershgorin's discs; the total positive weight; or the cycle
# relaxation's minimum-weight matching (cycles.py).
PROOFS = ("Cholesky", "randomized", "Gershgorin", "total weight", "cycle relaxation")


@dataclass(frozen=True)
class MaxCutResult(OptimizationResult):
    """What :func:`solve_max_cut` found.

    ``x`` holds the spins (±1 per node, float64, CPU), ``fun`` the cut value and
    ``upper_bound`` a certified bound on the maximum cut. ``converged`` says whether the SDP was
    solved to ``tol`` (certified); ``nit`` counts Burer–Monteiro iterations. When the cycle
    relaxation proves the cut maximum first, the SDP is not solved: ``sdp_value`` is NaN,
    ``factor`` None and ``converged`` False.

    Attributes
    ----------
    sdp_value : float
        :math:`\\tfrac14\\operatorname{tr}(LYY^\\top)` at the returned factor: a lower bound
        on the SDP optimum (``upper_bound`` is an upper bound on it too, unless ``proof`` is
        "cycle relaxation").
    factor : torch.Tensor or None
        The Burer–Monteiro factor Y (n × rank, unit rows).
    moves : int
        Local-search moves made.
    sdp_time : float
        Seconds spent on the SDP and its certificate.
    proof : str
        What proves ``upper_bound``, one of :data:`PROOFS`.
    """

    sdp_value: float = 0.0
    factor: torch.Tensor | None = field(default=None, repr=False)
    moves: int = 0
    sdp_time: float = 0.0
    proof: str = "Cholesky"

    @property
    def sdp_gap(self):
        """Relative gap between the certified bound and ``sdp_value``."""
        if self.upper_bound == 0:
            return 0.0
        return (self.upper_bound - self.sdp_value) / abs(self.upper_bound)


def default_rank(n, *, expander=False):
    """⌈√(2n)⌉ (no spurious local optima generically, Boumal et al.) capped for speed: rank
    grows on its own when the certificate finds a descent direction. The cap is 24, or 36
    on the large graphs without small separators that get the randomized certificate:
    gnm(2·10⁴, 5·10⁴) at rank 24 stalled with λ_min(S) near -5e-3 (a gap of 6e-4 after
    40 s), where rank 36 certified tol=1e-4 in 17 s and rank 48 in 23 s."""
    return max(2, min(n, math.ceil(math.sqrt(2 * n)), 36 if expander else 24))


def default_chains():
    """One search thread per available core, at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def _adjacency(n, u, v, w, device, dtype):
    """Symmetric adjacency (both directions, duplicates summed), built once: a torch CSR
    tensor for the iterations and a float64 SciPy CSR matrix (int64 indices) for the
    certificate and the compiled local search."""
    matrix = symmetric_csr(n, u.cpu().numpy(), v.cpu().numpy(), w.cpu().numpy())
    return scipy_to_torch_csr(matrix, device=device, dtype=dtype), matrix


def solve_sdp(
    adjacency, matrix, *, rank, tol, max_iter, deadline, generator,
    certificate_deadline=math.inf, randomized=False,
):
    """Burer–Monteiro with certification checks; returns (Y, p, bound, certified, nit, why,
    proof), ``proof`` naming what proves the bound (see :data:`PROOFS`).

    Every few iterations the dual shift δ that would make the gap tol/2 is tested by a
    Cholesky factorisation (or, when ``randomized``, bounded by Lanczos from a random
    start); success certifies. A numerically stuck point whose slack is clearly indefinite
    gets one more column along the offending eigenvector. ``matrix`` is the adjacency as a
    SciPy CSR matrix.
    """
    n = adjacency.shape[0]
    device = adjacency.device
    optimizer = ObliqueLBFGS(adjacency, random_point(
        n, rank, generator=generator, device=device, dtype=adjacency.dtype,
    ))
    try:
        return _iterate_and_certify(
            optimizer, matrix, tol=tol, max_iter=max_iter, deadline=deadline,
            generator=generator, certificate_deadline=certificate_deadline,
            randomized=randomized,
        )
    except KeyboardInterrupt:
        # Ctrl-C, in an iteration or a factorisation: the current factor, bounded by
        # Gershgorin's shift (no factorisation), which holds for any factor.
        primal = (float(matrix.data.sum()) - float(optimizer.rowdot.to(torch.float64).sum())) / 4
        shift = certificate.gershgorin_shift(certificate.slack_matrix(matrix, optimizer.rowdot))
        return optimizer.Y, primal, primal + n * shift / 4, False, optimizer.iterations, \
            INTERRUPTED, "Gershgorin"


def _iterate_and_certify(
    optimizer, matrix, *, tol, max_iter, deadline, generator, certificate_deadline,
    randomized,
):
    """solve_sdp's loop: L-BFGS iterations, with certificate checks between them."""
    adjacency = optimizer.adjacency
    n = adjacency.shape[0]
    device = adjacency.device
    total_degree = float(matrix.data.sum())
    # The gap is relative to the SDP value, or to a quarter of the total absolute weight
    # when that is larger (mostly negative weights: the SDP value may be 0).
    gap_scale = float(np.abs(matrix.data).sum()) / 8  # each edge is stored twice
    # Checks at geometrically spaced iterations (counts only, so a seed repeats exactly),
    # sparser where a factorisation costs more iterations (~40 at 2 000 nodes, ~100 at 5 000).
    if n <= 1000:
        next_check, growth = 20, 1.3
    elif n <= certificate.DENSE_LIMIT:
        next_check, growth = 40, 1.5
    else:
        next_check, growth = 60, 1.6
    reason = f"max_iter={max_iter} iterations"
    # The Lanczos start of the eigen-estimates follows the user's seed without drawing from
    # the generator (the draws of the factor, roundings and search stay as they were).
    eigen_seed = generator.initial_seed()
    last_estimate = math.inf  # of -λ_min(S), at the last randomized check
    failed_checks = 0  # factorisation checks that failed from RANK_CHECKS_FROM iterations on
    while True:
        stuck = False
        while optimizer.iterations < min(next_check, max_iter):
            if not optimizer.step():
                stuck = True
                break
            if time.perf_counter() > deadline:
                break
        # Summed in float64 from the same λ the slack matrix is built from: the bound
        # ¼ Σ ν_i is proven for those numbers, and a float32 sum of 10⁴ of them is not.
        primal = (total_degree - float(optimizer.rowdot.to(torch.float64).sum())) / 4
        target = 2 * tol * max(primal, gap_scale) / n
        S = certificate.slack_matrix(matrix, optimizer.rowdot)
        if randomized and time.perf_counter() + certificate.randomized_seconds(
            S, target / 2
        ) <= certificate_deadline:
            shift, estimate = certificate.randomized_shift(
                S, target / 2, seed=eigen_seed, stop_above=target)
            if shift <= target:
                return optimizer.Y, primal, primal + n * shift / 4, True, \
                    optimizer.iterations, "certified", "randomized"
            # -λ_min(S) no longer falling: the rank is too small for the SDP's solution
            # (gnm(2·10⁴, 5·10⁴) at rank 24 stalled at 1.2e-2, a gap of 1.3e-3); go up one
            # column along the offending eigenvector, as at a saddle.
            if estimate > 0.5 * last_estimate:
                _, vector = certificate.smallest_eigenpair(S, seed=eigen_seed)
                optimizer.set_point(add_rank(
                    optimizer.Y, torch.from_numpy(vector).to(device, adjacency.dtype),
                    adjacency))
            last_estimate = estimate
        affordable = time.perf_counter() + certificate.factorisation_seconds(n) \
            <= certificate_deadline
        if not randomized and affordable:
            if certificate.is_positive_definite(S, target, device=device):
                # A tighter shift is worth one more factorisation when factorising is cheap.
                shift = target
                if n <= certificate.DENSE_LIMIT and certificate.is_positive_definite(
                    S, target / 16, device=device
                ):
                    shift = target / 16
                return optimizer.Y, primal, primal + n * shift / 4, True, \
                    optimizer.iterations, "certified", "Cholesky"
            if failed_checks >= 1:
                # The same rule as the randomized route's: -λ_min(S) no longer halving
                # between checks means the rank is too small (G58 and G63 at rank 24 ran
                # 2 000 iterations uncertified, where rank 36 certified in 400). The factor
                # gains a column along each of a few negative-curvature directions. Not at
                # the first failed check, which is often the last: an estimate costs 2-3 s
                # at 20 000 nodes (G81's SDP phase took 13-14 s with one, 10.5 s before).
                values, vectors = certificate.negative_curvature(
                    S, -target, RANK_STEP, seed=eigen_seed)
                estimate = -float(values.min()) if len(values) else 0.0
                if estimate > 0.5 * last_estimate:
                    for vector in vectors.T:
                        optimizer.set_point(add_rank(
                            optimizer.Y, torch.from_numpy(vector).to(device, adjacency.dtype),
                            adjacency))
                last_estimate = estimate
            if optimizer.iterations >= RANK_CHECKS_FROM:
                failed_checks += 1
        if stuck:
            # Numerically stuck short of the tolerance: a saddle (escape by one more column)
            # or the limit of float precision (stop).
            estimate, vector = certificate.smallest_eigenpair(S, seed=eigen_seed)
            if estimate < -target:
                direction = torch.from_numpy(vector).to(device, adjacency.dtype)
                optimizer.set_point(add_rank(optimizer.Y, direction, adjacency))
                stuck = False
            else:
                reason = "no further progress in floating point"
        out_of_time = time.perf_counter() > deadline
        if stuck or out_of_time or optimizer.iterations >= max_iter:
            if out_of_time:
                reason = "time limit"
                start = 4 * target  # no time for an eigenvalue estimate
            else:
                estimate, _ = certificate.smallest_eigenpair(S, seed=eigen_seed)
                start = max(-estimate, 0.0) * (1 + 1e-6) + target / 16
            proof = "Cholesky"
            if randomized and time.perf_counter() + certificate.randomized_seconds(
                S, target / 2
            ) <= certificate_deadline:
                shift, _ = certificate.randomized_shift(S, target / 2, seed=eigen_seed)
                proof = "randomized"
            else:
                shift = certificate.certified_shift(
                    S, start, device=device, deadline=certificate_deadline,
                    factorise=not randomized,
                )
            if shift == certificate.gershgorin_shift(S):
                proof = "Gershgorin"
            return optimizer.Y, primal, primal + n * shift / 4, False, optimizer.iterations, \
                reason, proof
        next_check = int(growth * optimizer.iterations) + 1


def _roundings(Y, adjacency, total_weight, generator):
    """HYPERPLANES hyperplane roundings of Y as rows of spins, best cut first (int8, CPU: a
    byte a spin, 256 MB at 10⁶ nodes)."""
    spins, cuts = hyperplane_cuts(Y, adjacency, total_weight, HYPERPLANES, generator=generator)
    order = torch.argsort(cuts.cpu(), descending=True)
    return np.ascontiguousarray(spins.to("cpu", torch.int8).numpy().T[order.numpy()])


def solve_max_cut(
    n, u, v, w, *, runtime, rank=None, tol=1e-4, max_iter=2000, time_limit=None,
    max_moves=None, chains=None, certificate_kind="auto",
):
    """Max-cut of the graph with edges (u[k], v[k]) of weight w[k] (each undirected edge once).

    The SDP runs on ``runtime``'s device in its precision, every random draw comes from its
    generator. Returns a :class:`MaxCutResult`. Self-loops must be removed by the caller.
    """
    generator = runtime.generator
    load_compiled()  # once per process, before the clock starts: it can take 13 s
    cycles.load_compiled()
    start = time.perf_counter()
    progress = Progress("max_cut_sdp")
    deadline = math.inf if time_limit is None else start + time_limit
    w = w.to(torch.float64)
    if w.numel() == 0 or not bool((w != 0).any()):
        spins = torch.ones(n, dtype=torch.float64)
        return MaxCutResult(
            x=spins, fun=0.0, nit=0, converged=True, reason="no edges", upper_bound=0.0,
            factor=torch.ones(n, 1, dtype=torch.float64), time=time.perf_counter() - start,
            proof="total weight",
        )
    adjacency, matrix = _adjacency(n, u, v, w, runtime.device, runtime.dtype)
    csr = (matrix.indptr, matrix.indices, matrix.data)
    integral = bool(torch.all(w == torch.round(w)))
    # Grids, tori, lattices: a bound from a matching, often tighter than the SDP's, and a
    # cut that is often maximum (see cycles.py). Its tie-breaks follow the user's seed
    # without drawing from the generator.
    relaxation = cycles.cycle_relaxation(
        matrix, np.random.default_rng(generator.initial_seed()),
        deadline=math.inf if time_limit is None else start + RELAXATION_TIME_SHARE * time_limit,
    )
    if relaxation is not None:
        progress("cycle relaxation: bound %.10g, cut %.10g", relaxation.bound, relaxation.cut,
                 force=True)
        if cycles.proven_maximum(relaxation.cut, relaxation.bound, integral):
            x = relaxation.spins * relaxation.spins[0]
            return MaxCutResult(
                x=torch.from_numpy(x), fun=relaxation.cut, nit=0, converged=False,
                reason="maximum cut, proven by the cycle relaxation",
                upper_bound=max(relaxation.bound, relaxation.cut),
                time=time.perf_counter() - start,
                sdp_value=math.nan, factor=None, proof="cycle relaxation",
            )
    randomized = certificate.uses_randomized_certificate(matrix, runtime.device,
                                                         certificate_kind)
    if rank is None:
        rank = default_rank(n, expander=randomized)
    sdp_deadline = certificate_deadline = math.inf
    if time_limit is not None:
        sdp_deadline = start + SDP_TIME_SHARE * time_limit
        # Past this, a bound that is not yet proven comes from Gershgorin (no factorisation).
        certificate_deadline = start + 0.8 * time_limit
    Y, primal, bound, certified, nit, reason, proof = solve_sdp(
        adjacency, matrix, rank=rank, tol=tol, max_iter=max_iter,
        deadline=sdp_deadline, generator=generator, certificate_deadline=certificate_deadline,
        randomized=randomized,
    )
    sdp_time = time.perf_counter() - start
    interrupted = reason == INTERRUPTED
    progress("SDP: value %.10g, bound %.10g (%s), %d iterations", primal, bound,
             "certified" if certified else reason, nit, force=True)

    eps = 1e-9 * float(np.abs(csr[2]).max())
    roundings = _roundings(Y, adjacency, float(w.sum()), generator)
    if relaxation is not None:
        # Its cut is the search's first start: on the tori a few edges short of the bound.
        roundings = np.vstack([relaxation.spins.astype(np.int8), roundings])
        if relaxation.bound < bound:
            bound, proof = relaxation.bound, "cycle relaxation"
    # A cut at the bound is maximum; with integer weights, so is one at the bound's floor.
    optimum = math.floor(bound) if integral else bound
    budget = math.inf if max_moves is None else max_moves
    chains = chains or default_chains()
    timed = time_limit is not None
    x, moves = None, 0
    if not interrupted:
        run_stall_per_node = max(1, round(RUN_STALL_VISITS_PER_NODE * n / len(csr[1])))
        if not timed:
            run_stall_per_node = min(run_stall_per_node, RUN_STALL_MOVES_PER_NODE_UNTIMED)
        # The search's crossovers and seeds follow the user's seed through the generator.
        rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))
        _, x, moves, interrupted = memetic_search(
            csr, roundings, chains, budget, deadline, eps, rng, optimum=optimum,
            run_stall=n * run_stall_per_node,
            stall_grows=timed,
            stagnation=Stagnation(STALL_RUNS_TIMED) if timed
            else Stagnation(STALL_RUNS, MIN_GAIN_PER_DOUBLING, GAIN_CHECK_FROM_RUNS),
            progress=progress,
            # The relaxation's cut is a few edges short of the bound, and annealing (which
            # starts hot) would throw it away: on the tori G66, G67 and G81 (seed 0,
            # time_limit=30) annealed runs gave 0.9940, 0.9963 and 0.9956 of the best known
            # against 0.9984, 0.9994 and 1.0011 without.
            annealing=timed and relaxation is None,
            temperature_unit=float(np.abs(csr[2]).mean()),
        )
    # No run was made (max_moves=0, or interrupted during the SDP): the best rounding.
    x = roundings[0].astype(np.float64) if x is None else x.copy()
    # Recompute gains exactly and finish at a strict 1-flip optimum.
    descend(*csr, x, gains(*csr, x), 1e-3 * eps)
    value = cut_value(*csr, x)
    if x[0] < 0:
        x = -x
    if interrupted:
        reason = INTERRUPTED
    # No cut weighs more than the positive weights together, which beats a Gershgorin
    # fallback on some graphs (33 700 against 30 000 on a cubic graph of 20 000 nodes).
    positive = float(w.clamp_min(0).sum())
    if positive < bound:
        bound, proof = positive, "total weight"
    return MaxCutResult(
        x=torch.from_numpy(x), fun=value, nit=nit, converged=certified, reason=reason,
        upper_bound=max(bound, value), time=time.perf_counter() - start, sdp_value=primal,
        factor=Y.to("cpu", torch.float64), moves=moves,
        sdp_time=sdp_time, proof=proof,
    )
