r"""Frank–Wolfe on the doubly stochastic relaxation, for a batch of starts at once.

Each iteration takes the gradient, a direction Q (a permutation by linear assignment for FAQ,
an entropic transport plan by Sinkhorn for GOAT), and the exact step along R = Q - P: the
objective is quadratic in the step, :math:`f(P + \alpha R) = f(P) + b\alpha + a\alpha^2` with
:math:`b = \langle \nabla f(P), R\rangle` and :math:`a = \langle A R B^\top, R\rangle`. The
products :math:`A P B^\top` are updated from :math:`A R B^\top`, so an iteration costs one
product pair (two when the graphs are directed).
"""

import math
import time

import numpy as np
import torch

from ..core.assignment import linear_assignment, permutation_matrices, sinkhorn_transport
from ..core.batched import inner
from ..core.compiled import compiled, load_once
from ..core.progress import Progress

METHODS = ("faq", "goat")

# GOAT's temperature is the gradient's spread (max - min) divided by this: large enough that the
# plan is nearly a permutation where the gradient is decisive (at the barycenter of correlated
# Erdős–Rényi pairs 30 stalled and 100-300 recovered the alignment), and no sharper, since
# Sinkhorn's iterations grow with the sharpness.
TRANSPORT_SHARPNESS = 200.0
# ... or a typical row's lead (the median over rows of max - mean) divided by this, when that is
# smaller. The spread is set by the few largest entries, the products of hub degrees: on a
# correlated pair of 5000 nodes (p = 0.01, rho = 0.9) it was 100 times a typical row's lead by
# the third step, the plan came out nearly uniform (row maxima 6e-4), the step was 1.7% of P
# and GOAT stopped with 3.6% matched; at a tenth of the typical lead it went on to 100% in six
# steps. On correlated Barabási–Albert pairs (n = 500) it lifted the match from 0.38 to 0.88.
ROW_SHARPNESS = 10.0
# Sinkhorn stops when the plan's column sums are within this of 1: a direction need not be
# exact, and 1e-3 took up to 1000 iterations per step at n = 2000 where 1e-2 takes 10-180.
SINKHORN_TOL = 1e-2
# ... or once it has read SINKHORN_READS kernel entries (at least SINKHORN_MIN_ITER
# iterations, at most SINKHORN_MAX_ITER), its plan then rounded onto the doubly stochastic
# matrices. On large pairs the slow steps dominate the solve, and their plans need not be
# finished: on correlated pairs of 2000 nodes (p = log n / n, rho = 0.9, three draws) 100
# iterations gave the same Frank–Wolfe steps and accuracy (0.999-1.0) in 8-11 s against
# 15-26 s; at 10^4 nodes the solve took 345 s against 459 s, the same 100% matched. On small
# problems iterations are cheap and the direction of a finished plan can matter: a 30-node
# subgraph search (test_graph_match) found its subgraph from the barycenter with 200
# iterations or more, not with 100. Some steps cannot finish at all: the sharp kernel's
# entries underflow to zero in a pattern with no perfect matching (C. elegans: rows still
# 1/3 to 2/3 off after 1000 iterations), and before the rounding such plans were returned
# off the doubly stochastic matrices.
SINKHORN_READS = 1e9
SINKHORN_MIN_ITER = 100
SINKHORN_MAX_ITER = 1000
# Where a plan is not an ascent direction (P is sharper than the plan can be), problems of
# this many rows or more try one SHARPER_PLAN_FACTOR times sharper before the linear
# assignment, whose solver is slowest on the nearly rank-one gradients of the first steps: on a
# correlated pair of 3000 nodes (p = 0.1, rho = 0.9) the third step's plan fell short of P by
# 7.3 (finished) and its assignment took 24 s of the solve's 39 s, where a 16 times sharper
# plan ascended by 318 after 1.4 s of capped iterations (the assignment's step: 413).
SHARPER_PLAN_FROM = 1000
SHARPER_PLAN_FACTOR = 16.0


@compiled
def exact_step(a, b):
    """The maximiser over [0, 1] of ``b*alpha + a*alpha**2``, elementwise (1-D arrays)."""
    alpha = np.empty(len(a))
    for s in range(len(a)):
        if a[s] < 0 and 0 < b[s] < -2 * a[s]:
            alpha[s] = -b[s] / (2 * a[s])
        else:  # an end point
            alpha[s] = 1.0 if a[s] + b[s] > 0 else 0.0
    return alpha


@compiled
def _step_rules(b, a, length_sq, away_sq, away_r, p_sq, p_r, goat, vertex, value, tol_sq, m,
                ids, perms, best_value, best_vertex, iterations, converged):
    """The exact steps and the stopping tests of :meth:`Ledger.step`, with its bookkeeping
    done in place: ``value`` advanced, the best vertex (f(Q) = f(P) + b + a) kept, the
    iterations and convergence of the starts ``ids`` recorded.

    Compiled: as whole-array NumPy operations on a few starts the rules cost 26 us an
    iteration, a third of FAQ's iteration on a small problem on the host. Compiled without
    the bookkeeping, :meth:`Ledger.step` still took 19 us a call (esc16b), with it 6 us.
    """
    alpha = exact_step(a, b)
    done = np.empty(len(a), dtype=np.bool_)
    for s in range(len(a)):
        step = alpha[s]
        start = ids[s]
        vertex_value = value[s] + b[s] + a[s]
        if vertex[s] and vertex_value > best_value[start]:
            best_value[start] = vertex_value
            best_vertex[start] = perms[s]
        value[s] += step * (b[s] + step * a[s])
        # The norms after the step, squared and expanded in its length.
        moved_sq = away_sq[s] + step * (2 * away_r[s] + step * length_sq[s])
        size_sq = p_sq[s] + step * (2 * p_r[s] + step * length_sq[s]) if goat else m
        # FAQ stops at its first short step, as SciPy's does; GOAT only once P has moved
        # tol from its start (see frank_wolfe).
        short = step * step * length_sq[s] < tol_sq * size_sq
        done[s] = (short and (moved_sq >= tol_sq * m or not goat)) or (step == 0 and vertex[s])
        iterations[start] += 1
        converged[start] = converged[start] or done[s]
    return alpha, done


class Ledger:
    """The per-start scalars of a Frank–Wolfe batch, kept on the host, and the rules that use
    them: the exact step, the best vertex visited, the stopping tests and the deadlines.

    ``ids`` are the starts still running, as places in the outputs; ``value`` their
    objectives (times ``sign``).
    """

    def __init__(self, k, m, method, tol, deadline, value):
        self.goat, self.tol_sq, self.m = method == "goat", float(tol) ** 2, m
        self.deadlines = np.full(k, deadline, dtype=float)  # one, or one per start
        self.timed = bool(np.isfinite(self.deadlines).any())
        self.expired = np.zeros(k, dtype=bool)
        self.ids = np.arange(k)
        self.value = np.array(value, dtype=np.float64)
        self.iterations = np.zeros(k, dtype=np.int64)
        self.converged = np.zeros(k, dtype=bool)
        self.best_vertex = np.empty((k, m), dtype=np.int64)
        self.best_vertex[:] = np.arange(m)
        self.best_value = np.full(k, -np.inf)

    def step(self, b, a, length_sq, away_sq, away_r, p_sq, p_r, vertex, perms):
        """The step lengths along R of the running starts, from the slope ``b`` and curvature
        ``a``, and which starts leave the batch after it (done, or past their deadline).

        The norms after the step come expanded in the step length: ``length_sq`` = <R, R>,
        ``away_*`` the inner products of P - origin with itself and R, ``p_*`` those of P
        (read by GOAT only: None for FAQ). ``perms`` are the directions' permutations where
        ``vertex``. The scalars are float64 NumPy arrays.
        """
        if p_sq is None:
            p_sq = p_r = length_sq  # unread
        alpha, done = _step_rules(
            b, a, length_sq, away_sq, away_r, p_sq, p_r, self.goat, vertex, self.value,
            self.tol_sq, self.m, self.ids, perms, self.best_value, self.best_vertex,
            self.iterations, self.converged,
        )
        if not self.timed:
            return alpha, done
        self.expired = ~done & (time.perf_counter() > self.deadlines[self.ids])
        return alpha, done | self.expired

    def drop(self, leaving):
        self.ids, self.value = self.ids[~leaving], self.value[~leaving]

    def outputs(self, final, stopped):
        return final, self.iterations, self.converged, self.best_vertex, stopped


def frank_wolfe(problem, start, *, sign, method, max_iter, tol, deadline=math.inf):
    """Run Frank–Wolfe from the batch of doubly stochastic ``start`` matrices (k, m, m).

    ``problem`` is a :class:`~.problem.ReducedProblem` (every start on one problem) or a
    :class:`~.grouped.StackedProblem` (each problem on its own starts).

    ``sign`` is +1 to maximise and -1 to minimise. A start stops when its step moves P by
    less than ``tol`` relative to P (Frobenius norms over sqrt(m)), for GOAT only once P has
    moved at least ``tol`` from the start, or when not even a permutation direction ascends
    (P is stationary). The condition on GOAT keeps it going from the barycenter, where the
    early transport plans are still diffuse and their steps short. FAQ stops at its first
    short step, as SciPy's does: on QAPLIB this changes only lipa80a and lipa90a, where FAQ
    and its polish went on from a first step of 0.029 for 52 ms to a gap of 0.79% and now
    stop at 0.85% in 9 ms (SciPy's FAQ: 1.9% in 2 ms). Relative to P means over sqrt(m), a
    permutation's norm, for FAQ (SciPy's test: its iterates mix a few vertices) and over the
    norm of P for GOAT, whose iterates can stay diffuse for many steps: on a sparse
    correlated pair of 5000 nodes (p = log n / n, rho = 0.9) SciPy's test stopped GOAT after
    10 iterations with 19% of the nodes matched, and the relative one after 19 with all but
    two. A start that stops leaves the batch, so the others iterate without masks.

    Returns
    -------
    P : torch.Tensor, shape (k, m, m)
        The final doubly stochastic iterates.
    iterations : numpy.ndarray of int, shape (k,)
    converged : numpy.ndarray of bool, shape (k,)
    best_vertex : numpy.ndarray of int, shape (k, m)
        The best permutation among the directions each start visited (FAQ's zigzag passes
        through vertices better than the one its final iterate projects to). Its value
        costs nothing: f(Q) = f(P) + b + a.
    stopped : str or None
        "interrupted" when Ctrl-C stopped the iterations (the package's rule: the iterates so
        far are returned), "time limit" when ``deadline`` (a ``time.perf_counter()`` value,
        or an array of one per start) passed for every start still running, None otherwise.
        A start past its own deadline leaves the batch unconverged.
    """
    k, m, _ = start.shape
    device, dtype = start.device, start.dtype
    # Every (m, m) buffer counts at m = 10^4 (800 MB each in float64): ``start`` receives the
    # final iterates (a start's row is written only when it leaves the batch, after which its
    # origin is no longer read), the distance from the origin is expanded into inner
    # products, and the step direction R is built in the direction's buffer.
    final = start
    linear = None if problem.linear is None else sign * problem.linear
    # The per-start scalars live in NumPy: on a small problem each tensor operation costs
    # more than its arithmetic.
    P, origin = start.clone(), start
    origin_sq = inner(origin, origin)  # fixed while the start runs
    product = problem.apply(P)
    product_t = product if problem.symmetric else problem.apply_transposed(P)
    value = sign * inner(product, P)
    if linear is not None:
        value += inner(linear.expand_as(P), P)
    load_compiled()
    book = Ledger(k, m, method, tol, deadline, _numpy(value))
    progress = Progress(f"Frank-Wolfe ({method})")
    try:
        for _ in range(max_iter):
            score = torch.add(product, product_t).mul_(sign)
            if linear is not None:
                score += linear
            if method == "goat":
                Q, vertex, perms = _transport_direction(score, P, problem.counts)
            else:
                perms = linear_assignment(score)
                Q = permutation_matrices(perms, device=device, dtype=dtype)
                perms = perms.numpy()
                vertex = np.ones(len(book.ids), dtype=bool)
            R = Q.sub_(P)
            del Q
            slope = inner(score, R)
            del score  # before the product of R, which needs room for its own buffers
            product_r = problem.apply(R)
            # One read-back per iteration: the step's coefficients, and what the norms of P and
            # of P - origin after the step need (expanded in the step length, known only here).
            b, a, length_sq, p_sq, p_r, o_sq, o_p, o_r = _float64(torch.stack([
                slope,
                sign * inner(product_r, R),
                inner(R, R),
                inner(P, P),
                inner(P, R),
                origin_sq,
                inner(origin, P),
                inner(origin, R),
            ]))
            alpha, leaving = book.step(
                b, a, length_sq, p_sq - 2 * o_p + o_sq, p_r - o_r, p_sq, p_r, vertex, perms
            )
            step = torch.from_numpy(alpha).to(device=device, dtype=dtype).view(-1, 1, 1)
            P.addcmul_(step, R)
            product.addcmul_(step, product_r)
            del product_r
            if not problem.symmetric:
                product_t.addcmul_(step, problem.apply_transposed(R))
            del R
            progress("iteration %d: %d of %d starts running", book.iterations.max(),
                     len(book.ids), k)
            if leaving.all():
                final[torch.from_numpy(book.ids).to(device)] = P
                return book.outputs(final, "time limit" if book.expired.any() else None)
            if leaving.any():
                # By index, not by boolean mask, which would wait for the device.
                left = torch.from_numpy(np.flatnonzero(leaving)).to(device)
                keep = torch.from_numpy(np.flatnonzero(~leaving)).to(device)
                final[torch.from_numpy(book.ids[leaving]).to(device)] = P[left]
                book.drop(leaving)
                P, origin = P[keep], origin[keep]
                problem = problem.restricted(~leaving)  # a stacked problem drops their rows
                linear = None if problem.linear is None else sign * problem.linear
                origin_sq = origin_sq[keep]
                product = product[keep]
                product_t = product if problem.symmetric else product_t[keep]
    except KeyboardInterrupt:
        # The iterates are doubly stochastic between any two operations; only a start
        # leaving the batch can be half done, and its row of ``final`` holds its start then.
        if P.shape[0] == len(book.ids):
            final[torch.from_numpy(book.ids).to(device)] = P
        return book.outputs(final, "interrupted")
    final[torch.from_numpy(book.ids).to(device)] = P
    return book.outputs(final, None)


def _numpy(tensor):
    return tensor.detach().cpu().numpy()


def _float64(tensor):
    return tensor.detach().cpu().to(torch.float64).numpy()


def load_compiled():
    """Load (or compile, the first time after installing) the step rules, saying so at INFO."""
    def warm_up():
        one, no, first = np.ones(1), np.zeros(1, dtype=bool), np.zeros(1, dtype=np.int64)
        _step_rules(one, one, one, one, one, one, one, False, no, one.copy(), 1.0, 1, first,
                    first[:, None], one.copy(), first[:, None].copy(), first.copy(), no.copy())

    load_once(_step_rules, "Frank-Wolfe step rules", warm_up)


def _transport_direction(score, P, counts=None):
    """GOAT's direction: a Sinkhorn plan, or a permutation where the plan cannot make progress.

    The temperature follows the gradient's scale (its spread, or a typical row's lead where
    a few hub entries make the spread large), so the plan is as sharp at the barycenter
    (where the gradient is nearly flat) as later on. Where the plan is not an ascent
    direction, a sharper one is tried on large problems (SHARPER_PLAN_FROM); where the spread
    is zero, or no plan ascends, the linear-assignment vertex is used instead: Frank–Wolfe's
    own direction, whose failure to ascend means P is stationary.

    Returns the directions, which of them are vertices (a NumPy mask) and the vertices'
    permutations (rows of a (k, m) array; the others are unset). The masks are decided on the
    host and applied by index, so that no boolean mask waits for the device. ``counts``: the
    rows of each problem of a stacked batch, whose plans stop as they would alone.
    """
    k, m = P.shape[:2]
    flat = score.reshape(k, -1)
    spread = flat.amax(dim=1) - flat.amin(dim=1)
    soft = _numpy(spread > 1e-12 * flat.abs().amax(dim=1))
    owner = None if counts is None else np.repeat(np.arange(len(counts)), counts)
    ascends = np.zeros(k, dtype=bool)
    Q = None  # allocated only where some problem's plan is not the whole batch's
    if soft.any():
        typical_lead = (score.amax(dim=2) - score.mean(dim=2)).median(dim=1).values
        reg = torch.minimum(spread / TRANSPORT_SHARPNESS, typical_lead / ROW_SHARPNESS)
        plans, ascends[soft] = _plans(score, P, reg, soft, owner)
        Q = _placed(Q, soft, plans, P)
        retry = soft & ~ascends
        if m >= SHARPER_PLAN_FROM and retry.any():
            plans, ascends[retry] = _plans(score, P, reg / SHARPER_PLAN_FACTOR, retry, owner)
            Q = _placed(Q, retry, plans, P)
    if Q is None:
        Q = torch.empty_like(P)
    vertex = ~ascends
    perms = np.zeros((k, m), dtype=np.int64)
    if vertex.any():
        rows = torch.from_numpy(np.flatnonzero(vertex)).to(P.device)
        vertex_perms = linear_assignment(score[rows])
        Q[rows] = permutation_matrices(vertex_perms, device=P.device, dtype=P.dtype)
        perms[vertex] = vertex_perms.numpy()
    return Q, vertex, perms


def _plans(score, P, reg, chosen, owner):
    """The Sinkhorn plans at temperatures ``reg`` of the problems in ``chosen`` (a NumPy
    mask), and whether each is an ascent direction from P (a NumPy mask)."""
    # All problems at once without indexing where all are chosen: indexing copies (m, m)
    # buffers.
    every = bool(chosen.all())
    rows = None if every else torch.from_numpy(np.flatnonzero(chosen)).to(P.device)
    scores = score if every else score[rows]
    segments = None
    if owner is not None:
        segments = [int(c) for c in np.bincount(owner[chosen]) if c]
    m = P.shape[1]
    max_iter = int(min(SINKHORN_MAX_ITER, max(SINKHORN_MIN_ITER, SINKHORN_READS / m**2)))
    plans, _ = sinkhorn_transport(scores, reg if every else reg[rows], tol=SINKHORN_TOL,
                                  max_iter=max_iter, segments=segments)
    plans = plans.to(P.dtype)
    ascent = inner(scores, plans) - inner(scores, P if every else P[rows])
    return plans, _numpy(ascent > 0)


def _placed(Q, chosen, plans, P):
    """Q (or, if None, a new buffer like P) with ``plans`` as the directions of the problems
    in ``chosen`` (a NumPy mask)."""
    if chosen.all():
        return plans
    if Q is None:
        Q = torch.empty_like(P)
    Q[torch.from_numpy(np.flatnonzero(chosen)).to(P.device)] = plans
    return Q


def best_response_walk(problem, perms, *, sign, max_steps, deadline=math.inf):
    """From each permutation of ``perms`` (k, m), Frank–Wolfe's walk on the vertices with
    full steps: to the linear assignment of the gradient there, while that raises the
    objective (times ``sign``), for at most ``max_steps`` steps or until ``deadline``.

    A relaxation that ends diffuse projects to a permutation right on some nodes only, and
    each step re-matches every node by its neighbours' matches: on a correlated pair of 5000
    nodes (p = 0.1, rho = 0.9) GOAT stopped with its plan spread thin (1% of the mass on its
    projection), which matched 49.1% of the nodes; the first step matched 99.92%, the second
    all. Returns the permutations reached, as a (k, m) NumPy array, and whether Ctrl-C
    stopped the walk (the permutations are then those reached before it).
    """
    perms = torch.tensor(perms, dtype=torch.int64)  # a copy: the caller's stay
    device, dtype = problem.a[0].device, problem.a[0].dtype
    linear = None if problem.linear is None else sign * problem.linear

    def gradient_and_value(perms):
        """The gradient at the permutations and their objectives. <A X B^T, X> and
        <A^T X B, X> are equal, so the quadratic term is half of <its gradient, X>."""
        X = permutation_matrices(perms, device=device, dtype=dtype)
        if problem.symmetric:
            gradient = problem.apply(X).mul_(2.0)
        else:
            gradient = problem.apply(X).add_(problem.apply_transposed(X))
        del X
        gradient.mul_(sign)
        taken = perms.to(device).unsqueeze(2)
        value = _float64(gradient.gather(2, taken).sum(dim=(1, 2))) / 2
        if linear is not None:
            gradient += linear
            value += _float64(linear.expand_as(gradient).gather(2, taken).sum(dim=(1, 2)))
        return gradient, value

    walking = np.arange(len(perms))  # the starts still improving
    try:
        gradient, value = gradient_and_value(perms)
        for _ in range(max_steps):
            if time.perf_counter() > deadline:
                break
            moved = linear_assignment(gradient)
            del gradient
            gradient, moved_value = gradient_and_value(moved)
            better = moved_value > value + 1e-12 * np.abs(value)  # not a tie up to rounding
            if not better.any():
                break
            if not better.all():  # the others stay where they were
                index = torch.from_numpy(np.flatnonzero(better))
                gradient, moved = gradient[index.to(device)], moved[index]
                moved_value, walking = moved_value[better], walking[better]
            perms[torch.from_numpy(walking)] = moved
            value = moved_value
    except KeyboardInterrupt:  # the package's rule: the answer so far
        return perms.numpy(), True
    return perms.numpy(), False
