r"""Twin nodes: the symmetry behind the repeated λ₂ of real networks.

*Twins* are nodes with the same neighbours (false twins: the leaves of one hub, say) or the
same neighbours and each other (true twins). Permuting a class of twins maps the graph onto
itself, so averaging a weighting over the edges' orbits under those permutations keeps it
feasible and, :math:`\lambda_2` being concave, never lowers it: some optimum is symmetric.

For symmetric weights the Laplacian splits. On the vectors that sum to zero over one class
c of k twins and vanish elsewhere (k - 1 dimensions) it is :math:`\tau_c(w)\,I`, with

.. math::

    \tau_c(w) = \sum_e T_{ce} w_e = \frac{\operatorname{tr}(\Pi_c L(w))}{k - 1}, \qquad
    T_{ce} = \frac{(e_u - e_v)^\top \Pi_c (e_u - e_v)}{k - 1}
    = \begin{cases} 1/k & \text{one end in } c \\ 2/(k - 1) & \text{both ends in } c
    \end{cases}

(:math:`\Pi_c` the projector onto those vectors): the weighted degree of a false twin,
and that plus the weight between two of them for true twins. Everything else lives on the
vectors constant on every class. On the Internet AS graph of 2000-01-02, 3 511 of the
6 474 nodes are false twins in 579 classes: eigenvalues of total multiplicity 2 932 (on
its first 1 000 nodes, the optimum put exactly λ₂ on every leaf edge), which a handful of
eigenvectors cannot see. With the classes known, the optimiser takes the τ_c exactly and
asks the eigen-solver for the rest only (:meth:`Twins.laplacian`), and the dual's
embedding spreads each class by one number instead of k - 1 dimensions (:mod:`.unfolding`).
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse
import torch

from ..core.laplacian import LaplacianPattern


@dataclass(frozen=True)
class Twins:
    """The twin classes of a problem's graph, as what the optimiser needs of them.

    ``orbit`` (m,) numbers each edge's orbit and ``orbit_sizes`` counts them (float64, the
    optimiser's working precision, so that averaging converts nothing); ``rows, cols,
    values`` are the nonzero entries of T (classes x edges, above); ``sizes`` (C,) the
    classes' sizes; ``pattern`` the Laplacian pattern of the edges followed by every pair of
    nodes within a class (the phantom edges), whose weights are ``phantom_scale`` (1 / size)
    times alpha; ``n, u, v`` the problem's nodes and edges.
    """

    orbit: torch.Tensor
    orbit_sizes: torch.Tensor
    rows: torch.Tensor
    cols: torch.Tensor
    values: torch.Tensor
    sizes: torch.Tensor
    pattern: LaplacianPattern
    phantom_scale: torch.Tensor
    n: int
    u: torch.Tensor
    v: torch.Tensor

    @property
    def count(self):
        """The number of classes C."""
        return self.sizes.numel()

    def symmetrize(self, weights):
        """``weights`` averaged over every orbit of edges."""
        sums = weights.new_zeros(self.orbit_sizes.numel()).index_add_(0, self.orbit, weights)
        return (sums / self.orbit_sizes.to(weights.dtype))[self.orbit]

    def eigenvalues(self, weights):
        """(C,) :math:`\\tau_c(w)`: each class's eigenvalue of :math:`L(w)` (symmetric w)."""
        products = self.values.to(weights.dtype) * weights[self.cols]
        return weights.new_zeros(self.count).index_add_(0, self.rows, products)

    def gains(self, shares):
        """(m,) :math:`T^\\top s`: the edge gains of :math:`\\sum_c s_c \\Pi_c / (k_c - 1)`,
        the gradient of :math:`\\sum_c s_c \\tau_c(w)` in w."""
        products = self.values.to(shares.dtype) * shares[self.rows]
        return shares.new_zeros(self.u.numel()).index_add_(0, self.cols, products)

    def laplacian(self, weights):
        r"""Sparse CSR :math:`L(w) + \alpha \sum_c \Pi_c` for symmetric w, with
        :math:`\alpha` twice the largest weighted degree (at least :math:`\lambda_{\max}`):
        its smallest eigenpairs are those of :math:`L(w)` on the vectors constant on every
        class. :math:`\Pi_c = L(K_c) / k_c`, the Laplacian of the complete graph on the
        class over its size: phantom edges."""
        degrees = weights.new_zeros(self.n).index_add_(0, self.u, weights)
        degrees = degrees.index_add_(0, self.v, weights)
        alpha = 2.0 * degrees.max()
        return self.pattern(torch.cat([weights, alpha * self.phantom_scale.to(weights.dtype)]))


def twins_of(problem):
    """The :class:`Twins` of a problem without capacities or a base network, on its device;
    None where there are none, or where the problem has self-loops or parallel edges
    (whose weights the orbits would mix up)."""
    if problem.capacity is not None or problem.base_w is not None:
        return None
    n, device = problem.n, problem.u.device
    u, v = problem.host_edges  # without a base network: the candidate edges (cached)
    low, high = np.minimum(u, v), np.maximum(u, v)
    if (u == v).any() or np.unique(low.astype(np.int64) * n + high).size < u.size:
        return None
    classes = _twin_classes(n, u, v)
    sizes = np.bincount(classes)
    if (sizes > 1).sum() == 0:
        return None
    # Orbits: edges between the same two classes (or within one).
    a, b = np.minimum(classes[u], classes[v]), np.maximum(classes[u], classes[v])
    _, orbit = np.unique(a.astype(np.int64) * len(sizes) + b, return_inverse=True)
    # T: the twin classes (size > 1) renumbered 0..C-1.
    twin = sizes > 1
    index = np.cumsum(twin) - 1
    rows, cols, values = [], [], []
    for end, other in ((u, v), (v, u)):
        c = classes[end]
        one_end = twin[c] & (classes[other] != c)
        rows.append(index[c[one_end]])
        cols.append(np.nonzero(one_end)[0])
        values.append(1.0 / sizes[c[one_end]])
    inner = twin[classes[u]] & (classes[u] == classes[v])
    rows.append(index[classes[u][inner]])
    cols.append(np.nonzero(inner)[0])
    values.append(2.0 / (sizes[classes[u][inner]] - 1))
    # Phantom edges: every pair within a class, scaled by 1 / size.
    phantom_u, phantom_v, scale = [], [], []
    members = np.argsort(classes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    for c in np.nonzero(twin)[0]:
        nodes = members[starts[c]:starts[c + 1]]
        i, j = np.triu_indices(len(nodes), 1)
        phantom_u.append(nodes[i])
        phantom_v.append(nodes[j])
        scale.append(np.full(len(i), 1.0 / len(nodes)))

    def tensor(parts, dtype=torch.int64):
        return torch.as_tensor(np.concatenate(parts), dtype=dtype, device=device)

    all_u = torch.cat([problem.u, tensor(phantom_u)])
    all_v = torch.cat([problem.v, tensor(phantom_v)])
    return Twins(
        orbit=torch.as_tensor(orbit, device=device),
        orbit_sizes=torch.as_tensor(np.bincount(orbit), dtype=torch.float64, device=device),
        rows=tensor(rows), cols=tensor(cols), values=tensor(values, torch.float64),
        sizes=torch.as_tensor(sizes[twin], device=device),
        pattern=LaplacianPattern(n, all_u, all_v),
        phantom_scale=tensor(scale, torch.float64),
        n=n, u=problem.u, v=problem.v,
    )


def _twin_classes(n, u, v):
    """(n,) class labels: nodes with equal open or equal closed neighbourhoods share one."""
    adjacency = scipy.sparse.coo_array(
        (np.ones(2 * len(u), dtype=np.int8), (np.concatenate([u, v]), np.concatenate([v, u]))),
        shape=(n, n),
    ).tocsr()
    adjacency.sort_indices()
    closed = (adjacency + scipy.sparse.eye_array(n, dtype=np.int8, format="csr")).tocsr()
    closed.sort_indices()

    def groups(matrix):
        keys = {}
        indptr, indices = matrix.indptr, matrix.indices
        return np.array([keys.setdefault(indices[indptr[i]:indptr[i + 1]].tobytes(), i)
                         for i in range(n)])

    open_key, closed_key = groups(adjacency), groups(closed)
    # A node has false twins or true twins, never both (a false twin of u and a true twin
    # of u would have to be adjacent and not); its class is named after its first member.
    has_false = np.bincount(open_key, minlength=n)[open_key] > 1
    label = np.where(has_false, open_key, closed_key)
    return np.unique(label, return_inverse=True)[1]
