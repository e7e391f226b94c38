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

import numpy as np
import scipy.sparse
import torch
from scipy.sparse.csgraph import reverse_cuthill_mckee

from ..core.laplacian import LaplacianPattern


# Problems from this many nodes are renumbered for locality where that pays (see
# EdgeBudget.in_local_order): below it an (n, 12) embedding fits in a core's cache anyway.
# Facebook (4 039 nodes, 88 234 edges) took 1.61 ms a product pair renumbered against 1.58
# ms as given (medians of ten, 2026-12-05).
LOCAL_ORDER_MIN_NODES = 10_000


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

    def in_local_order(self):
        """This problem with its nodes renumbered by reverse Cuthill–McKee and its edges
        sorted by their new ends, the order of its candidate edges (edge k of the new
        problem is edge ``order[k]`` of this one) and the nodes' new numbers (node i is
        ``rank[i]`` there), both (on the problem's device); None where it has fewer than
        LOCAL_ORDER_MIN_NODES nodes or the renumbering does not halve the mean distance
        between an edge's two ends.

        The dual phase's products with the incidence matrix read the rows of an edge's two
        nodes: where the numbering scatters neighbours, each read misses the cache (the
        Laplacian's products read the same way). random_geometric_graph(20000, 0.0175)
        numbers its nodes at random (mean distance 6 651, 160 renumbered): a product of
        the incidence matrix and its transpose with a 20 000 x 12 embedding took 2.7-4.5 ms
        instead of 7.0-8.0 ms (1.8-2.7x over four runs, 2026-12-05), the Luxembourg road
        network's 2.5-2.7 ms instead of 3.6-4.0 ms (3 148 and 183). A Watts-Strogatz graph
        numbered along its ring (671 against 2 536) took longer renumbered: 1.5-2.1 ms
        instead of 1.3-1.6 ms.
        """
        if self.n < LOCAL_ORDER_MIN_NODES:
            return None
        u, v = self.host_edges
        pattern = scipy.sparse.coo_array(
            (np.ones(2 * len(u)), (np.r_[u, v], np.r_[v, u])), shape=(self.n, self.n)
        ).tocsr()
        rank = np.empty(self.n, dtype=np.int64)
        rank[reverse_cuthill_mckee(pattern, symmetric_mode=True)] = np.arange(self.n)
        low, high = np.minimum(rank[u], rank[v]), np.maximum(rank[u], rank[v])
        if 2 * (high - low).mean() > np.abs(u - v).mean():
            return None
        m, device = self.m, self.u.device
        order = np.lexsort((high[:m], low[:m]))

        def tensor(values, like):
            return torch.as_tensor(values, device=device, dtype=like.dtype)

        local = dataclasses.replace(
            self, u=tensor(low[:m][order], self.u), v=tensor(high[:m][order], self.v),
            capacity=None if self.capacity is None else self.capacity[tensor(order, self.u)],
        )
        if self.base_w is not None:
            base = np.lexsort((high[m:], low[m:]))
            local = dataclasses.replace(
                local, base_u=tensor(low[m:][base], self.base_u),
                base_v=tensor(high[m:][base], self.base_v),
                base_w=self.base_w[tensor(base, self.base_u)],
            )
        return local, tensor(order, self.u), tensor(rank, self.u)

    def uniform_weights(self, dtype=torch.float64):
        """The feasible point closest to the uniform spread (the start of every method)."""
        from ..core.projections import project_onto_capped_simplex

        uniform = torch.full((self.m,), self.budget / self.m, device=self.u.device, dtype=dtype)
        return project_onto_capped_simplex(uniform, self.caps.to(dtype), self.budget)
