r"""Built-in differentiable objectives of edge weights, for :func:`optimize_edge_weights`.

Each takes ``(weights, problem)`` with ``weights`` an (m,) tensor on the candidate edges of an
:class:`~nx_gradopt.connectivity.problem.EdgeBudget` and returns a torch scalar that
autograd differentiates.
"""

import torch

from ..core.eigensolvers import smallest_eigenpairs


class _AlgebraicConnectivity(torch.autograd.Function):
    r"""lambda_2 with the exact eigen-gradient :math:`\partial\lambda_2/\partial w_{uv} =
    (x_u - x_v)^2` (a supergradient where lambda_2 is repeated), from a sparse eigen-solve
    instead of a dense ``eigvalsh``."""

    @staticmethod
    def forward(ctx, weights, problem):
        n = problem.n
        null = torch.full((n,), n**-0.5, device=weights.device, dtype=weights.dtype)
        pairs = smallest_eigenpairs(problem.laplacian(weights.detach()), 1, null_vector=null)
        vector = pairs.vectors[:, 0]
        ctx.save_for_backward((vector[problem.u] - vector[problem.v]) ** 2)
        return pairs.values[0].clone()

    @staticmethod
    def backward(ctx, grad_output):
        (squared_differences,) = ctx.saved_tensors
        return grad_output * squared_differences, None


def algebraic_connectivity(weights, problem):
    """The second-smallest Laplacian eigenvalue of the weighted graph (to maximise)."""
    return _AlgebraicConnectivity.apply(weights, problem)


def total_effective_resistance(weights, problem):
    r"""Kirchhoff index :math:`\sum_{i<j} R_{ij} = n\,\operatorname{tr} L^+ = n \sum_{i \ge 2} 1/\lambda_i` (to minimise).

    Convex in the weights (Ghosh, Boyd & Saberi 2008). Dense: :math:`L^+ = (L + J/n)^{-1} - J/n`
    with :math:`J` the all-ones matrix, so ``tr L^+ = tr (L + J/n)^{-1} - 1``.
    """
    n = problem.n
    laplacian = problem.dense_laplacian(weights)
    shifted = laplacian + torch.full_like(laplacian, 1.0 / n)
    return n * (torch.linalg.inv(shifted).diagonal().sum() - 1.0)
