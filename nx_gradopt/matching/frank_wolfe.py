r"""Frank–Wolfe on the doubly stochastic relaxation, for a batch of starts at once.

Each iteration takes the gradient, a direction Q (a permutation by linear assignment for FAQ,
an entropic transport plan by Sinkhorn for GOAT), and the exact step along R = Q - P: the
objective is quadratic in the step, :math:`f(P + \alpha R) = f(P) + b\alpha + a\alpha^2` with
:math:`b = \langle \nabla f(P), R\rangle` and :math:`a = \langle A R B^\top, R\rangle`. The
products :math:`A P B^\top` are updated from :math:`A R B^\top`, so an iteration costs one
product pair (two when the graphs are directed).
"""

import math

import torch

from ..core.assignment import linear_assignment, permutation_matrices, sinkhorn_transport

METHODS = ("faq", "goat")

# GOAT's temperature is the gradient's spread (max - min) divided by this: large enough that the
# plan is nearly a permutation where the gradient is decisive (at the barycenter of correlated
# Erdős–Rényi pairs 30 stalled and 100-300 recovered the alignment), and small enough that the
# Sinkhorn kernel spans at most 300 e-folds (float64 safe).
TRANSPORT_SHARPNESS = 200.0
# Sinkhorn stops when the plan's column sums are within this of 1: a direction need not be
# exact, and 1e-3 took up to 1000 iterations per step at n = 2000 where 1e-2 takes 10-180.
SINKHORN_TOL = 1e-2


def exact_step(a, b):
    """The maximiser over [0, 1] of ``b*alpha + a*alpha**2``, elementwise."""
    concave = a < 0
    interior = torch.clamp(-b / torch.where(concave, 2 * a, -torch.ones_like(a)), 0.0, 1.0)
    endpoint = (a + b > 0).to(a.dtype)
    return torch.where(concave, interior, endpoint)


def frank_wolfe(problem, start, *, sign, method, max_iter, tol):
    """Run Frank–Wolfe from the batch of doubly stochastic ``start`` matrices (k, m, m).

    ``sign`` is +1 to maximise and -1 to minimise. A start stops when its step moves P by
    less than ``tol`` (Frobenius norm over sqrt(m), SciPy's test) once P has moved at least
    that far from the start, or when not even a permutation direction ascends (P is
    stationary). The first condition keeps GOAT going from the barycenter, where the early
    transport plans are still diffuse and their steps short.

    Returns
    -------
    P : torch.Tensor, shape (k, m, m)
        The final doubly stochastic iterates.
    iterations : torch.Tensor, shape (k,)
    converged : torch.Tensor of bool, shape (k,)
    best_vertex : torch.Tensor of int64, shape (k, m)
        The best permutation among the directions each start visited (FAQ's zigzag passes
        through vertices better than the one its final iterate projects to). Its value
        costs nothing: f(Q) = f(P) + b + a.
    """
    P = start.clone()
    k, m, _ = P.shape
    scale = math.sqrt(m)
    product = problem.apply(P)
    product_t = product if problem.symmetric else problem.apply_transposed(P)
    iterations = torch.zeros(k, dtype=torch.int64)
    converged = torch.zeros(k, dtype=torch.bool)
    value = sign * (product * P).sum(dim=(1, 2))
    if problem.linear is not None:
        value += sign * (problem.linear * P).sum(dim=(1, 2))
    best_vertex = torch.arange(m).repeat(k, 1)
    best_vertex_value = torch.full((k,), -math.inf, dtype=value.dtype, device=value.device)
    for _ in range(max_iter):
        if bool(converged.all()):
            break
        score = product + product_t
        if problem.linear is not None:
            score = score + problem.linear
        score = sign * score
        # Converged starts keep P (R = 0): no direction to compute for them.
        active = (~converged).to(P.device)
        Q = P.clone()
        vertex = torch.ones(k, dtype=torch.bool, device=P.device)
        if method == "goat":
            Q[active], vertex[active] = _transport_direction(score[active], P[active])
        else:
            Q[active] = permutation_matrices(
                linear_assignment(score[active]), device=P.device, dtype=P.dtype
            )
        R = Q - P
        product_r = problem.apply(R)
        b = (score * R).sum(dim=(1, 2))
        a = sign * (product_r * R).sum(dim=(1, 2))
        alpha = torch.where(active, exact_step(a, b), 0.0)
        better = active & vertex & (value + b + a > best_vertex_value)
        if bool(better.any()):
            best_vertex_value[better] = (value + b + a)[better]
            best_vertex[better.cpu()] = Q[better].argmax(dim=2).cpu()
        value += alpha * b + alpha * alpha * a
        step = alpha.view(k, 1, 1)
        P += step * R
        product += step * product_r
        if not problem.symmetric:
            product_t += step * problem.apply_transposed(R)
        change = (alpha * torch.linalg.matrix_norm(R) / scale).cpu()
        moved = (torch.linalg.matrix_norm(P - start) / scale).cpu()
        iterations += (~converged).to(torch.int64)
        converged |= ((change < tol) & (moved >= tol)) | ((alpha == 0) & vertex).cpu()
    return P, iterations, converged, best_vertex


def _transport_direction(score, P):
    """GOAT's direction: a Sinkhorn plan, or a permutation where the plan cannot make progress.

    The temperature follows the gradient's spread, so the plan is as sharp at the barycenter
    (where the gradient is nearly flat) as later on. Where the spread is zero, or the plan is
    not an ascent direction, the linear-assignment vertex is used instead: Frank–Wolfe's own
    direction, whose failure to ascend means P is stationary.

    Returns the directions and which of them are vertices.
    """
    k = P.shape[0]
    flat = score.reshape(k, -1)
    spread = flat.amax(dim=1) - flat.amin(dim=1)
    soft = spread > 1e-12 * flat.abs().amax(dim=1)
    Q = torch.empty_like(P)
    if bool(soft.any()):
        plans, _ = sinkhorn_transport(
            score[soft], spread[soft] / TRANSPORT_SHARPNESS, tol=SINKHORN_TOL
        )
        Q[soft] = plans.to(P.dtype)
    vertex = ~(soft & ((score * (Q - P)).sum(dim=(1, 2)) > 0))
    if bool(vertex.any()):
        perms = linear_assignment(score[vertex])
        Q[vertex] = permutation_matrices(perms, device=P.device, dtype=P.dtype)
    return Q, vertex
