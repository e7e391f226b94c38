r"""Burer–Monteiro for the max-cut SDP: L-BFGS on the oblique manifold.

The Goemans–Williamson SDP :math:`\max \tfrac14\langle L, X\rangle` over
:math:`X \succeq 0,\ \operatorname{diag} X = 1` is solved through :math:`X = YY^\top` with
:math:`Y \in \mathbb R^{n \times r}` of unit rows (the oblique manifold). With unit rows,
:math:`\tfrac14\operatorname{tr}(LYY^\top) = \tfrac14(\sum_i d_i - \langle AY, Y\rangle)`, so we
minimise :math:`f(Y) = \langle AY, Y\rangle`. Its Riemannian gradient is
:math:`2(AY - \operatorname{Diag}(\lambda)Y)` with :math:`\lambda_i = \langle (AY)_i, Y_i\rangle`,
which is :math:`2SY` for the dual slack :math:`S = A - \operatorname{Diag}(\lambda)`.

References: Journée, Bach, Absil & Sepulchre, SIAM J. Optim. 20 (2010) 2327–2351
(:doi:`10.1137/080731359`); Boumal, Voroninski & Bandeira, NeurIPS 2016 (rank and escape).
"""

import torch


def project(Y, X):
    """Tangent projection at Y: remove from each row of X its component along Y's row."""
    return X - (X * Y).sum(1, keepdim=True) * Y


def retract(Y):
    """Back onto the manifold: normalise each row."""
    return Y / torch.linalg.vector_norm(Y, dim=1, keepdim=True)


def random_point(n, rank, *, generator, device, dtype):
    """Rows drawn uniformly on the unit sphere (on the CPU with ``generator``, then moved)."""
    Y = torch.randn(n, rank, generator=generator, dtype=torch.float64)
    return retract(Y).to(device, dtype)


class ObliqueLBFGS:
    """Riemannian L-BFGS minimising :math:`\\langle AY, Y\\rangle` over unit-row Y.

    Two-loop recursion on the last ``memory`` pairs, Armijo backtracking from the
    unit step, a steepest-descent restart whenever the direction fails to descend.
    """

    def __init__(self, adjacency, Y, *, memory=10):
        self.adjacency = adjacency
        self.memory = memory
        self.iterations = 0
        self._pairs = []
        self._evaluate(Y)

    def _evaluate(self, Y):
        AY = self.adjacency @ Y
        self.Y = Y
        self.known_f = None  # self.f on the host, once read
        self.rowdot = (AY * Y).sum(1)  # λ_i = <(AY)_i, Y_i>; the slack is S = A - Diag(λ)
        self.f = self.rowdot.sum()
        self.gradient = 2 * (AY - self.rowdot[:, None] * Y)

    def set_point(self, Y):
        """Restart from Y (after a rank change): the curvature pairs no longer apply."""
        self._pairs = []
        self._evaluate(Y)

    def _direction(self):
        q = self.gradient.clone()
        alphas = []
        for s, y, rho in reversed(self._pairs):
            alpha = rho * (s * q).sum()
            q -= alpha * y
            alphas.append(alpha)
        if self._pairs:
            s, y, _ = self._pairs[-1]
            q *= (s * y).sum() / (y * y).sum()
        else:
            # First step: move each row by about 0.1 radian.
            q *= 0.1 * self.Y.shape[0] ** 0.5 / torch.linalg.vector_norm(q).clamp_min(1e-300)
        for (s, y, rho), alpha in zip(self._pairs, reversed(alphas)):
            beta = rho * (y * q).sum()
            q += (alpha - beta) * s
        return -q

    def step(self):
        """One iteration; returns False when no descent step is possible (numerically stuck).

        Two host synchronisations with one line-search trial (the usual case): the slope,
        then the trial's cost read together with the curvature pair's products (there were
        four)."""
        direction = self._direction()
        slope = float((self.gradient * direction).sum())
        if slope >= 0:
            self._pairs = []
            direction = -self.gradient
            slope = -float((self.gradient * self.gradient).sum())
        if slope == 0:
            return False
        f = self.known_f if self.known_f is not None else float(self.f)
        Y, gradient = self.Y, self.gradient
        t = 1.0
        while True:
            self._evaluate(retract(Y + t * direction))
            s = project(self.Y, t * direction)
            y = self.gradient - project(self.Y, gradient)
            sy = (s * y).sum()
            trial, sy_value, s_norm, y_norm = torch.stack([
                self.f, sy, torch.linalg.vector_norm(s), torch.linalg.vector_norm(y),
            ]).tolist()
            if trial <= f + 1e-4 * t * slope:
                break
            t *= 0.5
            if t < 1e-12:
                self._evaluate(Y)
                self._pairs = []
                return False
        # Older pairs are kept as they are: projecting them at every step (the exact vector
        # transport) cost half the iteration time and changed the iteration count on Gset by
        # ±15% either way.
        self.known_f = trial
        pairs = list(self._pairs)
        if sy_value > 1e-12 * s_norm * y_norm:
            pairs.append((s, y, 1 / sy))
        self._pairs = pairs[-self.memory:]
        self.iterations += 1
        return True


def add_rank(Y, direction, adjacency):
    """Grow Y by one column and step along ``direction`` placed there (Boumal's escape).

    At a point where the slack S has a negative eigenvalue with unit eigenvector v, moving the
    new column along v descends: the cost changes by :math:`t^2 v^\\top S v + O(t^3)`.
    Backtracks from a step of one radian until the cost decreases.
    """
    grown = torch.cat([Y, Y.new_zeros(Y.shape[0], 1)], dim=1)
    lift = torch.zeros_like(grown)
    lift[:, -1] = direction / torch.linalg.vector_norm(direction)
    lift *= Y.shape[0] ** 0.5
    cost = ((adjacency @ Y) * Y).sum()
    t = 1.0
    while t > 1e-6:
        candidate = retract(grown + t * lift)
        if ((adjacency @ candidate) * candidate).sum() < cost:
            return candidate
        t *= 0.5
    return grown
