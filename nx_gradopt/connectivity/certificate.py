r"""Certified upper bounds on the best algebraic connectivity within a budget.

Weak duality: for every :math:`X \succeq 0` with :math:`X\mathbf 1 = 0`, :math:`\operatorname{tr}X = 1`
and every feasible weighting :math:`w`,
:math:`\lambda_2(L_0 + L(w)) \le \langle X, L_0 + L(w)\rangle = \langle X, L_0\rangle + \sum_e w_e g_e`
with :math:`g_e = (e_u - e_v)^\top X (e_u - e_v)`. Maximising the right-hand side over the
feasible set (a fractional knapsack: fill the largest :math:`g_e` up to their capacities)
gives a bound on the optimum that holds for *any* such :math:`X`.

We take :math:`X = V Z V^\top` with :math:`V` (n, k) orthonormal vectors orthogonal to
:math:`\mathbf 1` (the computed eigenvectors) and :math:`Z` a k x k density matrix. The best
:math:`Z` solves a small semidefinite program, solved here by a barrier method; whatever
:math:`Z` it returns, the bound is evaluated exactly, so an inexact solve only loosens it.

Everything runs on the vectors' device in float64 whatever the working precision: a bound is
a proof only if its sums are exact enough, and the data are only m x k.
"""

import copy
import math

import torch

# The barrier's edges beyond which only those of largest gain take part, and its rounds of
# widening that set (see _refined).
ACTIVE_EDGES = 512
ACTIVE_ROUNDS = 4


def knapsack_value(gains, capacity, budget):
    r""":math:`\max \sum_e w_e g_e` over :math:`0 \le w \le c`, :math:`\sum_e w_e = \text{budget}`."""
    return float(_knapsack(gains, capacity, budget))


def _knapsack(gains, capacity, budget):
    """The knapsack's value as a 0-dim tensor on the gains' device (no read-back)."""
    order = torch.argsort(gains, descending=True)
    gains, capacity = gains[order], capacity[order]
    filled_before = torch.cumsum(capacity, 0) - capacity
    amounts = torch.clamp(budget - filled_before, min=0.0)
    amounts = torch.minimum(amounts, capacity)
    return amounts @ gains


def _orthonormal_basis(vectors, drop_degenerate):
    """An orthonormal basis of the centred vectors' span and their coordinates in it
    (centred = basis @ coordinates).

    By SVD, not QR: a column that vanishes when centred (the ones vector) or depends on the
    others made QR complete the basis with directions outside 1's complement, where the
    bound does not hold (0.26 against a lambda_2 of 0.45 with an interior-point iterate's
    eigenvectors). Such a direction has a vanishing singular value, so any Z built from the
    coordinates gives it no weight; a Z optimised over the basis could, so for that the
    directions are dropped (``drop_degenerate``, one read-back of the mask).
    """
    x = vectors.detach().to(torch.float64)
    x = x - x.mean(dim=0, keepdim=True)
    left, singular, right = torch.linalg.svd(x, full_matrices=False)
    coordinates = singular[:, None] * right
    if drop_degenerate:
        keep = singular > 1e-10 * singular.max()
        left, coordinates = left[:, keep], coordinates[keep]
    return left, coordinates


def _density(z):
    """The nearest trace-one PSD matrix: negative eigenvalues clipped, trace normalised."""
    z = 0.5 * (z + z.T)
    values, vectors = torch.linalg.eigh(z)
    values = values.clamp_min(0)
    if float(values.sum()) <= 0:
        values = torch.ones_like(values)
    return (vectors * (values / values.sum())) @ vectors.T


class _DualData:
    """The edge differences of an orthonormal basis: everything a bound evaluation needs."""

    def __init__(self, vectors, problem, drop_degenerate, extra=None):
        basis, self.coordinates = _orthonormal_basis(vectors, drop_degenerate)
        self.q = basis[problem.u] - basis[problem.v]
        self.caps = problem.caps.to(torch.float64)
        self.budget = problem.budget
        # X's part outside the vectors' span, if any: its edge gains and its trace.
        self.extra_gains, self.share = None, 1.0
        if extra is not None:
            self.extra_gains = extra[0].to(torch.float64)
            self.share = 1.0 - float(extra[1])
        k = basis.shape[1]
        if problem.base_w is None:
            self.base = basis.new_zeros(k, k)
        else:
            q0 = basis[problem.base_u] - basis[problem.base_v]
            self.base = (q0 * problem.base_w.to(torch.float64)[:, None]).T @ q0

    def restricted(self, edges):
        """The same data on the edges of the mask ``edges`` alone (its bounds are not bounds
        of the whole problem: the other edges' gains are left out)."""
        part = copy.copy(self)
        part.q, part.caps = self.q[edges], self.caps[edges]
        return part

    def bound(self, z, *, is_density=False):
        """The bound of Z, projected onto the density matrices unless it is one; a single
        read-back from the device."""
        if not is_density:
            z = _density(z)
        gains = ((self.q @ z) * self.q).sum(dim=1)
        if self.extra_gains is not None:
            gains = self.share * gains + self.extra_gains
        return float((self.base * z).sum() + _knapsack(gains, self.caps, self.budget))


def certified_upper_bound(vectors, problem, *, start=None, refine=True, rel_tol=1e-4,
                          extra=None):
    """A valid upper bound on the best lambda_2 over ``problem``'s feasible set.

    Parameters
    ----------
    vectors : torch.Tensor
        (n, k) any vectors; they are centred and orthonormalised (so any vectors are valid).
    problem : EdgeBudget
    start : torch.Tensor, optional
        (k,) nonnegative weights of the vectors for the starting Z (default: the first
        vector alone).
    refine : bool
        Optimise Z by the barrier method; otherwise evaluate the start only.
    rel_tol : float
        Relative accuracy the barrier method aims for.
    extra : (torch.Tensor, float), optional
        A further centred PSD part of X as its (m,) edge gains :math:`g_e` and its trace
        t < 1 (the twin classes' projectors, :mod:`.twins`); the vectors' part then has
        trace 1 - t. Only without ``refine`` or a base network.

    Returns
    -------
    (bound, Z)
    """
    if extra is not None and (refine or problem.base_w is not None):
        raise ValueError(
            "certified_upper_bound: an extra part of X only without refine or a base network"
        )
    data = _DualData(vectors, problem, drop_degenerate=refine, extra=extra)
    k = data.q.shape[1]
    if start is None:
        start = data.q.new_zeros(vectors.shape[1])
        start[0] = 1.0
    start = start.detach().to(torch.float64).clamp_min(0)
    # X = sum_i start_i x_i x_i^T over the centred vectors, in the basis: Z = C diag C^T.
    z = (data.coordinates * start) @ data.coordinates.T
    z = _density(z)  # PSD, trace one
    best = (data.bound(z, is_density=True), z)
    if refine and k > 1:
        identity = torch.eye(k, dtype=torch.float64, device=z.device)
        best = min(best, _refined(data, 0.9 * z + 0.1 * identity / k, rel_tol),
                   key=lambda pair: pair[0])
    return best[0], best[1] if best[1] is z else _density(best[1])


def _refined(data, z0, rel_tol):
    """The barrier method on the edges that can matter, widened until no other edge does.

    The knapsack fills only the edges of largest gain, so the barrier runs on the
    ``ACTIVE_EDGES`` largest gains at the current Z; the edges whose gain at its answer
    rises into that set join, and it runs again from there (at most ``ACTIVE_ROUNDS``
    times). Every Z is judged by its exact bound over all edges, so a set too small only
    loosens the bound. Growing a 200-node Watts-Strogatz graph by 5 of its 19 500 non-edges
    (capacity 1 each), 150 evaluations: the barrier on all edges took 15 of 17 s
    (profiled).
    """
    m = data.q.shape[0]
    # Twice the edges the largest capacities need to hold the budget, so that the budget
    # fits in any set of the largest gains (else the restricted dual is unbounded).
    filling = int(torch.searchsorted(
        torch.cumsum(torch.sort(data.caps, descending=True).values, 0),
        torch.tensor(data.budget, dtype=torch.float64, device=data.caps.device),
    )) + 1
    size = max(ACTIVE_EDGES, 2 * filling)
    if m <= 2 * size:
        return _barrier(data, z0, rel_tol)
    best, z = (data.bound(z0), z0), z0
    active = torch.zeros(m, dtype=torch.bool, device=z0.device)
    interior = torch.eye(z0.shape[0], dtype=torch.float64, device=z0.device) / z0.shape[0]
    for _ in range(ACTIVE_ROUNDS):
        gains = ((data.q @ z) * data.q).sum(dim=1)
        threshold = torch.topk(gains, size).values[-1]
        rising = (gains >= threshold) & ~active
        if active.any() and not bool(rising.any()):
            break
        active |= rising
        # The restricted problem's own value is no bound; only its Z is kept.
        _, z = _barrier(data.restricted(active), 0.9 * z + 0.1 * interior, rel_tol)
        exact = data.bound(z)
        if exact < best[0]:
            best = (exact, z)
    return best


def _svec_parts(k, device):
    """Row and column of each svec coordinate, and its scale (sqrt 2 off the diagonal)."""
    rows, cols = torch.triu_indices(k, k, device=device)
    # In float64 from the start: torch.where on Python floats rounds sqrt 2 to float32.
    scale = torch.ones(len(rows), dtype=torch.float64, device=device)
    scale[rows != cols] = math.sqrt(2.0)
    return rows, cols, scale


def _barrier(data, z0, rel_tol, max_newton=400):
    r"""Minimise :math:`\langle Z, C\rangle + B\tau + c^\top\nu` subject to
    :math:`\tau + \nu_e \ge q_e^\top Z q_e`, :math:`\nu \ge 0`, :math:`Z \succeq 0`,
    :math:`\operatorname{tr} Z = 1` (the knapsack's LP dual inlined) by a log-barrier
    path-following method (Boyd & Vandenberghe 2004, section 11.3), Newton steps on the
    svec coordinates of Z with the trace constraint in the KKT system and the m edge
    slacks :math:`\nu` eliminated (their Hessian block is diagonal). Written here because the
    problem is tiny in Z (k x k) but has m constraints, which generic SDP solvers handle poorly.
    Returns the best ``(bound, Z)`` seen along the path. (Its Newton loop reads scalars back
    every step; it runs only at the end of a stage of problems with capacities or a base.)
    """
    k, device = z0.shape[0], z0.device
    rows, cols, scale = _svec_parts(k, device)
    hessian_scale = scale[:, None] * scale[None, :] / 2
    q = data.q
    features = q[:, rows] * q[:, cols] * scale  # F_e = svec(q_e q_e^T)
    m, p = features.shape
    cost = data.base[rows, cols] * scale  # svec(C)
    caps, budget = data.caps.double(), data.budget
    trace_row = torch.where(rows == cols, 1.0, 0.0).double()

    z = z0[rows, cols] * scale
    gains = features @ z
    tau = float(gains.max())
    margin = 1e-3 * max(tau, 1e-300)
    nu = (gains - tau).clamp_min(0) + margin
    best = (data.bound(z0), z0)
    # Barrier weight t: the path's duality gap is (2m + k) / t.
    scale_objective = max(abs(data.bound(z0)), 1e-300)
    t = (2 * m + k) / (0.5 * scale_objective)

    def matrix(zv):
        out = torch.zeros(k, k, dtype=torch.float64, device=device)
        out[rows, cols] = zv / scale
        return out + out.T - torch.diag(out.diagonal())

    def barrier(zv, tau_, nu_):
        s = tau_ + nu_ - features @ zv
        if bool((s <= 0).any()) or bool((nu_ <= 0).any()):
            return math.inf
        eigenvalues = torch.linalg.eigvalsh(matrix(zv))
        if float(eigenvalues.min()) <= 0:
            return math.inf
        objective = float(cost @ zv) + budget * tau_ + float(caps @ nu_)
        return t * objective - float(torch.log(s).sum() + torch.log(nu_).sum()
                                     + torch.log(eigenvalues).sum())

    newton_steps = 0
    while newton_steps < max_newton:
        for _ in range(50):
            newton_steps += 1
            zmat = matrix(z)
            z_inverse = torch.linalg.inv(zmat)
            s = tau + nu - features @ z
            a, b = 1.0 / s**2, 1.0 / nu**2
            grad_z = t * cost + features.T @ (1.0 / s) - (z_inverse[rows, cols] * scale)
            grad_tau = t * budget - float((1.0 / s).sum())
            grad_nu = t * caps - 1.0 / s - 1.0 / nu
            jacobian = torch.cat([-features, features.new_ones(m, 1)], dim=1)
            reduced = jacobian.T @ (jacobian * (a * b / (a + b))[:, None])
            # Hessian of -log det Z in svec coordinates, tr(W E_r W E_s) with W = Z^-1, in
            # closed form: for r = (i, j), s = (a, b) it is (W_ia W_jb + W_ib W_ja) times
            # scale_r scale_s / 2: O(p^2), where products of the p basis matrices cost
            # O(p^2 k^2).
            w_rows, w_cols = z_inverse[rows], z_inverse[cols]
            reduced[:p, :p] += (
                w_rows[:, rows] * w_cols[:, cols] + w_rows[:, cols] * w_cols[:, rows]
            ) * hessian_scale
            rhs = -torch.cat([grad_z, grad_z.new_tensor([grad_tau])])
            rhs = rhs + jacobian.T @ (a / (a + b) * grad_nu)
            kkt = features.new_zeros(p + 2, p + 2)
            kkt[: p + 1, : p + 1] = reduced
            kkt[:p, p + 1] = trace_row
            kkt[p + 1, :p] = trace_row
            try:
                step_y = torch.linalg.solve(kkt, torch.cat([rhs, rhs.new_zeros(1)]))
            except RuntimeError:  # singular KKT system: stop where we are
                return best
            step_z, step_tau = step_y[:p], float(step_y[p])
            step_nu = (-grad_nu - a * (step_tau - features @ step_z)) / (a + b)
            decrement = -(float(grad_z @ step_z) + grad_tau * step_tau + float(grad_nu @ step_nu))
            if decrement < 1e-9:
                break
            current, length = barrier(z, tau, nu), 1.0
            while length > 1e-10:
                trial = barrier(z + length * step_z, tau + length * step_tau, nu + length * step_nu)
                if trial <= current - 0.25 * length * decrement:
                    break
                length *= 0.5
            else:
                return best
            z, tau, nu = z + length * step_z, tau + length * step_tau, nu + length * step_nu
        value = data.bound(matrix(z))
        if value < best[0]:
            best = (value, matrix(z))
        if (2 * m + k) / t <= rel_tol * abs(value):
            break
        t *= 10.0
    return best
