r"""The feasible set of an edge-weight budget problem, shared by the kernels.

Weights :math:`w` live on ``m`` candidate edges ``(u[e], v[e])`` of an ``n``-node graph:

.. math::

    0 \le w_e \le c_e, \qquad \sum_e w_e = \text{budget},

on top of an optional fixed base network (edges ``base_u, base_v`` with weights ``base_w``)
whose weights stay. The Laplacian of a weighting is :math:`L_0 + L(w)`.
"""

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import torch

from ..core.laplacian import LaplacianPattern


@dataclass(frozen=True)
class EdgeBudget:
    """Candidate edges, budget, capacities and base network, as tensors on one device.

    ``capacity`` is None (no cap beyond the budget itself) or an (m,) tensor; the base network
    is three (m0,) tensors or None.
    """

    n: int
    u: torch.Tensor
    v: torch.Tensor
    budget: float
    capacity: torch.Tensor | None = None
    base_u: torch.Tensor | None = None
    base_v: torch.Tensor | None = None
    base_w: torch.Tensor | None = None

    @property
    def m(self):
        return self.u.numel()

    def scaled(self, factor):
        """The same problem with the budget, capacities and base weights times ``factor``:
        λ₂ and the Laplacian scale by ``factor``, the Kirchhoff index by ``1 / factor``."""
        return dataclasses.replace(
            self, budget=self.budget * factor,
            capacity=None if self.capacity is None else self.capacity * factor,
            base_w=None if self.base_w is None else self.base_w * factor,
        )

    @property
    def caps(self):
        """Per-edge upper bounds; the budget where uncapped (a weight cannot exceed it)."""
        if self.capacity is None:
            return torch.full((self.m,), self.budget, device=self.u.device, dtype=torch.float64)
        return self.capacity.to(torch.float64).clamp_max(self.budget)

    @cached_property
    def all_edges(self):
        """(u, v) of every edge with a weight: the candidate edges, then the base network's."""
        if self.base_w is None:
            return self.u, self.v
        return torch.cat([self.u, self.base_u]), torch.cat([self.v, self.base_v])

    def all_weights(self, weights):
        """``weights`` of the candidate edges followed by the base network's, as in
        :attr:`all_edges`."""
        if self.base_w is None:
            return weights
        return torch.cat([weights, self.base_w.to(weights.dtype)])

    @cached_property
    def host_edges(self):
        """:attr:`all_edges` as NumPy arrays on the host."""
        u, v = self.all_edges
        return u.cpu().numpy(), v.cpu().numpy()

    @cached_property
    def _pattern(self):
        return LaplacianPattern(self.n, *self.all_edges)

    def laplacian(self, weights):
        """Sparse CSR :math:`L_0 + L(w)`."""
        return self._pattern(self.all_weights(weights))

    def dense_laplacian(self, weights):
        """Dense :math:`L_0 + L(w)`, differentiable in ``weights`` (for autograd objectives)."""
        (u, v), w = self.all_edges, self.all_weights(weights)
        adjacency = torch.zeros(self.n, self.n, device=w.device, dtype=w.dtype)
        adjacency = adjacency.index_put((u, v), w, accumulate=True)
        adjacency = adjacency.index_put((v, u), w, accumulate=True)
        return torch.diag(adjacency.sum(dim=1)) - adjacency

    def uniform_weights(self, dtype=torch.float64):
        """The feasible point closest to the uniform spread (the start of every method)."""
        from ..core.projections import project_onto_capped_simplex

        uniform = torch.full((self.m,), self.budget / self.m, device=self.u.device, dtype=dtype)
        return project_onto_capped_simplex(uniform, self.caps.to(dtype), self.budget)
