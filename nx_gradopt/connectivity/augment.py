r"""Add k edges to a network to maximise its algebraic connectivity (Ghosh & Boyd 2006).

.. math::

    \max_{S \subseteq C,\ |S| = k} \ \lambda_2\Big(L_0 + \sum_{e \in S} L_e\Big)

over the candidate edges C (each added with weight 1) is combinatorial. Its convex relaxation,
:math:`0 \le x_e \le 1`, :math:`\sum_e x_e = k`, is the budget problem of :mod:`.lambda2` with
unit capacities and the network as base, so its certified bound bounds every choice of S.

The answer is the best of three starts, improved by swaps:

1. the relaxation rounded: the k candidates of largest :math:`x_e`;
2. greedy by bounds: k times, add the candidate whose addition has the largest bounds on the
   new λ₂ (:func:`lambda2_after_adding`, from the 16 smallest eigenpairs);
3. the greedy Fiedler heuristic: k times, add the candidate of largest
   :math:`(v_u - v_v)^2`, v the current Fiedler vector (Ghosh & Boyd's heuristic). Where λ₂
   is repeated no single edge raises it and the bounds all tie; there this rule did better
   (karate, k = 20: 2.103 against 1.871);
4. swaps: take a chosen edge out and try the candidates of largest bounds in its place,
   the first that raises λ₂ kept, until a round finds none.
"""

import math
import time
from dataclasses import dataclass

import torch

from ..core.eigensolvers import smallest_eigenpairs
from ..core.results import INTERRUPTED
from ..core.runtime import TimeLimit, single_threaded_blas
from .lambda2 import maximize_algebraic_connectivity

# The share of a time limit the relaxation may use; the starts and swaps get the rest.
RELAXATION_SHARE = 0.8
# Each round of swaps takes out, in turn, the SWAP_WIDTH chosen edges of smallest first-order
# loss (or all k where fewer), and tries in the place of each the candidates of largest
# predicted λ₂, SWAP_WIDTH * SWAP_TRIES of them in all.
SWAP_WIDTH = 8
SWAP_TRIES = 8
# Eigenpairs behind the bounds on λ₂ after adding an edge (lambda2_after_adding), and its
# bisection's steps. On Les Miserables the best single edge ranked 203rd of 2 582 non-edges
# with 8 pairs (many candidates' upper bounds reach λ₃), 38th with 16.
SPECTRUM = 16
BISECTION_STEPS = 60
# Eigenvalues within this relative distance of lambda_2 form its cluster (repeated at a
# symmetric graph's optimum: a single Fiedler vector then misjudges the swaps).
CLUSTER_TOL = 1e-6


@dataclass(frozen=True)
class Augmentation:
    """What :func:`augment_algebraic_connectivity` found.

    Attributes
    ----------
    chosen : torch.Tensor
        (k,) indices of the chosen candidate edges, ascending.
    lambda2 : float
        λ₂ of the network with them.
    upper_bound : float
        Certified: no choice of k candidates (nor any fractional one) does better.
    relaxation : OptimizationResult
        The relaxation's solve at its natural scale (``fun`` its λ₂, ``x`` its weights).
    rounded, greedy : float
        λ₂ of the starts: the rounded relaxation, and the better of the two greedy ones (NaN
        where they did not fit in the time limit).
    swaps : int
        Swaps that raised λ₂.
    evaluations : int
        Eigen-solves after the relaxation.
    reason : str
        Why the swaps stopped.
    time : float
        Seconds.
    """

    chosen: torch.Tensor
    lambda2: float
    upper_bound: float
    relaxation: object
    rounded: float
    greedy: float
    swaps: int
    evaluations: int
    reason: str
    time: float

    @property
    def gap(self):
        """Certified relative gap ``(upper_bound - lambda2) / upper_bound``."""
        if self.upper_bound <= 0:
            return 0.0
        return max(0.0, (self.upper_bound - self.lambda2) / self.upper_bound)


def augment_algebraic_connectivity(
    problem, *, max_iter=500, tol=1e-2, time_limit=None, max_swaps=None, runtime, started=None,
):
    """Choose ``problem.budget`` (an integer k) of its candidate edges, each added with weight
    1, to maximise λ₂ of the base network plus them.

    Parameters
    ----------
    problem : EdgeBudget
        Candidate edges with capacity 1, budget k, the network as base.
    max_iter, tol : int, float
        The relaxation's limits (see :func:`.maximize_algebraic_connectivity`).
    time_limit : float, optional
        Seconds for the whole call; the relaxation may use ``RELAXATION_SHARE`` of it.
    max_swaps : int, optional
        Cap on the swaps' eigen-solves (default ``SWAP_WIDTH * (1 + SWAP_TRIES)`` per chosen
        edge).
    runtime : Runtime
    started : float, optional
        The :func:`time.perf_counter` reading ``time_limit`` counts from.

    Returns
    -------
    Augmentation
    """
    if started is None:
        started = time.perf_counter()
    k = round(problem.budget)
    # At a mean candidate weight of 1, where the solver was tuned (λ₂ is 1-homogeneous).
    scale = k / problem.m
    relaxation = maximize_algebraic_connectivity(
        problem.scaled(1 / scale), max_iter=max_iter, tol=tol,
        time_limit=None if time_limit is None else RELAXATION_SHARE * time_limit,
        runtime=runtime, started=started,
    )
    relaxed = relaxation.x.to(torch.float64) * scale
    bound = relaxation.upper_bound * scale
    limit = TimeLimit(time_limit, started)
    search = _Search(problem, runtime, limit)
    if max_swaps is None:
        max_swaps = SWAP_WIDTH * (1 + SWAP_TRIES) * k
    reason, greedy_value = relaxation.reason, math.nan
    with single_threaded_blas():
        rounded = torch.topk(relaxed, k).indices
        rounded_value = search.offer(rounded)
        if reason != INTERRUPTED:
            # Ctrl-C from here on returns the best set so far (the package's rule).
            try:
                for rule in ("bounds", "fiedler"):
                    greedy = search.greedy(k, rule)
                    if greedy is not None:
                        greedy_value = max(search.offer(greedy), greedy_value)
                reason = search.swap(max_swaps, target=bound * (1 - tol))
            except KeyboardInterrupt:
                reason = INTERRUPTED
    chosen, value = search.best
    return Augmentation(
        chosen=torch.sort(chosen).values, lambda2=value, upper_bound=max(bound, value),
        relaxation=relaxation, rounded=rounded_value, greedy=greedy_value, swaps=search.swaps,
        evaluations=search.evaluations, reason=reason, time=time.perf_counter() - started,
    )


def lambda2_after_adding(values, vectors, degrees, u, v):
    r"""Bounds on λ₂ after adding the edge (u[e], v[e]) of weight 1, for every e at once,
    from the r smallest nontrivial eigenpairs ``values`` (r,), ``vectors`` (n, r) and the
    weighted ``degrees`` of a Laplacian L (u[e], v[e] not adjacent in it).

    Adding :math:`b b^\top`, :math:`b = e_u - e_v`, moves λ₂ to the smallest root in
    :math:`[\lambda_2, \lambda_3]` of the secular equation
    :math:`1 + \sum_i c_i / (\lambda_i - \mu) = 0`, :math:`c_i = (x_i^\top b)^2`, over the whole
    spectrum. Of the uncomputed part we know its weight :math:`\rho = \|b\|^2 - \sum c_i
    = 2 - \sum c_i` and its mean eigenvalue :math:`\bar\lambda = (b^\top L b - \sum_i
    \lambda_i c_i) / \rho` (:math:`b^\top L b = d_u + d_v`). Put on the largest computed
    eigenvalue, below the ones it belongs to, it raises every term: the root is a lower
    bound. Put on :math:`\bar\lambda` it lowers their sum (Jensen, :math:`1/(\lambda - \mu)`
    is convex): an upper bound. Both by bisection, all edges together.

    Returns
    -------
    (lower, upper) : torch.Tensor, torch.Tensor
    """
    lambda2 = values[0].expand(len(u))
    if values.numel() == 1:
        # No λ₃ to bracket the root: λ₂ never falls, and rises by at most ||b||^2 = 2.
        return lambda2.clone(), lambda2 + 2.0
    c = (vectors[u] - vectors[v]) ** 2
    rest = (2.0 - c.sum(dim=1)).clamp_min(0.0)
    mean = (degrees[u] + degrees[v] - c @ values) / rest.clamp_min(1e-300)
    ceiling = values[1]
    bounds = []
    for lumped in (values[-1].expand(len(u)), torch.maximum(mean, ceiling)):
        low, high = lambda2.clone(), ceiling.expand(len(u)).clone()
        for _ in range(BISECTION_STEPS):
            middle = 0.5 * (low + high)
            secular = (1.0 + (c / (values - middle[:, None])).sum(dim=1)
                       + rest / (lumped - middle))
            below = secular < 0  # the secular function rises through its root
            low = torch.where(below, middle, low)
            high = torch.where(below, high, middle)
        bounds.append(low)
    return tuple(bounds)


class _Search:
    """λ₂ of the base network plus a set of candidates, and the searches built on it."""

    def __init__(self, problem, runtime, limit):
        self.problem = problem
        self.runtime = runtime
        self.limit = limit
        n = problem.n
        self.null = torch.full((n,), n**-0.5, dtype=torch.float64, device=problem.u.device)
        self.evaluations = 0
        self.swaps = 0
        self.best = None

    def _weights(self, chosen):
        weights = torch.zeros(self.problem.m, dtype=torch.float64, device=self.problem.u.device)
        weights[chosen] = 1.0
        return weights

    def spectrum(self, chosen):
        """The ``SPECTRUM`` smallest nontrivial eigenpairs with ``chosen`` added (float64)."""
        self.evaluations += 1
        with self.limit.step():
            pairs = smallest_eigenpairs(
                self.problem.laplacian(self._weights(chosen)),
                min(SPECTRUM, self.problem.n - 1), null_vector=self.null,
                seed=self.runtime.generator,
            )
        return pairs.values.to(torch.float64), pairs.vectors.to(torch.float64)

    def offer(self, chosen):
        """Evaluate ``chosen`` and keep it if it beats the best so far by more than
        rounding; its λ₂."""
        values, vectors = self.spectrum(chosen)
        value = float(values[0])
        if self.best is None or value > self.best[1] * (1 + 1e-12):
            self.best = (chosen, value)
        return value

    def ranking(self, chosen, excluded):
        """The candidates not ``excluded`` in decreasing order of the λ₂ that adding each to
        ``chosen`` gives: by its upper bound, ties (many reach λ₃) by its lower bound, and
        ties of both (where λ₂ is repeated no single edge raises it) by the first-order
        stretch of the eigenvectors of λ₂'s cluster."""
        values, vectors = self.spectrum(chosen)
        (u, v), w = self.problem.all_edges, self.problem.all_weights(self._weights(chosen))
        degrees = torch.zeros(self.problem.n, dtype=torch.float64, device=u.device)
        degrees.index_add_(0, u, w).index_add_(0, v, w)
        u, v = self.problem.u, self.problem.v
        lower, upper = lambda2_after_adding(values, vectors, degrees, u, v)
        cluster = values <= values[0] + CLUSTER_TOL * max(float(values[0]), 1e-300)
        stretch = ((vectors[u] - vectors[v])[:, cluster] ** 2).sum(dim=1)
        order = torch.arange(len(u), device=u.device)
        # Least significant key first; the bounds agree to rounding where they tie (the unit
        # kept well above 0 where λ₂ is, on a disconnected network: the keys must not overflow).
        unit = CLUSTER_TOL * max(abs(float(values[0])), 1e-12 * float(values[-1]), 1e-300)
        for key in (stretch, torch.round(lower / unit), torch.round(upper / unit)):
            key = key.masked_fill(excluded, -math.inf)
            order = order[torch.argsort(key[order], descending=True, stable=True)]
        return order

    def greedy(self, k, rule):
        """Add a candidate k times: the first of :meth:`ranking` (``rule="bounds"``) or, as
        in Ghosh and Boyd's heuristic, the one that stretches the current Fiedler vector
        most (``rule="fiedler"``). None where it would not end within the time limit."""
        u, v = self.problem.u, self.problem.v
        taken = torch.zeros(self.problem.m, dtype=torch.bool, device=u.device)
        for _ in range(k):
            if not self.limit.next_step_fits():
                return None
            chosen = torch.nonzero(taken).flatten()
            if rule == "bounds":
                taken[int(self.ranking(chosen, taken)[0])] = True
            else:
                fiedler = self.spectrum(chosen)[1][:, 0]
                stretch = ((fiedler[u] - fiedler[v]) ** 2).masked_fill(taken, -math.inf)
                taken[int(torch.argmax(stretch))] = True
        return torch.nonzero(taken).flatten()

    def swap(self, max_evaluations, target):
        """First-improvement swaps from the best set: each chosen edge in turn (those whose
        removal loses least first) is taken out and the candidates of largest bounds (see
        :meth:`ranking`) tried in its place. Returns why the swaps stopped."""
        spent = 0
        while True:
            chosen, value = self.best
            if value >= target:
                return "within tol of the bound"
            inside = torch.zeros(self.problem.m, dtype=torch.bool, device=self.problem.u.device)
            inside[chosen] = True
            if bool(inside.all()):
                return "every candidate chosen"
            values, vectors = self.spectrum(chosen)
            cluster = values <= values[0] + CLUSTER_TOL * max(float(values[0]), 1e-300)
            stretch = ((vectors[self.problem.u[chosen]] - vectors[self.problem.v[chosen]])
                       ** 2)[:, cluster].sum(dim=1)
            improved = False
            leaving = torch.argsort(stretch)[:SWAP_WIDTH].tolist()
            # The round's SWAP_WIDTH * SWAP_TRIES tries, spread over the edges that leave:
            # with k = 1, the best single edge of Les Miserables ranked 38th.
            tries = SWAP_WIDTH * SWAP_TRIES // len(leaving)
            for position in leaving:
                if spent >= max_evaluations or not self.limit.next_step_fits():
                    return "max_swaps eigen-solves" if spent >= max_evaluations else "time limit"
                rest = torch.cat([chosen[:position], chosen[position + 1:]])
                ranking = self.ranking(rest, inside)
                spent += 1
                for entering in ranking[:tries].tolist():
                    if spent >= max_evaluations or not self.limit.next_step_fits():
                        break
                    spent += 1
                    self.offer(torch.cat([rest, rest.new_tensor([entering])]))
                    if self.best[1] > value:
                        improved = True
                        break
                if improved:
                    self.swaps += 1
                    break
            if not improved:
                return "no swap among the likeliest raises λ₂"
