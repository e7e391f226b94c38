"""The array-level entry point: two square matrices in, a permutation and its objective out."""

import inspect
import math
import numbers
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch

from ..core.assignment import linear_assignment, permutation_matrices, sinkhorn_transport
from ..core.results import INTERRUPTED, OptimizationResult, warn_if_interrupted
from ..core.runtime import Runtime
from .frank_wolfe import METHODS, best_response_walk
from .grouped import RelaxationRequest, run_alone
from .local_search import load_compiled, two_opt
from .problem import PADDINGS, objective, pad, reduce
from .subtree import edge_pairs, level_work, subtree_similarity


# The Frank–Wolfe methods and pairwise-swap descent alone (SciPy's "2opt").
QAP_METHODS = METHODS + ("2opt",)

# Free nodes up to which the 2-opt polish is on by default: a pass costs O(n^3).
LOCAL_SEARCH_LIMIT = 200
# Without the polish, a start walks on from its projection (best_response_walk), at most
# WALK_STEPS steps, while that raises the objective, where its relaxation ended unfinished:
# diffuse, with less than DIFFUSE_MASS of P's mass on the projection, or at max_iter. Measured
# at the end of GOAT on correlated pairs (rho = 0.9): 0.99-1.0 where it matched all
# identifiable nodes (n = 1000 to 2000, p = 0.005 and log n / n), 0.0100 where it stopped at
# 49.1% (n = 5000, p = 0.1); at rho = 0.8 a failed start (1.1% matched) ended sharp, at 0.87,
# in another optimum. A sharp end at max_iter can be unfinished too: n = 2000, p = 0.01,
# rho = 0.8 (draw 2 of bench_matching_sparse.py) stopped with 92.5% of the mass on a
# projection that matched 85.2%; its walk matched all. Converged sharp ends do not walk: it
# cost 147 s against 138 s at n = 10 000 (p = log n / n, rho = 0.9, 100% either way), and
# on the GPU a wait per step and start.
DIFFUSE_MASS = 0.5
WALK_STEPS = 10
# An unseeded maximisation whose answer keeps less than WEAK_SHARE of what a perfect match
# could (its objective over ||A|| ||B||, Frobenius norms: the share of edges kept, on two
# graphs of equal size) gets one more start: from the sub-tree similarity (subtree.py)
# where its levels are affordable, else from single-pair guesses. The best answer is kept,
# so the start can only help. Correlated pairs (rho = 0.8) that GOAT failed kept 0.17-0.41
# of the edges; those it matched, 0.8-0.9.
WEAK_SHARE = 0.5
# The sub-tree start: as deep as its levels fit in SUBTREE_WORK score reads (about a minute
# on two cores), at most SUBTREE_MAX_DEPTH, and not at all below SUBTREE_MIN_DEPTH. Depth 3
# was too shallow on n = 1000, p = 0.01 (3.7% matched), depth 4 enough; deeper levels
# sharpen the scores further.
SUBTREE_MIN_DEPTH = 4
SUBTREE_MAX_DEPTH = 8
SUBTREE_WORK = 5e9
# The trees of the sub-tree start do not turn back (Piccioli et al.'s messages, subtree.py)
# where at least NONBACKTRACKING_MIN_DEPTH of their levels fit in SUBTREE_WORK and their
# edge-pair scores in NONBACKTRACKING_MAX_PAIRS. Their levels read about d^2 times more
# scores than the node trees' (d the mean degree), so they are affordable on the sparsest
# pairs only, which is where the node trees' echo of their own root blurs most. On
# n = 1000, p = 0.005, rho = 0.8, draw 2 of bench_matching_sparse.py (98.5% identifiable),
# GOAT from the node trees' start (depth 8, 1.6 s, its linear assignment right for 5.6% of
# the nodes) matched 8.7%; from the non-backtracking trees' at depths 3, 4, 5, 6, 7 (6-25 s;
# 2.4, 4.1, 8.1, 22, 53% right) 3.1, 4.9, 98.5, 98.4, 98.4%. On correlated pairs with
# n = 300 and mean degree 5 (rho = 0.8, draws 1, 2, 6, 11 of the tests' model) the node
# trees' starts (depth 8, 11-12% right) ended at 21-36% matched, the non-backtracking trees'
# (89-98% right, 3 s) at 98-100%.
NONBACKTRACKING_MIN_DEPTH = 6
NONBACKTRACKING_MAX_PAIRS = 2**26  # 512 MB a level's float64 scores
# Single-pair guesses: one pair (i, j) taken as a seed, a run of PROBE_ITERATIONS iterations
# from the barycenter of the other nodes, walked on (or polished); one true pair is enough
# where the barycenter's start fails. The guesses pair the PROBE_TOP largest-degree nodes of
# each graph in increasing order of rank sum: degrees correlate only about as the edges do
# (0.8 at rho = 0.8), but over 20 draws each at n = 1000 and 2000, p = 0.01, 0.05, 0.1, a
# true pair was among the 64 in 119 of the 120 draws and among the first 32 in 110, the
# first at position 2-10 in the median draw (10-31 in the fifth-worst). They run one at a
# time, at most PROBE_COUNT, and the first that keeps WEAK_SHARE is the start of a full run.
# 32 missed n = 2000, p = 0.05, draw 6 (its first true pair is the 43rd; 1.5% matched
# after 190 s; 100% in 253 s with 64): a draw where every guess fails now takes twice as
# long, about 5.6 s a guess there.
# The pair used to be only a start (partial_guess's, P's row i and column j put together),
# eight such starts batched: on n = 2000, p = 0.05, rho = 0.8 seven of the eight
# largest-degree nodes' true pairs reached 100% so, but on n = 2000, p = 0.1, draw 3 of
# bench_matching_sparse.py, neither of the two true pairs among the guesses (positions 3
# and 29) did, after 4 iterations or 20 (1.1%, 207 s for all 32); as a seed each matched
# all, and the run took 39 s. As seeds the guesses also cost less: the p = 0.05 pair above
# took 48.5 s instead of 61.5 s with a peak of 1.0 GB instead of 2.4 GB (2026-12-05).
# Spreading the guess (the top 4, 8 or 16 nodes over as many columns, or every node over
# the columns of similar degree rank) matched none. Not where the sub-tree start runs: on
# correlated pairs at rho = 0.7, which neither recovers, guessing after it too took
# n = 1000, p = log n / n from 7.9 s to 137 s.
PROBE_TOP = 8
PROBE_COUNT = 64
PROBE_ITERATIONS = 4
# Problems up to this size are kept in dense NumPy arrays, and FAQ on the CPU runs on them
# in NumPy rather than torch (see faq_host.faq_on_host).
SMALL_PROBLEM = 200


@dataclass(frozen=True)
class QAPResult(OptimizationResult):
    """What :func:`quadratic_assignment` returns (SciPy's field names where they exist).

    ``x`` is the permutation (also ``col_ind``), ``fun`` its objective, ``nit`` and
    ``converged`` those of the start that gave it; fields read as ``result.fun`` or
    ``result["fun"]``.

    Attributes
    ----------
    col_ind : numpy.ndarray of int
        ``col_ind[i]`` is the row of B matched to row ``i`` of A; -1 where A is larger than B
        and row ``i`` was matched to padding.
    fun : float
        The objective of ``col_ind``, recomputed exactly from A, B and the similarity:
        :math:`\\sum_{ij} A_{ij} B_{c_i c_j} + \\sum_i S_{i c_i}` over the matched rows.
    nit : int
        Frank–Wolfe iterations of the start that gave ``col_ind`` (for 2-opt, its swaps).
    converged : bool
        Whether that start met ``tol`` before ``max_iter`` (2-opt: always).
    reason : str
        Why that start stopped.
    start : int
        Which start gave ``col_ind`` (0 is the barycenter; ``n_init`` the extra start of
        a weak answer, where one was made).
    start_objectives : numpy.ndarray
        The objective reached from each start (``n_init`` of them, or one more with the
        extra start; the guesses' short runs are not starts).
    time : float
        Seconds in all.
    """

    start: int = 0
    start_objectives: np.ndarray = field(default=None, repr=False)

    @property
    def col_ind(self):
        """The permutation ``x`` under SciPy's name."""
        return self.x


def _add_limit(function):
    function.__doc__ = function.__doc__.replace("{limit}", str(LOCAL_SEARCH_LIMIT))
    return function


@_add_limit
def quadratic_assignment(
    A, B, method="faq", options=None, *, maximize=False, partial_match=None,
    partial_guess=None, similarity=None, padding="naive", n_init=1, max_iter=20, tol=0.03,
    local_search=None, P0="barycenter", init_perturbation=0.0, shuffle_input=False,
    time_limit=None, seed=None, device=None, dtype=None,
):
    r"""Solve a quadratic assignment problem approximately (FAQ, GOAT or 2-opt).

    Finds a permutation :math:`c` that minimises (or maximises)
    :math:`\sum_{ij} A_{ij} B_{c_i c_j} + \sum_i S_{i c_i}`, the Koopmans–Beckmann form that
    :func:`scipy.optimize.quadratic_assignment` solves, with its ``partial_match`` seeds, plus
    a linear similarity term, several layers, unequal sizes, several starts run as one batch,
    and a GPU. SciPy's call ``quadratic_assignment(A, B, method, options)`` works unchanged.

    Parameters
    ----------
    A, B : array_like or sparse matrix, square, or a list of them
        Real, finite (NumPy arrays, SciPy sparse matrices or torch tensors). Different sizes
        are padded (see ``padding``). Lists of equally many matrices (or 3-D arrays) are
        layers, several edge types of one network: the objective sums
        :math:`\sum_{ij} A^{(l)}_{ij} B^{(l)}_{c_i c_j}` over the layers l.
    method : {"faq", "goat", "2opt"}
        The direction of each Frank–Wolfe step: a permutation by linear assignment (FAQ) or an
        entropic transport plan by Sinkhorn (GOAT); or no relaxation, only pairwise swaps
        from random permutations (``"2opt"``, SciPy's method of that name).
    options : dict, optional
        SciPy's options by SciPy's names: ``maximize``, ``partial_match``, ``P0``, ``rng``
        (= ``seed``), ``maxiter`` (= ``max_iter``), ``tol``, ``shuffle_input`` and
        ``partial_guess``. An option given both here and as a keyword is an error.
    maximize : bool
        Maximise instead of minimise (graph matching maximises).
    partial_match : array_like of int, shape (s, 2), optional
        Seeds: rows ``(i, j)`` fix row i of A to row j of B. A tuple ``(rows_A, rows_B)`` of
        two equally long sequences is read as columns (graspologic's form), except with
        exactly two seeds, where both readings are possible: that is an error.
    partial_guess : array_like of int, shape (g, 2), optional
        Pairs ``(i, j)`` the first start puts together, still free to move: Frank–Wolfe
        starts from them with the other rows at their barycenter, 2-opt from them with the
        other rows at random. Not with a ``P0`` matrix.
    similarity : array_like or sparse matrix, shape (len(A), len(B)), optional
        S, a linear reward (when maximising) or cost for each pair.
    padding : {"naive", "adopted"}
        With unequal sizes, pad the smaller matrix with isolated nodes (``"naive"``), or also
        map both to 2M - 1 first (``"adopted"``, Fishkind et al. 2019), so that the smaller
        graph is matched to an induced subgraph of the larger. ``fun`` is always computed on
        A and B as given.
    n_init : int
        Number of starts, run as one batch: ``P0``, then alternately a random permutation
        matrix (a vertex of the doubly stochastic polytope) and SciPy's randomized start
        (halfway between the barycenter and a random doubly stochastic matrix). The best
        result is kept. For 2-opt, random permutations. An unseeded maximisation of two
        equally large graphs from the default start whose best answer keeps less than half
        of what a perfect match could (the objective over the product of the Frobenius
        norms) gets one more start: from the nodes' neighbourhood trees (a sub-tree
        similarity) where that is affordable, else from the first of up to 64 guessed
        pairs of large-degree nodes whose short run, with the pair as a seed, leads
        somewhere (see the documentation's Method).
    max_iter : int
        Frank–Wolfe iterations per start. 20, not SciPy's 30: with the 2-opt polish, ten
        more iterations moved the QAPLIB gaps (ten starts, ten seeds) only from a mean of
        2.0% and a median of 0.9% to 1.9% and 0.8%, for a third more time.
    tol : float
        A start stops when a step changes P by less than this: Frobenius norms over
        :math:`\sqrt n` (a permutation's norm; SciPy's test) for FAQ; for GOAT, whose
        iterates can stay diffuse for many steps, the step over the norm of P, once P has
        moved at least this far from its start.
    time_limit : float, optional
        Seconds for the Frank–Wolfe iterations (all starts together, checked every
        iteration); when it runs out, every start is projected and polished as it stands and
        ``reason`` says so. The projection and the 2-opt polish come on top. The extra
        start (see ``n_init``) is not begun after it; the sub-tree similarity checks it
        between its levels, each up to 20 s on two cores, the guesses' runs every iteration.
    local_search : bool or None
        Improve each start's permutation by pairwise swaps (2-opt) until no swap improves
        the objective. A pass costs :math:`O(n^3)`; None (default) means on for at most
        {limit} free nodes.
    P0 : "barycenter", "randomized" or array_like, shape (m, m)
        The first Frank–Wolfe start, over the m unseeded rows of the (padded) problem in
        increasing order: the barycenter (every entry 1/m), SciPy's randomized start (then
        every start is one), or a doubly stochastic matrix.
    init_perturbation : float in [0, 1]
        Mix every Frank–Wolfe start with a random doubly stochastic matrix with this weight
        (graspologic's option): each start is then ``(1 - t) P0 + t K``.
    shuffle_input : bool
        Order the unseeded rows of B at random before solving (SciPy's option): ties between
        equal gradients are then broken at random instead of by index.
    seed : None, int, numpy or torch random generator
        For the randomised starts.
    device, dtype : optional
        Where to compute: "auto" (CUDA when available), "cpu", "cuda", ...; "float64"
        (default) or "float32".

    Returns
    -------
    QAPResult
        ``col_ind``, ``fun``, ``nit`` and more.

    Raises
    ------
    ValueError
        If a matrix is not square, not finite or not real, the shapes disagree, an option is
        not valid, or the objective of the answer overflows float64 (matrices of any scale
        are solved: they are rescaled by powers of two, exactly).

    Examples
    --------
    A weighted 3-cycle matched to a relabelled copy of itself is recovered:

    >>> import numpy as np
    >>> from nx_gradopt import quadratic_assignment
    >>> A = np.array([[0, 5, 1], [5, 0, 2], [1, 2, 0]])
    >>> B = A[[2, 0, 1]][:, [2, 0, 1]]
    >>> result = quadratic_assignment(A, B, maximize=True)
    >>> result.col_ind, result.fun
    (array([1, 2, 0]), 60.0)
    """
    result = run_alone(quadratic_assignment_steps(
        A, B, method, options, maximize=maximize, partial_match=partial_match,
        partial_guess=partial_guess, similarity=similarity, padding=padding, n_init=n_init,
        max_iter=max_iter, tol=tol, local_search=local_search, P0=P0,
        init_perturbation=init_perturbation, shuffle_input=shuffle_input,
        time_limit=time_limit, seed=seed, device=device, dtype=dtype,
    ))
    warn_if_interrupted("quadratic_assignment", result, "the best permutation", stacklevel=3)
    return result


def quadratic_assignment_steps(
    A, B, method="faq", options=None, *, maximize=False, partial_match=None,
    partial_guess=None, similarity=None, padding="naive", n_init=1, max_iter=20, tol=0.03,
    local_search=None, P0="barycenter", init_perturbation=0.0, shuffle_input=False,
    time_limit=None, seed=None, device=None, dtype=None,
):
    """:func:`quadratic_assignment` as a generator: it yields its Frank–Wolfe run as a
    :class:`~nx_gradopt.matching.grouped.RelaxationRequest`, receives that run's output and
    returns the QAPResult (``StopIteration.value``), so that :mod:`.grouped` can run the
    relaxations of several problems as one batch. It yields nothing when there is nothing
    to relax (2-opt, at most one free node, an empty matrix)."""
    started = time.perf_counter()
    (maximize, partial_match, partial_guess, P0, seed, max_iter, tol, shuffle_input) = (
        _with_scipy_options(options, dict(
            maximize=maximize, partial_match=partial_match, partial_guess=partial_guess,
            P0=P0, seed=seed, max_iter=max_iter, tol=tol, shuffle_input=shuffle_input,
        )).values()
    )
    if method not in QAP_METHODS:
        raise ValueError(f"`method` must be one of {QAP_METHODS}; got {method!r}")
    if padding not in PADDINGS:
        raise ValueError(f"`padding` must be one of {PADDINGS}; got {padding!r}")
    for name, value in (("maximize", maximize), ("shuffle_input", shuffle_input)):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"`{name}` must be True or False; got {value!r}")
    _check_count("n_init", n_init)
    _check_count("max_iter", max_iter)
    if not (local_search is None or isinstance(local_search, (bool, np.bool_))):
        raise ValueError(f"`local_search` must be None, True or False; got {local_search!r}")
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not 0 <= tol < math.inf:
        raise ValueError(f"`tol` must be a non-negative finite number; got {tol!r}")
    if time_limit is not None and (
        isinstance(time_limit, bool) or not isinstance(time_limit, numbers.Real)
        or not 0 < time_limit < math.inf
    ):
        raise ValueError(
            f"`time_limit` must be None or a positive finite number; got {time_limit!r}"
        )
    if (
        isinstance(init_perturbation, bool) or not isinstance(init_perturbation, numbers.Real)
        or not 0 <= init_perturbation <= 1
    ):
        raise ValueError(
            f"`init_perturbation` must be a number from 0 to 1; got {init_perturbation!r}"
        )
    a_layers, b_layers = _layers("A", A), _layers("B", B)
    if len(a_layers) != len(b_layers):
        raise ValueError(
            f"`A` and `B` must have equally many layers; got {len(a_layers)} and "
            f"{len(b_layers)}"
        )
    na, nb = a_layers[0].shape[0], b_layers[0].shape[0]
    seeds = _pairs("partial_match", partial_match, na, nb)
    guess = _pairs("partial_guess", partial_guess, na, nb)
    if len(guess) and len(seeds) and (
        np.isin(guess[:, 0], seeds[:, 0]).any() or np.isin(guess[:, 1], seeds[:, 1]).any()
    ):
        raise ValueError("`partial_guess` names a row that `partial_match` fixes already")
    if similarity is not None:
        similarity = _matrix("similarity", similarity)
        if similarity.shape != (na, nb):
            raise ValueError(
                f"`similarity` must have shape (len(A), len(B)) = {(na, nb)}; "
                f"got {similarity.shape}"
            )
    size = max(na, nb)
    m = size - len(seeds)
    # Small problems stay dense NumPy arrays throughout: SciPy's sparse bookkeeping cost
    # 1.4 ms a call at n = 12, where SciPy's whole FAQ takes 2 ms.
    small = size <= SMALL_PROBLEM
    a_layers = [_as_kind(a, small) for a in a_layers]
    b_layers = [_as_kind(b, small) for b in b_layers]
    if similarity is not None:
        similarity = _as_kind(similarity, small)
    first = _first_start(P0, guess, method, m, size, seeds, init_perturbation)
    runtime = Runtime.resolve(device, dtype, seed)
    if min(na, nb) == 0:  # SciPy answers an empty problem with an empty permutation
        return QAPResult(
            x=np.full(na, -1, dtype=np.int64), fun=0.0, nit=0, converged=True,
            reason="an empty matrix: nothing to optimise", time=time.perf_counter() - started,
            start_objectives=np.zeros(1),
        )
    if na == nb:
        padding = "naive"  # nothing to pad; 2M - 1 would only shift the relaxation
    sim = None if similarity is None else pad_rectangular(similarity, size)
    a_padded, b_padded, sim, exponent = _rescaled(
        [pad(a, size, padding) for a in a_layers], [pad(b, size, padding) for b in b_layers],
        sim,
    )
    order_b = torch.randperm(m, generator=runtime.generator).numpy() if shuffle_input else None
    host = small and method == "faq" and runtime.device.type == "cpu"
    problem = reduce(
        a_padded, b_padded, seeds, sim, device=runtime.device, dtype=runtime.dtype,
        order_b=order_b, host=host,
    )
    if isinstance(first, np.ndarray) and order_b is not None:
        first = first[:, order_b]  # its columns follow B's free rows in increasing order
    sign = 1.0 if maximize else -1.0
    deadline = math.inf if time_limit is None else started + time_limit
    if local_search is None:
        local_search = m <= LOCAL_SEARCH_LIMIT
    polish = (local_search or method == "2opt") and m > 1  # 2-opt always polishes
    walks = m > 1 and not (polish or host)
    if method == "2opt":
        # Every start is a permutation: the guessed pairs with the rest at random, or random.
        candidates = _random_permutations(n_init, m, runtime)[:, None, :]
        if first is not None:
            candidates[0, 0] = _completed(first, runtime)
        iterations, converged = np.zeros(n_init, dtype=np.int64), np.ones(n_init, dtype=bool)
        stopped = None
    elif m <= 1:
        candidates = np.zeros((1, 1, m), dtype=np.int64)
        iterations, converged = np.zeros(1, dtype=np.int64), np.ones(1, dtype=bool)
        stopped = None
    else:
        starts = _starts(n_init, m, runtime, first, init_perturbation)
        P, iterations, converged, visited, stopped = yield RelaxationRequest(
            problem, starts.numpy() if host else starts, sign=sign,
            method=method, max_iter=max_iter, tol=tol, deadline=deadline,
        )
        candidates, stopped = _candidates(
            problem, P, visited, converged, sign=sign, walk=walks, stopped=stopped,
            deadline=deadline,
        )
    if polish:
        load_compiled()
        # Small enough to polish is small enough to evaluate dense: a candidate's objective
        # then costs microseconds instead of the sparse indexing's half millisecond.
        a_padded, b_padded = _dense_layers(a_padded), _dense_layers(b_padded)
        sim = None if sim is None else _as_kind(sim, dense=True)
    # The reported objective is that of A and B as given, whatever the padding optimised.
    a_objective, b_objective, sim_objective = a_padded, b_padded, sim
    if padding != "naive":
        a_objective, b_objective, sim_objective, exponent = _rescaled(
            [pad(a, size, "naive") for a in a_layers],
            [pad(b, size, "naive") for b in b_layers],
            None if similarity is None else pad_rectangular(similarity, size),
        )
        if polish:
            a_objective, b_objective = _dense_layers(a_objective), _dense_layers(b_objective)
            sim_objective = None if sim_objective is None else _as_kind(sim_objective, dense=True)

    def evaluated(candidates):
        """Per start, its best candidate (polished) and that one's objective at the scale of
        A and B, and the swaps the polish made."""
        perms, values, swaps = [], [], []
        for start_candidates in candidates:
            seen = {}
            for free_perm in start_candidates:
                key = free_perm.tobytes()
                if key in seen:
                    continue
                perm = np.empty(size, dtype=np.int64)
                perm[problem.seeds_a] = problem.seeds_b
                perm[problem.free_a] = problem.free_b[free_perm]
                moves = 0
                if polish:
                    moves = two_opt(
                        a_padded, b_padded, sim, perm, problem.free_a, maximize=maximize,
                        near_optimal=method != "2opt",
                    )
                seen[key] = (
                    objective(a_objective, b_objective, sim_objective, perm), perm, moves
                )
            value, perm, moves = max(seen.values(), key=lambda item: sign * item[0])
            perms.append(perm)
            values.append(value)
            swaps.append(moves)
        with np.errstate(over="ignore"):  # an overflow is reported below
            return perms, np.ldexp(np.array(values), exponent), swaps

    perms, values, swaps = evaluated(candidates)

    def relaxed_from(permutation):
        """One more start, from a permutation of the free columns: its run's candidates
        evaluated (permutations, objectives, swaps), iterations, convergence, ``stopped``."""
        start = permutation_matrices(
            torch.as_tensor(permutation[None]), device=runtime.device, dtype=runtime.dtype,
        )
        P, more_iterations, more_converged, visited, stopped = yield RelaxationRequest(
            problem, start.numpy() if host else start, sign=sign,
            method=method, max_iter=max_iter, tol=tol, deadline=deadline,
        )
        more, stopped = _candidates(
            problem, P, visited, more_converged, sign=sign, walk=walks, stopped=stopped,
            deadline=deadline,
        )
        return (*evaluated(more), more_iterations, more_converged), stopped

    def probed(threshold):
        """The first single-pair guess (see PROBE_TOP) whose short run with the pair as a
        seed keeps at least ``threshold`` once projected and walked on (or polished), as a
        permutation of the free columns, or None; and ``stopped``."""
        column = np.argsort(problem.free_b)  # B's node -> its column among the free ones
        for row, node_b in _probe_pairs(a_layers[0], b_layers[0]):
            # GOAT whatever the method: from a true guess FAQ's runs did not find the truth
            # where GOAT's did (n = 250 and 300, p = 0.2 and 0.1: 0.8% and 0.3% matched).
            seeded = reduce(a_padded, b_padded, np.array([[row, node_b]]), sim,
                            device=runtime.device, dtype=runtime.dtype)
            # A fresh start for every guess: the run writes its final iterates into it.
            barycenter = torch.full((1, m - 1, m - 1), 1.0 / (m - 1), device=runtime.device,
                                    dtype=runtime.dtype)
            P, _, _, _, stopped = yield RelaxationRequest(
                seeded, barycenter, sign=sign, method="goat", max_iter=PROBE_ITERATIONS,
                tol=tol, deadline=deadline,
            )
            if stopped is not None:
                return None, stopped
            projection = linear_assignment(P).numpy()
            if walks:
                projection, interrupted = best_response_walk(
                    seeded, projection, sign=sign, max_steps=WALK_STEPS, deadline=deadline,
                )
                if interrupted:
                    return None, "interrupted"
            perm = np.empty(m, dtype=np.int64)  # no seeds here: every node is free
            perm[row] = node_b
            perm[seeded.free_a] = seeded.free_b[projection[0]]
            found, found_values, _ = evaluated([column[perm[problem.free_a]][None]])
            if found_values[0] >= threshold:
                return column[found[0][problem.free_a]], None
        return None, None

    if (
        method in METHODS and m > 1 and stopped is None and maximize and not len(seeds)
        and first is None and len(a_layers) == 1 and similarity is None and na == nb
    ):
        # Where the answer keeps little, one more start: from the neighbourhood trees where
        # their similarity is affordable, else from the first single-pair guess that leads
        # somewhere.
        threshold = WEAK_SHARE * _frobenius(a_layers[0]) * _frobenius(b_layers[0])
        permutation = None
        if float(np.max(values)) < threshold:
            depth, nonbacktracking = _subtree_depth(a_layers[0], b_layers[0])
            if depth >= SUBTREE_MIN_DEPTH:
                permutation, stopped = _subtree_start(
                    a_layers[0], b_layers[0], depth, nonbacktracking, problem, deadline,
                )
            elif depth:  # levels too costly (dense pairs): guesses instead
                permutation, stopped = yield from probed(threshold)
        if permutation is not None:
            (more_perms, more_values, more_swaps, more_iterations, more_converged), stopped = (
                yield from relaxed_from(permutation)
            )
            perms, swaps = perms + more_perms, swaps + more_swaps
            values = np.concatenate([values, more_values])
            iterations = np.concatenate([iterations, more_iterations])
            converged = np.concatenate([converged, more_converged])
    best = int(np.argmax(sign * values))
    if not math.isfinite(values[best]):
        raise ValueError(
            "the objective of the answer overflows float64: divide A or B by a large factor"
        )
    col_ind = perms[best][:na].copy()
    col_ind[col_ind >= nb] = -1
    if stopped == "interrupted":
        reason = INTERRUPTED
    elif stopped == "time limit" and not converged[best]:
        reason = f"time limit {time_limit:g} s reached"
    elif method == "2opt":
        reason = "no swap of two rows improves the objective"
        iterations = np.array(swaps)  # SciPy counts 2-opt's swaps as its iterations
    elif m <= 1:
        reason = "at most one free node: nothing to optimise"
    elif converged[best]:
        reason = f"Frank–Wolfe step below tol={tol:g}"
    else:
        reason = f"max_iter={max_iter} iterations"
    result = QAPResult(
        x=col_ind, fun=float(values[best]), nit=int(iterations[best]),
        converged=bool(converged[best]), reason=reason, time=time.perf_counter() - started,
        start=best, start_objectives=values,
    )
    return result


def _candidates(problem, P, visited, converged, *, sign, walk, stopped, deadline):
    """Per start, the permutations to evaluate: the final projection (the permutation
    nearest P) and the best vertex the iterations visited, as a (k, 2, m) array; and the
    relaxation's ``stopped``, "interrupted" if Ctrl-C stopped the walk.

    With ``walk``, a start whose relaxation ended unfinished (diffuse: little of P's mass on
    its projection, or not ``converged``) walks on from its projection (see
    best_response_walk and DIFFUSE_MASS)."""
    projections = linear_assignment(P)
    candidates = np.stack([projections.numpy(), visited], axis=1)
    if walk and stopped is None:
        mass = P.gather(2, projections.unsqueeze(2).to(P.device)).mean(dim=(1, 2))
        unfinished = (mass.cpu().numpy() < DIFFUSE_MASS) | ~np.asarray(converged)
        if unfinished.any():
            candidates[unfinished, 0], interrupted = best_response_walk(
                problem, candidates[unfinished, 0], sign=sign, max_steps=WALK_STEPS,
                deadline=deadline,
            )
            if interrupted:
                stopped = "interrupted"
    return candidates, stopped


def _subtree_depth(a, b):
    """The sub-tree similarity's depth for graphs ``a`` and ``b``, and whether its trees are
    non-backtracking: as many levels as fit in SUBTREE_WORK score reads, at most
    SUBTREE_MAX_DEPTH, non-backtracking where at least NONBACKTRACKING_MIN_DEPTH of theirs
    fit and their scores fit in NONBACKTRACKING_MAX_PAIRS (depth 0 where there is nothing to
    compare)."""
    work = level_work(a, b, nonbacktracking=True)
    if work and edge_pairs(a, b) <= NONBACKTRACKING_MAX_PAIRS:
        depth = min(SUBTREE_MAX_DEPTH, 1 + int(SUBTREE_WORK // work))
        if depth >= NONBACKTRACKING_MIN_DEPTH:
            return depth, True
    work = level_work(a, b)  # zero for graphs of self-loops only
    return (min(SUBTREE_MAX_DEPTH, 1 + int(SUBTREE_WORK // work)) if work else 0), False


def _subtree_start(a, b, depth, nonbacktracking, problem, deadline):
    """The start from the sub-tree similarity of graphs ``a`` and ``b`` (unseeded, equal
    sizes) at ``depth``, as a permutation of the problem's free columns (None where it was
    stopped), and what stopped it: "interrupted" (Ctrl-C), "time limit", or None."""
    try:
        scores = subtree_similarity(a, b, depth, deadline, nonbacktracking=nonbacktracking)
    except KeyboardInterrupt:
        return None, "interrupted"
    if scores is None:  # the time limit came first: the answer so far stands
        return None, "time limit"
    scores = scores[np.ix_(problem.free_a, problem.free_b)]
    return linear_assignment(torch.from_numpy(scores)[None])[0].numpy(), None


def _probe_pairs(a, b):
    """The single-pair guesses, as (node of a, node of b) rows: the PROBE_TOP nodes of
    largest degree (absolute weights, in and out) of each graph, every pair of them, in
    increasing order of the sum of their ranks, PROBE_COUNT at most."""
    def by_degree(matrix):
        magnitude = abs(matrix)
        degree = np.asarray(magnitude.sum(axis=0)).ravel() + np.asarray(
            magnitude.sum(axis=1)).ravel()
        return np.argsort(-degree, kind="stable")[:PROBE_TOP]

    top_a, top_b = by_degree(a), by_degree(b)
    ranks = sorted(
        ((r + c, r, c) for r in range(len(top_a)) for c in range(len(top_b)))
    )[:PROBE_COUNT]
    return np.array([(top_a[r], top_b[c]) for _, r, c in ranks], dtype=np.int64)


def _frobenius(matrix):
    """The Frobenius norm, without overflow for entries up to 1e308."""
    entries = np.abs(_entries(matrix))
    largest = float(entries.max(initial=0.0))
    return largest * math.sqrt(float(np.sum((entries / largest) ** 2))) if largest else 0.0


def _starts(n_init, m, runtime, first=None, perturbation=0.0):
    """The Frank–Wolfe starts: ``first`` (the barycenter when None), then alternately a random
    permutation matrix and a random doubly stochastic matrix halfway to the barycenter
    (SciPy's ``P0="randomized"``); all of the second kind when ``first`` is "randomized";
    ``first`` mixed with a random doubly stochastic matrix each when ``perturbation`` > 0.

    The two kinds reach different local optima. From vertex starts alone, Frank–Wolfe and
    the 2-opt polish missed optima on QAPLIB instances that SciPy's interior starts found
    (nug12, scr12, tai12a); from interior starts alone, 40 starts missed the optimum of
    4-node problems that 40 vertex starts found. Mixed, with ten starts of 20 iterations,
    the QAPLIB gaps averaged over ten seeds fell from a mean of 2.4% to 2.0% and a median of
    1.2% to 0.9%.
    """
    device, dtype = runtime.device, runtime.dtype
    starts = torch.full((n_init, m, m), 1.0 / m, device=device, dtype=dtype)
    if isinstance(first, np.ndarray):
        starts[0] = torch.as_tensor(first, device=device, dtype=dtype)
    if isinstance(first, str):  # "randomized"
        starts[:] = (_random_doubly_stochastic(n_init, m, runtime) + 1.0 / m) / 2
        return starts
    if perturbation > 0:
        mixed = _random_doubly_stochastic(n_init, m, runtime)
        return (1.0 - perturbation) * starts[:1] + perturbation * mixed
    interior = list(range(2, n_init, 2))
    # The random draws are made on the CPU (the same starts on every device) and are all
    # that crosses the bus: the matrices are built where they are used.
    for index in range(1, n_init, 2):
        order = torch.randperm(m, generator=runtime.generator).to(device)
        starts[index] = 0.0
        starts[index, torch.arange(m, device=device), order] = 1.0
    if interior:
        starts[torch.tensor(interior, device=device)] = (
            _random_doubly_stochastic(len(interior), m, runtime) + 1.0 / m
        ) / 2
    return starts


def _dense_layers(layers):
    return [_as_kind(layer, dense=True) for layer in layers]


def _random_doubly_stochastic(count, m, runtime):
    """``count`` uniform random (m, m) matrices balanced by Sinkhorn (its plan for log K)."""
    uniform = 1.0 - torch.rand((count, m, m), generator=runtime.generator, dtype=torch.float64)
    balanced, _ = sinkhorn_transport(
        uniform.to(device=runtime.device, dtype=runtime.dtype).log(),
        torch.ones(count, device=runtime.device, dtype=runtime.dtype),
        tol=1e-3,
    )
    return balanced


def _random_permutations(count, m, runtime):
    return np.stack(
        [torch.randperm(m, generator=runtime.generator).numpy() for _ in range(count)]
    ).reshape(count, m)


def _completed(first, runtime):
    """A permutation from a start whose guessed rows are one-hot: the rest at random."""
    m = len(first)
    perm = np.full(m, -1, dtype=np.int64)
    guessed = np.flatnonzero(first.max(axis=1) == 1.0)
    perm[guessed] = first[guessed].argmax(axis=1)
    rest = np.setdiff1d(np.arange(m), perm[guessed])
    perm[perm < 0] = rest[torch.randperm(len(rest), generator=runtime.generator).numpy()]
    return perm


def _first_start(P0, guess, method, m, size, seeds, perturbation):
    """The first start: None (the barycenter), "randomized", or an (m, m) NumPy matrix over
    the free rows in increasing order (``P0`` as given, or the guess with the rest uniform)."""
    is_name = isinstance(P0, str)
    if is_name and P0 not in ("barycenter", "randomized"):
        raise ValueError(
            f"`P0` must be 'barycenter', 'randomized' or a doubly stochastic matrix; got {P0!r}"
        )
    if method == "2opt":
        if not is_name:
            raise ValueError("`P0` is a Frank–Wolfe start; 2opt starts from `partial_guess`")
        if perturbation:
            raise ValueError("`init_perturbation` applies to Frank–Wolfe starts, not to 2opt")
    elif not is_name:
        if len(guess):
            raise ValueError("give `P0` or `partial_guess`, not both")
        matrix = np.asarray(P0)
        if matrix.dtype == object or not np.issubdtype(matrix.dtype, np.number):
            raise ValueError(f"`P0` must be a doubly stochastic matrix; got {P0!r}")
        matrix = matrix.astype(np.float64)
        if matrix.shape != (m, m):
            raise ValueError(
                f"`P0` must have shape (m, m) = {(m, m)}, one row and column per unseeded "
                f"row of the padded problem; got {matrix.shape}"
            )
        if not (
            np.isfinite(matrix).all() and (matrix >= 0).all()
            and np.allclose(matrix.sum(axis=0), 1) and np.allclose(matrix.sum(axis=1), 1)
        ):
            raise ValueError("`P0` must be doubly stochastic: non-negative, rows and columns "
                             "summing to 1")
        return matrix
    if not len(guess):
        return "randomized" if P0 == "randomized" and method != "2opt" else None
    if P0 == "randomized":
        raise ValueError("give `P0='randomized'` or `partial_guess`, not both")
    free_a = np.setdiff1d(np.arange(size), seeds[:, 0])
    free_b = np.setdiff1d(np.arange(size), seeds[:, 1])
    rows, cols = np.searchsorted(free_a, guess[:, 0]), np.searchsorted(free_b, guess[:, 1])
    matrix = np.zeros((m, m))
    rest_rows, rest_cols = np.setdiff1d(np.arange(m), rows), np.setdiff1d(np.arange(m), cols)
    if len(rest_rows):
        matrix[np.ix_(rest_rows, rest_cols)] = 1.0 / len(rest_rows)
    matrix[rows, cols] = 1.0
    return matrix


# SciPy's option names and the keywords they set.
_SCIPY_OPTIONS = {
    "maximize": "maximize", "partial_match": "partial_match", "partial_guess": "partial_guess",
    "P0": "P0", "rng": "seed", "maxiter": "max_iter", "tol": "tol",
    "shuffle_input": "shuffle_input",
}


def _with_scipy_options(options, settings):
    """``settings`` (keyword values) updated from SciPy's ``options`` dict."""
    if options is None:
        return settings
    if not isinstance(options, Mapping):
        raise ValueError(f"`options` must be a dict of SciPy's option names; got {options!r}")
    defaults = inspect.signature(quadratic_assignment).parameters
    settings = dict(settings)
    for key, value in options.items():
        if key not in _SCIPY_OPTIONS:
            raise ValueError(
                f"`options` has the unknown key {key!r}; the known keys are "
                f"{sorted(_SCIPY_OPTIONS)}"
            )
        name = _SCIPY_OPTIONS[key]
        default = defaults[name].default
        current = settings[name]
        if current is not default and not (
            type(current) is type(default) and current == default
        ):
            raise ValueError(f"`{name}` is given twice: as a keyword and as options[{key!r}]")
        settings[name] = value
    return settings


def _rescaled(a_layers, b_layers, similarity):
    """The matrices scaled by powers of two (exactly), so that the largest products of A's
    and B's entries, and the largest similarity, are about 1; and the exponent that scales
    an objective back. Entries near 1e300 or 1e-300 are then solved like any others."""
    ka, kb = _exponent(a_layers), _exponent(b_layers)
    total = ka + kb
    if similarity is not None and _entries(similarity).any():
        total = max(total, _exponent([similarity]))
    a_layers = [_times_power_of_two(a, -ka) for a in a_layers]
    b_layers = [_times_power_of_two(b, ka - total) for b in b_layers]
    if similarity is not None:
        similarity = _times_power_of_two(similarity, -total)
    return a_layers, b_layers, similarity, total


def _exponent(matrices):
    """e with the largest |entry| in [2^(e-1), 2^e); 0 for zero matrices."""
    largest = max(float(np.abs(entries).max()) if entries.size else 0.0
                  for entries in map(_entries, matrices))
    return math.frexp(largest)[1]


def _entries(matrix):
    return matrix.data if sp.issparse(matrix) else matrix


def _times_power_of_two(matrix, exponent):
    """A new matrix of the same kind with the entries times 2**exponent (the input is not
    touched)."""
    if not sp.issparse(matrix):
        return np.ldexp(matrix, exponent)
    return sp.csr_array(
        (np.ldexp(matrix.data, exponent), matrix.indices, matrix.indptr), shape=matrix.shape
    )


def pad_rectangular(matrix, size):
    """A (p, q) matrix padded with zeros to (size, size), dense or CSR as it comes."""
    if not sp.issparse(matrix):
        padded = np.zeros((size, size))
        padded[:matrix.shape[0], :matrix.shape[1]] = matrix
        return padded
    matrix = sp.coo_array(matrix)
    return sp.csr_array((matrix.data, (matrix.row, matrix.col)), shape=(size, size))


def _check_count(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer; got {value!r}")


def _matrix(name, value):
    """A float64 copy of a 2-D array, sparse matrix or tensor, checked finite: a NumPy array
    for dense input, a SciPy CSR array for sparse input."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.layout != torch.strided:
            value = sp.csr_array(value.to_dense().numpy())
        else:
            value = value.numpy()
    if sp.issparse(value):
        matrix = sp.csr_array(value)
        data = matrix.data
    else:
        data = matrix = np.asarray(value)
        if data.ndim != 2:
            raise ValueError(f"`{name}` must be a 2-D array; got shape {data.shape}")
    if data.dtype == object or not (
        np.issubdtype(data.dtype, np.number) or np.issubdtype(data.dtype, np.bool_)
    ) or np.issubdtype(data.dtype, np.complexfloating):
        raise ValueError(f"`{name}` must hold real numbers; got dtype {data.dtype}")
    if not np.isfinite(data).all():
        raise ValueError(f"`{name}` must be finite; it holds NaN or infinite entries")
    if sp.issparse(matrix):
        return sp.csr_array(matrix, dtype=np.float64)
    return matrix.astype(np.float64)


def _as_kind(matrix, dense):
    """``matrix`` (NumPy or SciPy sparse) as a dense array or as a CSR array."""
    if dense:
        return matrix.toarray() if sp.issparse(matrix) else matrix
    return sp.csr_array(matrix)


def _square_matrix(name, value):
    matrix = _matrix(name, value)
    if matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"`{name}` must be square; got shape {matrix.shape}")
    return matrix


def _layers(name, value):
    """A matrix, or a list of them (a 3-D array), as a list of square CSR layers."""
    if isinstance(value, (list, tuple)) and value and all(
        sp.issparse(item) or isinstance(item, (np.ndarray, torch.Tensor)) for item in value
    ):
        items = list(value)
    elif not (sp.issparse(value) or isinstance(value, torch.Tensor)) and np.ndim(value) == 3:
        items = list(np.asarray(value))
    else:
        return [_square_matrix(name, value)]
    if not items:
        raise ValueError(f"`{name}` must be a matrix or a list of matrices; got no layer")
    layers = [_square_matrix(f"{name}[{index}]", item) for index, item in enumerate(items)]
    shapes = {layer.shape for layer in layers}
    if len(shapes) > 1:
        raise ValueError(f"the layers of `{name}` must have one shape; got {sorted(shapes)}")
    return layers


def pair_rows(name, value):
    """Pairs given as rows (an (s, 2) array, a list of pairs, a mapping's items) or, as
    graspologic takes them, as a tuple of two columns ``(firsts, seconds)``.

    With exactly two pairs a tuple reads both ways, ``((a1, a2), (b1, b2))`` being two pairs
    or two columns; rather than guess, that is an error.
    """
    if hasattr(value, "items"):
        return list(value.items())
    if isinstance(value, tuple) and len(value) == 2 and all(
        not isinstance(item, (str, bytes)) and np.ndim(item) == 1 for item in value
    ):
        firsts, seconds = list(value[0]), list(value[1])
        if len(firsts) == 2 and len(seconds) == 2:
            raise ValueError(
                f"`{name}`={value!r} is ambiguous: two pairs, or the two columns of two pairs; "
                "pass a list of pairs or an (s, 2) array (rows are pairs), or a dict"
            )
        if len(firsts) != len(seconds):
            raise ValueError(
                f"`{name}` as a tuple of columns needs two equally long sequences; got "
                f"lengths {len(firsts)} and {len(seconds)}"
            )
        return list(zip(firsts, seconds))
    return value


def _pairs(name, value, na, nb):
    """Pairs of rows of A and B as an (s, 2) int array, checked in range and one-to-one."""
    if value is None:
        return np.empty((0, 2), dtype=np.int64)
    value = pair_rows(name, value)
    pairs = np.asarray(value)
    if pairs.size == 0:
        return np.empty((0, 2), dtype=np.int64)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or not np.issubdtype(pairs.dtype, np.integer):
        raise ValueError(f"`{name}` must be an (s, 2) array of integers; got {value!r}")
    pairs = pairs.astype(np.int64)
    for column, n, matrix in ((0, na, "A"), (1, nb, "B")):
        rows = pairs[:, column]
        if rows.min() < 0 or rows.max() >= n:
            raise ValueError(
                f"`{name}` column {column} must index rows of {matrix} (0 to {n - 1}); "
                f"got {rows.min()} to {rows.max()}"
            )
        if len(np.unique(rows)) != len(rows):
            raise ValueError(f"`{name}` column {column} repeats a row of {matrix}")
    return pairs
