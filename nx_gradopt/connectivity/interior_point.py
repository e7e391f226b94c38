r"""Small problems to near machine accuracy: a primal-dual interior-point method on the SDP.

With :math:`Q` an orthonormal basis of :math:`\mathbf 1^\perp` and :math:`b_e = Q^\top(e_u - e_v)`,
maximising :math:`\lambda_2` is the semidefinite program

.. math::

    \max_{w, t}\ t \quad \text{s.t.} \quad
    S = Q^\top L_0 Q + \sum_e w_e b_e b_e^\top - tI \succeq 0,\quad
    w \ge 0,\quad c - w \ge 0,\quad \textstyle\sum_e w_e = B,

whose dual is

.. math::

    \min\ \langle Q^\top L_0 Q, X\rangle + c^\top u + B\nu \quad \text{s.t.} \quad
    \operatorname{tr} X = 1,\quad b_e^\top X b_e + z_e - u_e = \nu,\quad
    X \succeq 0,\ z, u \ge 0.

We follow the central path (:math:`XS = \mu I`, :math:`z_e w_e = u_e (c_e - w_e) = \mu`) by
Newton steps in the HKM direction with Mehrotra's predictor-corrector (Helmberg, Rendl,
Vanderbei & Wolkowicz 1996; Todd, Toh & Tütüncü 1998). Eliminating :math:`dX, dS, dz, du`
leaves an (m + 2) system in :math:`dw, dt, d\nu` whose edge block is
:math:`(b_e^\top X b_f)(b_e^\top S^{-1} b_f)`: the rank-one constraints make it edge
differences of two n x n matrices (the structure DSDP and SDPT3 exploit). Written here
because generic conic solvers build the PSD cone's dense (n^2/2)^2 blocks instead (Clarabel
took 15-19 s on Les Miserables, this method 0.09-0.16 s; ``benchmarks/bench_lambda2.py
--small --clarabel``).

Every iterate's weights are feasible, so their :math:`\lambda_2` is a lower bound, and every
iterate's :math:`X / \operatorname{tr} X` is PSD with :math:`X\mathbf 1 = 0` once lifted by
:math:`Q`, so the knapsack of :mod:`.certificate` turns it into a certified upper bound,
however far the iterate is from the path. On graphs of a few hundred edges a step costs a
few milliseconds, and fifteen to thirty of them close the gap to 1e-7.
"""

import math
import time

import torch

from ..core.laplacian import laplacian as edge_list_laplacian
from ..core.progress import Progress
from ..core.results import INTERRUPTED, OptimizationResult
from ..core.runtime import TimeLimit
from .certificate import certified_upper_bound, knapsack_value
from .engine import fill_budget

# The relative gap the method aims for whatever the caller's tolerance: each step near the
# end gains digits, so the last ones are cheap; float64 conditioning of S limits it.
TARGET_GAP = 1e-7
# Fraction of the way to the cone's boundary a step may go.
STEP_TO_BOUNDARY = 0.95
# Weights this close to 0 or their cap, relative to the mean weight, are put there at the end
# when the certified gap stays within min(tol, SNAP_GAP).
SNAP = 1e-6
SNAP_GAP = 1e-6


def maximize_by_interior_point(
    problem, *, max_iter=500, tol=1e-3, time_limit=None, target=None, started=None,
):
    """Maximise lambda_2 over ``problem``'s feasible set by a primal-dual interior-point
    method (dense, float64, on the problem's device).

    Parameters
    ----------
    problem : EdgeBudget
        Its union of edges must connect the graph; meant for graphs of up to about a
        thousand nodes and a few thousand edges (a step is dense: n x n eigen-decompositions
        and an (m + 2) x (m + 2) system).
    max_iter : int
        Maximum number of Newton steps.
    tol : float
        The result is ``converged`` when its certified relative gap is at most ``tol``.
    target : float, optional
        Stop once the certified relative gap is at most this; default ``min(tol,
        TARGET_GAP)`` (the end of the weights' rounding to their bounds may cost up to
        ``SNAP_GAP``).
    time_limit : float, optional
        A cap in seconds: a Newton step that would end past it does not start
        (:class:`~nx_gradopt.core.runtime.TimeLimit`); the starting point is always evaluated.
    started : float, optional
        Where ``time_limit`` counts from, as in
        :func:`~nx_gradopt.connectivity.lambda2.maximize_algebraic_connectivity`.

    Returns
    -------
    OptimizationResult
        ``x`` the best weights, ``fun`` their lambda_2, ``upper_bound`` certified, ``nit`` the
        Newton steps.
    """
    start_time = time.perf_counter()
    started = start_time if started is None else started
    state = _Iterate(problem)
    target = min(tol, TARGET_GAP) if target is None else target
    best = {"value": -math.inf, "weights": None, "bound": math.inf}
    history, steps = [], 0
    limit = TimeLimit(time_limit, started)
    progress = Progress("lambda_2")

    def record():
        """The current iterate's lambda_2 and certified bound, the best kept."""
        value, bound = state.value(), state.bound()
        if value > best["value"]:
            best.update(value=value, weights=state.w.clone())
        best["bound"] = min(best["bound"], bound)
        history.append((best["value"], best["bound"]))
        return _gap(best)

    gap = record()
    reason = "the capacities leave a single feasible weighting" if state.fixed else ""
    try:
        while not state.fixed and gap > target:
            if steps >= max_iter:
                reason = f"max_iter={max_iter} reached"
                break
            if not limit.next_step_fits():
                reason = f"time limit {time_limit:g} s reached"
                break
            with limit.step():
                moved = state.step()
            if not moved:
                reason = "float64 accuracy reached"
                break
            steps += 1
            # The exact lambda_2 and the eigen-decomposition of X only when the cheap
            # estimate (t <= lambda_2, X's bound without that decomposition) says done.
            estimate = state.estimated_gap()
            progress("Newton step %d: estimated relative gap %.2e", steps, estimate)
            if estimate <= target:
                gap = record()
        else:
            reason = reason or f"certified relative gap {gap:.2e} <= tol={target:g}"
    except KeyboardInterrupt:
        reason = INTERRUPTED
    if gap > target:  # stopped early: the last iterate is likely the best
        gap = record()
        if reason != INTERRUPTED:
            reason += f" (gap {gap:.2e})"
    if not state.fixed:
        # Interior points never reach a bound: weights within SNAP of 0 or of their cap
        # are put on it (what a user reads as "unused" or "at capacity"), kept when the
        # gap stays within min(tol, SNAP_GAP).
        snapped = state.snapped(best["weights"])
        value = state.value(snapped)
        if (best["bound"] - value) / best["bound"] <= max(min(tol, SNAP_GAP), _gap(best)):
            best.update(value=value, weights=snapped)
            if reason.startswith("certified"):
                reason = f"certified relative gap {_gap(best):.2e} <= tol={tol:g}"
    progress("Newton step %d: best lambda_2 %.10g, certified bound %.10g", steps,
             best["value"], best["bound"], force=True)
    weights = best["weights"]
    if abs(float(weights.sum()) - problem.budget) > 1e-12 * problem.budget:
        weights = fill_budget(weights, problem)  # leaves the snapped zeros alone otherwise
    return OptimizationResult(
        x=weights,
        fun=best["value"],
        nit=steps,
        converged=_gap(best) <= tol,
        reason=reason,
        upper_bound=best["bound"],
        time=time.perf_counter() - start_time,
        history=tuple(history),
    )


def _gap(best):
    bound = best["bound"]
    return (bound - best["value"]) / bound if bound > 0 else 0.0


class _Iterate:
    r"""The primal-dual iterate: weights w, t; X, z, u, nu.

    The matrices live in the full n-space, with the ones direction split off at a fixed
    eigenvalue: :math:`\tilde S = L(w) - tP + \alpha J` and :math:`\tilde X = QXQ^\top + \beta J`
    (:math:`J = \mathbf 1\mathbf 1^\top / n`, :math:`P = I - J`). Every quantity the method
    needs is then an edge difference of an n x n matrix, :math:`b_e^\top A b_f =
    (e_u - e_v)^\top \tilde A (e_{u'} - e_{v'})`: gathers, where the reduced coordinates
    cost an (m, n) x (n, m) product (17 of the 20 GFLOP of a step at n = 1000, m = 2500).
    Edges with a zero cap stay at 0 and out of the variables.
    """

    def __init__(self, problem):
        self.problem = problem
        device, dtype, n = problem.u.device, torch.float64, problem.n
        budget = problem.budget
        self.caps = problem.caps.to(dtype)
        self.free = self.caps > 0
        # A cap at or above the budget never binds (w_e <= sum w = budget): no u_e for it.
        self.capped = (self.caps < budget) & self.free
        self.u_free, self.v_free = problem.u[self.free], problem.v[self.free]
        self.identity = torch.eye(n, device=device, dtype=dtype)
        self.ones = torch.full((n, n), 1.0 / n, device=device, dtype=dtype)  # J
        # L0, once (None without a base network).
        self.base_laplacian = None
        if problem.base_w is not None:
            self.base_laplacian = problem.dense_laplacian(torch.zeros_like(self.caps))
        self.w = problem.uniform_weights(dtype)
        self.fixed = float(self.caps.sum()) <= budget * (1 + 1e-12) or int(self.free.sum()) <= 1
        if self.fixed:
            return
        # Strictly inside the box: half way between the uniform spread and the caps scaled
        # to the budget (both feasible, the latter strictly below every cap).
        self.w = 0.5 * (self.w + self.caps * (budget / float(self.caps.sum())))
        laplacian = problem.dense_laplacian(self.w)
        # alpha: the mean nontrivial eigenvalue, S's scale. t: 0.3 of it below lambda_2,
        # X = I / (n - 1) (beta = 1 / (n - 1)): near the central path.
        self.alpha = float(laplacian.trace()) / (n - 1)
        self.beta = 1.0 / (n - 1)
        self.t = self.value() - 0.3 * self.alpha
        self.s = self._slack(laplacian)
        self.x = self.identity / (n - 1)
        n_reduced = n - 1
        mu = (float((self.x * self.s).sum()) - self.alpha * self.beta) / n_reduced
        w, room = self.w[self.free], self._room()
        self.z = mu / w
        self.u = torch.where(self.capped[self.free], mu / room, 0.0)
        self.nu = float((self._edge_forms(self.x) + self.z - self.u).mean())
        self.degree = n_reduced + len(w) + int(self.capped.sum())

    def _slack(self, laplacian):
        """S~ = L - t P + alpha J."""
        return laplacian - self.t * self.identity + (self.t + self.alpha) * self.ones

    def _edge_forms(self, matrix):
        """(e_u - e_v)^T A (e_u - e_v) on the free edges."""
        u, v = self.u_free, self.v_free
        return matrix[u, u] + matrix[v, v] - matrix[u, v] - matrix[v, u]

    def _edge_gram(self, matrix):
        """(m, m): (e_u - e_v)^T A (e_u' - e_v') over pairs of free edges, A symmetric.

        Both gathers take rows: gathering the columns of the (m, n) edge rows took 350 us at
        m = 254 (a strided gather), their transpose's rows 20 us. Whole solves at default
        settings: Les Miserables 0.12 -> 0.10 s, US airports (500 nodes, 2 980 edges)
        25.5 -> 15.6 s, C. elegans neural (279, 2 287) 13.9 -> 8.9 s.
        """
        u, v = self.u_free, self.v_free
        rows = matrix.index_select(0, u) - matrix.index_select(0, v)
        columns = rows.T.contiguous()  # (n, m); by symmetry, the gram's rows are its rows too
        return columns.index_select(0, u) - columns.index_select(0, v)

    def _room(self):
        """c - w on the free edges; 1 where uncapped (keeps divisions finite, u = 0 there)."""
        room = (self.caps - self.w)[self.free]
        return torch.where(self.capped[self.free], room, 1.0)

    def value(self, weights=None):
        """lambda_2 of ``weights`` (default: the current ones; feasible: a lower bound on
        the optimum): the smallest eigenvalue once the ones direction is lifted above
        lambda_max <= 2 max degree."""
        weights = self.w if weights is None else weights
        laplacian = self.problem.dense_laplacian(weights)
        lift = 2 * float(laplacian.diagonal().max()) + 1.0
        return float(torch.linalg.eigvalsh(laplacian + lift * self.ones)[0])

    def snapped(self, weights):
        """``weights`` with those within SNAP (relative to the mean weight) of 0 or of their
        cap put there, the difference spread over the others in proportion."""
        tolerance = SNAP * self.problem.budget / len(weights)
        at_zero = weights <= tolerance
        at_cap = self.capped & (self.caps - weights <= tolerance)
        snapped = torch.where(at_zero, 0.0, torch.where(at_cap, self.caps, weights))
        others = ~(at_zero | at_cap)
        total = float(snapped[others].sum())
        if total > 0:
            left = self.problem.budget - float(snapped[~others].sum())
            snapped[others] *= left / total
        return torch.minimum(snapped, self.caps)  # fill_budget spends what this clips

    def _reduced_x(self):
        """Q X Q^T, trace tr X."""
        return self.x - self.beta * self.ones

    def estimated_gap(self):
        """The relative gap between t (at most lambda_2) and the bound of X / tr X (not
        made exactly PSD: an estimate, not a proof)."""
        x = self._reduced_x()
        trace = float(x.trace())
        gains = self._edge_forms(x) / trace
        caps = self.caps[self.free]
        base = 0.0
        if self.base_laplacian is not None:
            base = float((self.base_laplacian * x).sum())
        bound = base / trace + knapsack_value(gains, caps, self.problem.budget)
        return (bound - self.t) / bound if bound > 0 else 0.0

    def bound(self):
        """The certified bound of X / tr X, made exactly PSD by its eigen-decomposition."""
        if self.fixed:
            return self.value()
        values, vectors = torch.linalg.eigh(self._reduced_x())
        # The ones direction has eigenvalue ~0 here; certified_upper_bound centres and
        # orthonormalises the rest, so the bound is a proof whatever the rounding.
        keep = values > 1e-14 * float(values.max())
        bound, _ = certified_upper_bound(
            vectors[:, keep], self.problem, start=values[keep], refine=False
        )
        return bound

    def step(self):
        """One predictor-corrector step; False when the Newton system or the factorisation
        of S fails (the limit of float64)."""
        free, capped = self.free, self.capped[self.free]
        w, room = self.w[free], self._room()
        s_factor, info = torch.linalg.cholesky_ex(self.s)
        x_factor, x_info = torch.linalg.cholesky_ex(self.x)
        if int(info) != 0 or int(x_info) != 0:
            return False
        s_inverse = torch.cholesky_inverse(s_factor)
        x, z, u = self.x, self.z, self.u
        x_s_inverse = x @ s_inverse
        # The Newton system in (dw, dt, dnu) is [[A, -h, 1], [-h^T, tau, 0], [1^T, 0, 0]]
        # with A the positive definite edge block (see the module docstring). Solved by
        # one Cholesky factor of A (diagonally scaled: the z_e / w_e of vanishing weights
        # outgrow the rest by many orders) and a 2 x 2 Schur complement.
        block = self._edge_gram(x) * self._edge_gram(s_inverse)
        block.diagonal().add_(z / w + u / room)
        h = self._edge_forms(x_s_inverse)  # b_e^T X S^-1 b_e
        tau = float(x_s_inverse.trace()) - self.beta / self.alpha  # tr(X S^-1)
        scaling = block.diagonal().rsqrt()
        a_factor, info = torch.linalg.cholesky_ex(block * scaling[:, None] * scaling)
        if int(info) != 0:
            return False

        def solve_block(right):
            return torch.cholesky_solve(right * scaling[:, None], a_factor) * scaling[:, None]

        coupling = torch.stack([-h, torch.ones_like(h)], dim=1)  # the columns of dt, dnu
        solved_coupling = solve_block(coupling)
        schur = -coupling.T @ solved_coupling
        schur[0, 0] += tau
        xs = float((x * self.s).sum()) - self.alpha * self.beta  # <X, S>
        mu = (xs + float(z @ w) + float(u @ room)) / self.degree
        projection = self.identity - self.ones
        n = self.identity.shape[0]
        edges_u = torch.cat([self.u_free, self.v_free])  # L(dw) of the free edges, both ways
        edges_v = torch.cat([self.v_free, self.u_free])
        reduced_x = self._reduced_x()

        def direction(target_xs, target_zw, target_us):
            """Newton's direction for XS = target_xs, z w = target_zw, u (c - w) = target_us
            (target_xs in the full space, without a ones component)."""
            k_matrix = target_xs @ s_inverse
            edges = (-self.nu + self._edge_forms(k_matrix) + target_zw / w
                     - torch.where(capped, target_us / room, 0.0))
            others = edges.new_tensor([1.0 - float(k_matrix.trace()),
                                       self.problem.budget - float(self.w.sum())])
            solved_edges = solve_block(edges[:, None])[:, 0]
            try:
                dt, dnu = torch.linalg.solve(schur, others - coupling.T @ solved_edges).tolist()
            except RuntimeError:
                return None
            dw = solved_edges - solved_coupling @ edges.new_tensor([dt, dnu])
            if not bool(torch.isfinite(dw).all()) or not math.isfinite(dt + dnu):
                return None
            ds = edge_list_laplacian(n, edges_u, edges_v, torch.cat([dw, dw]),
                                     layout=torch.strided)
            ds -= dt * projection
            dx = k_matrix - reduced_x - (x @ ds) @ s_inverse
            dx = 0.5 * (dx + dx.T)
            dz = target_zw / w - z - z / w * dw
            du = torch.where(capped, target_us / room - u + u / room * dw, 0.0)
            return dw, dt, dnu, ds, dx, dz, du

        factors = (x_factor, s_factor)
        predictor = direction(torch.zeros_like(x), torch.zeros_like(w), torch.zeros_like(w))
        if predictor is None:
            return False
        dw, dt, _, ds, dx, dz, du = predictor
        primal, dual = self._step_lengths(factors, dw, ds, dx, dz, du, room, 1.0)
        # Mehrotra: centring from the predictor's progress, and its second-order term.
        predicted = (float(((x + primal * dx) * (self.s + dual * ds)).sum())
                     - self.alpha * self.beta  # the ones direction's share of <X~, S~>
                     + float((z + primal * dz) @ (w + dual * dw))
                     + float((u + primal * du) @ (room - dual * dw))) / self.degree
        sigma = min(1.0, (predicted / mu) ** 3)
        corrector = direction(sigma * mu * projection - dx @ ds,
                              sigma * mu - dz * dw, torch.where(capped, sigma * mu + du * dw, 0.0))
        if corrector is None:
            return False
        dw, dt, dnu, ds, dx, dz, du = corrector
        primal, dual = self._step_lengths(factors, dw, ds, dx, dz, du, room,
                                          STEP_TO_BOUNDARY)
        self.x = self.x + primal * dx
        self.z, self.u, self.nu = z + primal * dz, u + primal * du, self.nu + primal * dnu
        self.w = self.w.clone()
        self.w[free] += dual * dw
        self.t += dual * dt
        # S from the weights, not updated by dS: it stays exactly S(w, t).
        self.s = self._slack(self.problem.dense_laplacian(self.w))
        return True

    def _step_lengths(self, factors, dw, ds, dx, dz, du, room, fraction):
        """The longest steps, times ``fraction``, keeping (X, z, u) and (S, w, c - w) interior
        (``factors``: the Cholesky factors of X and S)."""
        primal = min(_matrix_step(factors[0], dx), _vector_step(self.z, dz),
                     _vector_step(self.u, du, self.capped[self.free]))
        dual = min(_matrix_step(factors[1], ds), _vector_step(self.w[self.free], dw),
                   _vector_step(room, -dw, self.capped[self.free]))
        return min(1.0, fraction * primal), min(1.0, fraction * dual)


def _matrix_step(factor, direction):
    """The largest a with M + a direction PSD, M = factor factor^T (inf when every a is)."""
    scaled = torch.linalg.solve_triangular(factor, direction, upper=False)
    scaled = torch.linalg.solve_triangular(factor, scaled.T, upper=False)
    lowest = float(torch.linalg.eigvalsh(0.5 * (scaled + scaled.T))[0])
    return -1.0 / lowest if lowest < 0 else math.inf


def _vector_step(vector, direction, mask=None):
    """The largest a with vector + a direction > 0 on ``mask`` (inf when every a is)."""
    shrinking = direction < 0
    if mask is not None:
        shrinking = shrinking & mask
    if not bool(shrinking.any()):
        return math.inf
    return float((-vector[shrinking] / direction[shrinking]).min())
