"""The new functions nx-gradopt adds to NetworkX: signatures, documentation, validation.

Each public function here is a NetworkX dispatchable. Its body is the default ("networkx")
implementation: it converts the graph and runs the same torch kernel that
``backend="gradopt"`` runs on an already converted (and cached) :class:`TensorGraph`.
This module is imported while ``import networkx`` may still be running: it uses only
``networkx.utils`` at import time, and imports torch inside function bodies.
"""

import dataclasses
import math
import numbers

import networkx as nx
from networkx.utils.backends import _dispatchable, _registered_algorithms
from networkx.utils.decorators import not_implemented_for

__all__ = [
    "graph_match",
    "graph_match_result",
    "max_cut_sdp",
    "max_cut_sdp_result",
    "optimize_algebraic_connectivity",
    "optimize_edge_weights",
]


def _dispatch(**options):
    """``_dispatchable`` that refuses to take a dispatch name NetworkX already registered."""

    def decorate(function):
        name = options.get("name", function.__name__)
        if name in _registered_algorithms:
            raise ImportError(
                f"networkx already has a dispatchable named {name!r}; this nx-gradopt "
                "release does not support this networkx version."
            )
        return _dispatchable(function, **options)

    return decorate


_BUDGET_OPTIONS_DOC = """
    capacity : None, number, string or mapping, optional (default=None)
        Upper bound on each edge's (added) weight: one number for every edge, the name of an
        edge attribute of G, or a mapping ``{(u, v): cap}`` (each candidate edge present).
        Non-negative; their sum must reach ``budget``.
    base_weight : None or string, optional (default=None)
        If given, G's edges with this attribute (NetworkX's default of 1 when missing) form a
        fixed base network that stays; ``budget`` is added on top. If None, G's existing
        weights are ignored.
    candidate_edges : iterable of node pairs, optional (default=None)
        The edges that may receive weight, possibly non-edges of G (growing a network);
        default G's edges (self-loops never get weight).
"""


def _add_doc(function):
    function.__doc__ = function.__doc__.replace("    BUDGET_OPTIONS\n", _BUDGET_OPTIONS_DOC[1:])
    return function


@not_implemented_for("directed")
@not_implemented_for("multigraph")
@_dispatch(graphs="G", returns_graph=True)
@_add_doc
def optimize_algebraic_connectivity(
    G, budget, weight="weight", *, capacity=None, base_weight=None, candidate_edges=None,
    max_iter=500, tol=1e-3, time_limit=None, seed=None, device=None, dtype=None,
):
    r"""Spread an edge-weight budget over G's edges to maximise the algebraic connectivity.

    Solves

    .. math::

        \max_{w} \ \lambda_2\big(L_0 + L(w)\big) \quad \text{subject to} \quad
        0 \le w_e \le c_e, \ \sum_{e} w_e = \text{budget},

    where :math:`L(w)` is the Laplacian with weight :math:`w_e` on candidate edge :math:`e`,
    :math:`L_0` the Laplacian of an optional fixed base network (zero by default), and
    :math:`\lambda_2` the second-smallest eigenvalue. The problem is concave; the result
    carries a certified upper bound on the optimum.

    Parameters
    ----------
    G : NetworkX graph
        Undirected, at least two nodes; candidate and base edges together must connect it.
    budget : float
        Total weight to spread, positive and finite. Each undirected edge is counted once
        (GradNet counts both :math:`A_{uv}` and :math:`A_{vu}`: its budget is twice ours).
    weight : string, optional (default="weight")
        Edge attribute the optimised weights are written to in the returned graph.
    BUDGET_OPTIONS
    max_iter : int, optional (default=500)
        Maximum number of eigen-solves (objective evaluations).
    tol : float, optional (default=1e-3)
        Stop once the certified relative gap ``(upper_bound - lambda2) / upper_bound`` is at
        most ``tol``.
    time_limit : float or None, optional (default=None)
        Stop after this many seconds.
    seed : integer, random_state, or None (default)
        Indicator of random number generation state (starting vectors of the eigensolver),
        with NetworkX's semantics.
    device : str or torch.device, optional
        Where to compute; default ``nx.config.backends.gradopt.device`` ('auto': CUDA when
        available).
    dtype : {'float64', 'float32'}, optional
        Precision; default ``nx.config.backends.gradopt.dtype`` (float64).

    Returns
    -------
    H : NetworkX graph
        A new graph with G's nodes, edges and attributes, plus any candidate non-edge that
        received weight. ``H.edges[e][weight]`` is the edge's total weight: the optimised
        weight, plus the base weight when ``base_weight`` is given (edges with neither get
        0). ``H.graph`` holds ``"algebraic_connectivity"`` (λ₂ of the returned weights,
        recomputed in float64), ``"upper_bound"`` (certified: no feasible weighting does
        better), ``"relative_gap"``, ``"iterations"``, ``"converged"`` and ``"time"``.

    Raises
    ------
    NetworkXNotImplemented
        If G is directed or a multigraph.
    NetworkXError
        If G has fewer than two nodes or the allowed edges do not connect it.
    NodeNotFound
        If a candidate edge names a node not in G.
    ValueError
        If ``budget``, ``capacity``, ``base_weight``, ``candidate_edges``, ``max_iter``,
        ``tol`` or ``time_limit`` is not valid.

    Warns
    -----
    ConvergenceWarning
        If the method stops on ``max_iter`` or ``time_limit`` before the gap reaches ``tol``;
        the best weights found are returned.

    See Also
    --------
    algebraic_connectivity
    optimize_edge_weights

    Notes
    -----
    The objective is smoothed by a soft-min over the cluster of smallest eigenvalues (λ₂ is
    repeated at the optimum as a rule: a single Fiedler vector's gradient stalls there) and
    maximised by L-BFGS-B with exact eigen-gradients :math:`(x_u - x_v)^2`, the smoothing
    lowered as the gap closes. The bound is the weak-duality certificate
    :math:`\lambda_2^\star \le \langle X, L_0\rangle + \max_{w}\sum_e w_e (e_u-e_v)^\top X(e_u-e_v)`
    for :math:`X \succeq 0`, :math:`X\mathbf 1 = 0`, :math:`\operatorname{tr}X = 1`, with
    :math:`X` built from the computed eigenvectors and improved by a small SDP [1]_.

    References
    ----------
    .. [1] A. Ghosh and S. Boyd, "Growing well-connected graphs", Proceedings of the 45th
       IEEE Conference on Decision and Control, 2006. :doi:`10.1109/CDC.2006.377282`

    Examples
    --------
    On a path, the optimum puts weight proportional to x (n - x) on the edge (x - 1, x)
    (Fiedler's result), here 0.9, 1.2, 0.9 with λ₂ = 0.6:

    >>> import networkx as nx
    >>> H = nx.optimize_algebraic_connectivity(nx.path_graph(4), 3.0, tol=1e-6, seed=0)
    >>> [round(w, 3) for u, v, w in H.edges(data="weight")]
    [0.9, 1.2, 0.9]
    >>> round(H.graph["algebraic_connectivity"], 4)
    0.6
    >>> H.graph["algebraic_connectivity"] <= H.graph["upper_bound"]
    True
    """
    from .convert import from_networkx

    return _optimize_algebraic_connectivity(
        from_networkx(G), budget, weight, capacity=capacity, base_weight=base_weight,
        candidate_edges=candidate_edges, max_iter=max_iter, tol=tol, time_limit=time_limit,
        seed=seed, device=device, dtype=dtype,
    )


@not_implemented_for("directed")
@not_implemented_for("multigraph")
@_dispatch(graphs="G", returns_graph=True)
@_add_doc
def optimize_edge_weights(
    G, objective, budget, weight="weight", *, maximize=True, capacity=None, base_weight=None,
    candidate_edges=None, max_iter=500, time_limit=None, device=None, dtype=None,
):
    r"""Spread an edge-weight budget to optimise any differentiable function of the weights.

    The general engine behind :func:`optimize_algebraic_connectivity`: L-BFGS-B over
    :math:`\{0 \le w \le c, \sum_e w_e = \text{budget}\}` with gradients from torch autograd.

    Parameters
    ----------
    G : NetworkX graph
        Undirected, at least two nodes.
    objective : callable or {"algebraic_connectivity", "total_effective_resistance"}
        ``objective(weights, problem) -> torch scalar``, differentiable in ``weights`` (an
        (m,) float tensor on the candidate edges ``problem.u[e], problem.v[e]``, positions in
        ``list(G)``). ``problem.dense_laplacian(weights)`` and ``problem.laplacian(weights)``
        give the weighted Laplacian (base network included). The built-in names maximise
        λ₂ and minimise the Kirchhoff index :math:`n \operatorname{tr} L^+` (both convex
        problems; the sense is set for them).
    budget : float
        Total weight, positive and finite, each undirected edge counted once.
    weight : string, optional (default="weight")
        Edge attribute the optimised weights are written to.
    maximize : bool, optional (default=True)
        Maximise (or minimise) a callable objective. The objective should improve when any
        weight grows, so that the whole budget is spent.
    BUDGET_OPTIONS
    max_iter : int, optional (default=500)
        Maximum number of objective evaluations.
    time_limit : float or None, optional (default=None)
        Stop after this many seconds.
    device : str or torch.device, optional
        Where to compute.
    dtype : {'float64', 'float32'}, optional
        Precision.

    Returns
    -------
    H : NetworkX graph
        As :func:`optimize_algebraic_connectivity`, with ``H.graph["objective"]`` (the value
        at the returned weights), ``"iterations"``, ``"converged"`` and ``"time"``; no
        certificate (general objectives have none).

    Raises
    ------
    NetworkXNotImplemented
        If G is directed or a multigraph.
    NetworkXError
        If G has fewer than two nodes or the allowed edges do not connect it.
    ValueError
        For an unknown objective name or invalid budget options.

    See Also
    --------
    optimize_algebraic_connectivity

    Examples
    --------
    On a tree the Kirchhoff index is :math:`n\sum_e s_e (n - s_e) / w_e` (:math:`s_e` nodes on
    one side of e), minimised by :math:`w_e \propto \sqrt{s_e (n - s_e)}`: on a 4-node path
    :math:`\propto \sqrt 3, 2, \sqrt 3`.

    >>> import networkx as nx
    >>> H = nx.optimize_edge_weights(nx.path_graph(4), "total_effective_resistance", 3.0)
    >>> [round(w, 3) for u, v, w in H.edges(data="weight")]
    [0.951, 1.098, 0.951]
    """
    from .convert import from_networkx

    return _optimize_edge_weights(
        from_networkx(G), objective, budget, weight, maximize=maximize, capacity=capacity,
        base_weight=base_weight, candidate_edges=candidate_edges, max_iter=max_iter,
        time_limit=time_limit, device=device, dtype=dtype,
    )


_MAX_CUT_OPTIONS_DOC = r"""
    weight : string or None, optional (default="weight")
        Edge attribute holding the weights (real, possibly negative); an edge without it
        weighs 1. None gives every edge weight 1. Self-loops never count.
    rank : int or None, optional (default=None)
        Columns of the Burer–Monteiro factor, at least 2; default
        :math:`\min(\lceil\sqrt{2n}\rceil, 24)`. It grows by itself when the certificate
        finds the factorisation stuck at a saddle.
    tol : float, optional (default=1e-4)
        The SDP counts as solved when the certified bound is within ``tol`` (relative) of
        its value.
    max_iter : int, optional (default=2000)
        Maximum number of Riemannian L-BFGS iterations on the SDP.
    time_limit : float or None, optional (default=None)
        Wall-clock seconds for the whole call: the SDP uses at most 60% of it and the local
        search the rest. None: the SDP runs to ``tol`` or ``max_iter`` and the search to
        ``max_moves``.
    max_moves : int or None, optional (default=None)
        Local-search moves per chain. None: ``200 n`` without a time limit, unlimited (the
        time limit decides) with one.
    chains : int or None, optional (default=None)
        Independent local-search chains run in parallel threads, the best cut kept; default
        one per available core, at most 8. Fix it (with ``seed`` and ``max_moves``, no time
        limit) for results that repeat across machines.
    seed : integer, random_state, or None (default)
        Indicator of random number generation state (start of the factorisation,
        hyperplanes, search), with NetworkX's semantics.
    device : str or torch.device, optional
        Where the SDP is computed; the local search runs on the CPU.
    dtype : {'float64', 'float32'}, optional
        Precision of the SDP iterations (the certificate is always float64).
"""


_MAX_CUT_RAISES_DOC = """
    Raises
    ------
    NetworkXNotImplemented
        If G is directed or a multigraph.
    NetworkXError
        If G has fewer than two nodes.
    TypeError
        If a weight is not a real number.
    ValueError
        If a weight is NaN or infinite, or an option is not valid.
"""


def _add_max_cut_doc(function):
    function.__doc__ = function.__doc__.replace(
        "    MAX_CUT_OPTIONS\n", _MAX_CUT_OPTIONS_DOC[1:]
    ).replace("    MAX_CUT_RAISES\n", _MAX_CUT_RAISES_DOC[1:])
    return function


@not_implemented_for("directed")
@not_implemented_for("multigraph")
@_dispatch(graphs="G", edge_attrs="weight")
@_add_max_cut_doc
def max_cut_sdp(
    G, weight="weight", *, rank=None, tol=1e-4, max_iter=2000, time_limit=None,
    max_moves=None, chains=None, seed=None, device=None, dtype=None,
):
    r"""A maximum cut through the Goemans–Williamson SDP, solved by Burer–Monteiro.

    Maximises :math:`\frac14 \langle L, YY^\top\rangle` over unit-row
    :math:`Y \in \mathbb R^{n\times r}` (Riemannian L-BFGS on the oblique manifold), certifies
    how close that is to the SDP optimum, rounds Y with random hyperplanes and improves the
    best roundings by breakout local search. The returned cut is 1-flip locally optimal.

    Parameters
    ----------
    G : NetworkX graph
        Undirected, at least two nodes.
    MAX_CUT_OPTIONS

    Returns
    -------
    cut_value : number
        ``nx.cut_size(G, S, T, weight=weight)`` of the returned partition.
    partition : tuple of sets
        ``(S, T)``: S holds the first node of G; together they cover G's nodes, disjointly.

    MAX_CUT_RAISES

    Warns
    -----
    ConvergenceWarning
        If the SDP stops (``max_iter`` or ``time_limit``) before its bound is within ``tol``;
        the bound is still valid, only looser.

    See Also
    --------
    max_cut_sdp_result : the same computation, with the certified upper bound and more.
    networkx.algorithms.approximation.maxcut.one_exchange

    Notes
    -----
    The upper bound (see :func:`max_cut_sdp_result`) is the weak-duality value
    :math:`\frac14(\sum_i \mu_i + n\delta)` with :math:`\mu_i = (LYY^\top)_{ii}` and
    :math:`\delta` proven to satisfy :math:`\operatorname{Diag}(\mu) - L + \delta I \succ 0`
    by a Cholesky factorisation (with Rump's rounding margin): it holds whatever Y is.
    The local search is the breakout local search of Benlic and Hao [3]_.

    References
    ----------
    .. [1] M. X. Goemans and D. P. Williamson, "Improved approximation algorithms for
       maximum cut and satisfiability problems using semidefinite programming", J. ACM 42
       (1995) 1115–1145. :doi:`10.1145/227683.227684`
    .. [2] M. Journée, F. Bach, P.-A. Absil and R. Sepulchre, "Low-rank optimization on the
       cone of positive semidefinite matrices", SIAM J. Optim. 20 (2010) 2327–2351.
       :doi:`10.1137/080731359`
    .. [3] U. Benlic and J.-K. Hao, "Breakout local search for the Max-Cut problem", Eng.
       Appl. Artif. Intell. 26 (2013) 1162–1173. :doi:`10.1016/j.engappai.2012.09.001`

    Examples
    --------
    The 5-cycle's maximum cut is 4 (an odd cycle cannot be cut everywhere):

    >>> import networkx as nx
    >>> cut_value, (S, T) = nx.max_cut_sdp(nx.cycle_graph(5), seed=0)
    >>> cut_value
    4
    >>> sorted(S | T)
    [0, 1, 2, 3, 4]
    """
    from .convert import from_networkx

    return _max_cut_sdp(
        from_networkx(G, weight=weight), weight, rank=rank, tol=tol, max_iter=max_iter,
        time_limit=time_limit, max_moves=max_moves, chains=chains, seed=seed, device=device,
        dtype=dtype,
    )


@not_implemented_for("directed")
@not_implemented_for("multigraph")
@_dispatch(graphs="G", edge_attrs="weight")
@_add_max_cut_doc
def max_cut_sdp_result(
    G, weight="weight", *, rank=None, tol=1e-4, max_iter=2000, time_limit=None,
    max_moves=None, chains=None, seed=None, device=None, dtype=None,
):
    r"""Everything :func:`max_cut_sdp` computes: the cut, a certified bound, the SDP solution.

    Parameters
    ----------
    G : NetworkX graph
        Undirected, at least two nodes.
    MAX_CUT_OPTIONS

    Returns
    -------
    MaxCutSolution
        With ``cut_value`` and ``partition`` (what :func:`max_cut_sdp` returns),
        ``upper_bound`` (no cut of G is larger), ``relative_gap``, ``sdp_value``,
        ``sdp_certified``, ``factor`` and ``nodes`` (the factor's row order), ``iterations``,
        ``moves``, ``time`` and ``sdp_time``.

    MAX_CUT_RAISES

    Warns
    -----
    ConvergenceWarning
        If the SDP stops before its bound is within ``tol``.

    See Also
    --------
    max_cut_sdp

    Examples
    --------
    On the 5-cycle the SDP value is :math:`\frac52(1 + \cos\frac\pi5) \approx 4.52`, so no cut
    beats 4.52; the cut found is 4, certified within 12%:

    >>> import networkx as nx
    >>> result = nx.max_cut_sdp_result(nx.cycle_graph(5), seed=0)
    >>> result.cut_value, round(result.sdp_value, 3), result.sdp_certified
    (4, 4.523, True)
    >>> result.upper_bound >= result.sdp_value
    True
    """
    from .convert import from_networkx

    return _max_cut_sdp_result(
        from_networkx(G, weight=weight), weight, rank=rank, tol=tol, max_iter=max_iter,
        time_limit=time_limit, max_moves=max_moves, chains=chains, seed=seed, device=device,
        dtype=dtype,
    )


_GRAPH_MATCH_OPTIONS_DOC = """
    G2 : NetworkX graph
        Directed if and only if G1 is.
    weight : string or None, optional (default="weight")
        Edge attribute holding the weight (1 where missing); None means every edge weighs 1.
        Self-loops count: their weights are the adjacency diagonal.
    method : {"goat", "faq"}, optional (default="goat")
        The Frank–Wolfe direction: an entropic optimal-transport plan by Sinkhorn (GOAT), or
        a permutation by linear assignment (FAQ).
    seeds : mapping or iterable of pairs, optional (default=None)
        Known pairs ``{node of G1: node of G2}``: kept exactly.
    similarity : None, string or mapping, optional (default=None)
        A linear term added to the objective: the name of a node attribute (pairs of nodes
        with equal, non-missing values score 1), or a mapping ``{(node of G1, node of G2):
        score}`` (absent pairs score 0).
    padding : {"naive", "adopted"}, optional (default="naive")
        For graphs of different sizes: add isolated nodes to the smaller one (``"naive"``),
        or match the smaller graph to an induced subgraph of the larger (``"adopted"``,
        which first maps adjacency matrices to 2A - 1; dense).
    maximize : bool, optional (default=True)
        Maximise the objective (alignment); False minimises it (a QAP such as QAPLIB's).
    n_init : int, optional (default=1)
        Starts: the barycenter, then alternately random permutations and random doubly
        stochastic matrices, run as one batch; the best result is kept.
    max_iter : int, optional (default=20)
        Frank–Wolfe iterations per start.
    tol : float, optional (default=0.03)
        A start stops when a step moves P by less than this after P has moved at least
        this far from its start (Frobenius norms over sqrt(n); for GOAT the step is
        measured against the norm of P, whose iterates can stay diffuse).
    local_search : bool or None, optional (default=None)
        Polish each start's permutation by pairwise swaps (2-opt); None means on for graphs
        of at most 200 unseeded nodes (a pass costs O(n^3)).
    seed : integer, random_state, or None (default)
        Indicator of random number generation state (the randomised starts), as in
        NetworkX.
    device, dtype : optional
        Where to compute: "auto" (CUDA when available), "cpu", "cuda"; "float64" (default)
        or "float32".
"""

_GRAPH_MATCH_RAISES_DOC = """
    Raises
    ------
    NetworkXNotImplemented
        If a graph is a multigraph.
    NetworkXError
        If one graph is directed and the other is not.
    NetworkXPointlessConcept
        If a graph has no nodes.
    TypeError
        If a weight is not a real number.
    ValueError
        If a weight is NaN or infinite, a seed names an unknown node or repeats one, or an
        option is not valid.
"""


def _add_graph_match_doc(function):
    function.__doc__ = function.__doc__.replace(
        "    GRAPH_MATCH_OPTIONS\n", _GRAPH_MATCH_OPTIONS_DOC[1:]
    ).replace("    GRAPH_MATCH_RAISES\n", _GRAPH_MATCH_RAISES_DOC[1:])
    return function


@_dispatch(graphs={"G1": 0, "G2": 1}, edge_attrs="weight")
@_add_graph_match_doc
def graph_match(
    G1, G2, weight="weight", *, method="goat", seeds=None, similarity=None, padding="naive",
    maximize=True, n_init=1, max_iter=20, tol=0.03, local_search=None, seed=None,
    device=None, dtype=None,
):
    r"""Align two networks: a node mapping maximising the weight of matched edges.

    Maximises :math:`\sum_{u,v} A_{uv} B_{\pi(u)\pi(v)}` (plus the similarity of matched
    pairs) over one-to-one maps :math:`\pi` from G1's nodes to G2's, by Frank–Wolfe on the
    doubly stochastic relaxation: GOAT (Saad-Eldin et al. 2021) or FAQ (Vogelstein et al.
    2015), with the exact line search and a final projection by linear assignment.

    Parameters
    ----------
    G1 : NetworkX graph
    GRAPH_MATCH_OPTIONS

    Returns
    -------
    mapping : dict
        ``{node of G1: node of G2}``, one-to-one. With graphs of different sizes, every node
        of the smaller graph's side is matched (the larger graph's extra nodes are left out).

    GRAPH_MATCH_RAISES

    See Also
    --------
    graph_match_result : the same computation, with the objective and convergence details.
    nx_gradopt.quadratic_assignment : the same for adjacency matrices.

    Notes
    -----
    On correlated Erdős–Rényi pairs GOAT recovers the alignment where FAQ does not (the
    benchmark in the documentation); FAQ with several starts is the better QAP heuristic.
    Undirected edges count in both directions, so each matched edge adds twice its weight
    product to the objective.

    References
    ----------
    .. [1] J. T. Vogelstein et al., "Fast approximate quadratic programming for graph
       matching", PLoS ONE 10 (2015) e0121002. :doi:`10.1371/journal.pone.0121002`
    .. [2] A. Saad-Eldin, B. D. Pedigo, C. E. Priebe and J. T. Vogelstein, "Graph matching
       via optimal transport", arXiv:2111.05366 (2021).
    .. [3] D. E. Fishkind et al., "Seeded graph matching", Pattern Recognition 87 (2019)
       203–215. :doi:`10.1016/j.patcog.2018.09.014`

    Examples
    --------
    A graph and a relabelled copy of it:

    >>> import networkx as nx
    >>> G1 = nx.karate_club_graph()
    >>> G2 = nx.relabel_nodes(G1, {u: f"v{(7 * u) % 34}" for u in G1})
    >>> mapping = nx.graph_match(G1, G2, seed=0)
    >>> sum(mapping[u] == f"v{(7 * u) % 34}" for u in G1) / len(G1)
    1.0
    """
    from .convert import from_networkx

    return _graph_match(
        from_networkx(G1, weight=weight), from_networkx(G2, weight=weight), weight,
        method=method, seeds=seeds, similarity=similarity, padding=padding,
        maximize=maximize, n_init=n_init, max_iter=max_iter, tol=tol,
        local_search=local_search, seed=seed, device=device, dtype=dtype,
    )


@_dispatch(graphs={"G1": 0, "G2": 1}, edge_attrs="weight")
@_add_graph_match_doc
def graph_match_result(
    G1, G2, weight="weight", *, method="goat", seeds=None, similarity=None, padding="naive",
    maximize=True, n_init=1, max_iter=20, tol=0.03, local_search=None, seed=None,
    device=None, dtype=None,
):
    r"""Everything :func:`graph_match` computes: the mapping, its objective, convergence.

    Parameters
    ----------
    G1 : NetworkX graph
    GRAPH_MATCH_OPTIONS

    Returns
    -------
    GraphMatchSolution
        ``mapping`` (what :func:`graph_match` returns), ``objective`` (recomputed from the
        mapping), ``iterations``, ``converged``, ``start``, ``start_objectives`` and ``time``.

    GRAPH_MATCH_RAISES

    See Also
    --------
    graph_match

    Examples
    --------
    The objective counts each undirected matched edge twice:

    >>> import networkx as nx
    >>> G = nx.path_graph(4)
    >>> result = nx.graph_match_result(G, nx.relabel_nodes(G, {0: 3, 1: 2, 2: 1, 3: 0}))
    >>> result.objective, result.converged
    (6.0, True)
    """
    from .convert import from_networkx

    return _graph_match_result(
        from_networkx(G1, weight=weight), from_networkx(G2, weight=weight), weight,
        method=method, seeds=seeds, similarity=similarity, padding=padding,
        maximize=maximize, n_init=n_init, max_iter=max_iter, tol=tol,
        local_search=local_search, seed=seed, device=device, dtype=dtype,
    )


def _check_positive(name, value, *, integer=False, allow_zero=False, allow_none=False):
    if value is None and allow_none:
        return
    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        what = "integer" if integer else "finite number"
        sign = "non-negative" if allow_zero else "positive"
        raise ValueError(f"`{name}` must be a {sign} {what}; got {value!r}")


def _candidate_pairs(G, candidate_edges):
    """Unique node pairs that may receive weight, in a fixed order."""
    source = G.source
    if candidate_edges is None:
        pairs = [(a, b) for a, b in source.edges() if a != b]
    else:
        if isinstance(candidate_edges, (str, bytes)) or not hasattr(candidate_edges, "__iter__"):
            raise ValueError(
                f"`candidate_edges` must be an iterable of node pairs; got {candidate_edges!r}"
            )
        pairs, seen = [], set()
        for pair in candidate_edges:
            try:
                a, b = pair
            except (TypeError, ValueError):
                raise ValueError(
                    f"`candidate_edges` must hold node pairs; got {pair!r}"
                ) from None
            for node in (a, b):
                if node not in source:
                    raise nx.NodeNotFound(f"`candidate_edges` names node {node!r} not in G")
            if a == b:
                raise ValueError(f"`candidate_edges` holds the self-loop {pair!r}")
            key = frozenset((a, b))
            if key not in seen:
                seen.add(key)
                pairs.append((a, b))
        if not pairs:
            raise ValueError("`candidate_edges` is empty")
    return pairs


def _capacities(G, pairs, capacity, budget):
    if capacity is None:
        return None
    source = G.source
    if isinstance(capacity, str):
        values = []
        for a, b in pairs:
            if not source.has_edge(a, b) or capacity not in source.edges[a, b]:
                raise ValueError(
                    f"`capacity`: edge {(a, b)!r} has no attribute {capacity!r}"
                )
            values.append(source.edges[a, b][capacity])
    elif isinstance(capacity, numbers.Real) and not isinstance(capacity, bool):
        values = [capacity] * len(pairs)
    elif hasattr(capacity, "get"):
        values = []
        for a, b in pairs:
            value = capacity.get((a, b), capacity.get((b, a)))
            if value is None:
                raise ValueError(f"`capacity` has no entry for edge {(a, b)!r}")
            values.append(value)
    else:
        raise ValueError(
            f"`capacity` must be None, a number, an edge attribute name or a mapping; "
            f"got {capacity!r}"
        )
    for (a, b), value in zip(pairs, values):
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or value < 0:
            raise ValueError(
                f"`capacity` of edge {(a, b)!r} must be a non-negative finite number; "
                f"got {value!r}"
            )
    if sum(values) < budget * (1 - 1e-12):
        raise ValueError(
            f"`capacity` sums to {sum(values)!r}, below the budget {budget!r}: "
            "the budget cannot be spent"
        )
    return values


def _edge_budget(G, budget, *, capacity, base_weight, candidate_edges, device):
    """Validate the budget options and build the kernel's EdgeBudget (and candidate pairs)."""
    import torch

    from .connectivity import EdgeBudget
    from .spectral import count_components

    _check_positive("budget", budget)
    if G.source is None and (capacity, base_weight, candidate_edges) != (None, None, None):
        raise ValueError("capacity, base_weight and candidate_edges need a NetworkX graph")
    n = len(G)
    if n < 2:
        raise nx.NetworkXError("graph has less than two nodes.")
    if G.source is None:
        u, v = G.undirected_edges()
        keep = u != v
        pairs, u, v = None, u[keep], v[keep]
    else:
        pairs = _candidate_pairs(G, candidate_edges)
        index = G.index
        u = torch.tensor([index[a] for a, _ in pairs], dtype=torch.int64)
        v = torch.tensor([index[b] for _, b in pairs], dtype=torch.int64)
    caps = _capacities(G, pairs, capacity, float(budget))
    base = None
    if base_weight is not None:
        if not isinstance(base_weight, str):
            raise ValueError(f"`base_weight` must be an edge attribute name; got {base_weight!r}")
        index = G.index
        triples = [
            (index[a], index[b], data.get(base_weight, 1))
            for a, b, data in G.source.edges(data=True) if a != b
        ]
        for a, b, value in triples:
            ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or value < 0:
                raise ValueError(
                    f"`base_weight` {base_weight!r} must be non-negative finite numbers; "
                    f"got {value!r}"
                )
        base = [torch.tensor(column) for column in zip(*triples)] if triples else None
    all_u = torch.cat([u] + ([base[0]] if base else []))
    all_v = torch.cat([v] + ([base[1]] if base else []))
    if count_components(n, torch.cat([all_u, all_v]), torch.cat([all_v, all_u])) > 1:
        raise nx.NetworkXError("graph is not connected.")
    problem = EdgeBudget(
        n, u.to(device), v.to(device), float(budget),
        capacity=None if caps is None else torch.tensor(caps, dtype=torch.float64, device=device),
        base_u=None if base is None else base[0].to(device),
        base_v=None if base is None else base[1].to(device),
        base_w=None if base is None else base[2].to(torch.float64).to(device),
    )
    return problem, pairs


def _weighted_graph(G, problem, pairs, weights, weight):
    """A copy of G (or a new graph) with the optimised (plus base) weights on ``weight``."""
    from .convert import to_networkx

    H = G.source.copy() if G.source is not None else to_networkx(G)
    nodes = G.nodes
    if pairs is None:
        pairs = [(nodes[a], nodes[b]) for a, b in zip(problem.u.tolist(), problem.v.tolist())]
    # H[a][b] (the adjacency view) rather than H.edges[a, b]: 3x faster on 20 000 edges.
    for _, _, data in H.edges(data=True):
        data[weight] = 0.0
    if problem.base_w is not None:
        for a, b, w in zip(problem.base_u.tolist(), problem.base_v.tolist(),
                           problem.base_w.tolist()):
            H[nodes[a]][nodes[b]][weight] = w
    for (a, b), w in zip(pairs, weights.tolist()):
        if H.has_edge(a, b):
            H[a][b][weight] += w
        elif w > 0:
            H.add_edge(a, b, **{weight: w})
    return H


def _optimize_algebraic_connectivity(
    G, budget, weight="weight", *, capacity=None, base_weight=None, candidate_edges=None,
    max_iter=500, tol=1e-3, time_limit=None, seed=None, device=None, dtype=None,
):
    """The implementation on a TensorGraph, shared by both dispatch paths."""
    import warnings

    import torch

    from .config import device_and_dtype
    from .connectivity import maximize_algebraic_connectivity
    from .core.eigensolvers import smallest_eigenpairs
    from .core.results import ConvergenceWarning
    from .core.runtime import single_threaded_blas, torch_generator

    _check_positive("max_iter", max_iter, integer=True)
    _check_positive("tol", tol, allow_zero=True)
    _check_positive("time_limit", time_limit, allow_none=True)
    if weight is None:
        raise ValueError("`weight` must name the edge attribute to write; got None")
    device, dtype = device_and_dtype(device, dtype)
    generator = torch_generator(seed)
    problem, pairs = _edge_budget(
        G, budget, capacity=capacity, base_weight=base_weight,
        candidate_edges=candidate_edges, device=device,
    )
    result = maximize_algebraic_connectivity(
        problem, max_iter=max_iter, tol=tol, time_limit=time_limit, seed=generator, dtype=dtype,
    )
    if not result.converged:
        warnings.warn(
            f"optimize_algebraic_connectivity stopped: {result.reason}; raise max_iter, "
            "time_limit or tol. The best weights found are returned.",
            ConvergenceWarning,
            stacklevel=3,
        )
    weights = result.x.to("cpu", torch.float64)
    # λ₂ of exactly the weights returned, in float64 whatever the working precision.
    cpu_problem = _on_cpu(problem)
    n = problem.n
    with single_threaded_blas():
        final = smallest_eigenpairs(
            cpu_problem.laplacian(weights), 1,
            null_vector=torch.full((n,), n**-0.5, dtype=torch.float64), seed=generator,
        )
    lambda2 = float(final.values[0])
    H = _weighted_graph(G, cpu_problem, pairs, weights, weight)
    upper_bound = max(result.upper_bound, lambda2)
    H.graph.update(
        algebraic_connectivity=lambda2,
        upper_bound=upper_bound,
        relative_gap=(upper_bound - lambda2) / upper_bound,
        iterations=result.nit,
        converged=result.converged,
        time=result.time,
    )
    return H


def _on_cpu(problem):
    import dataclasses

    import torch

    moved = {
        field.name: getattr(problem, field.name).to("cpu")
        for field in dataclasses.fields(problem)
        if isinstance(getattr(problem, field.name), torch.Tensor)
    }
    return dataclasses.replace(problem, **moved)


_OBJECTIVES = {
    "algebraic_connectivity": True,  # maximise
    "total_effective_resistance": False,  # minimise
}


def _optimize_edge_weights(
    G, objective, budget, weight="weight", *, maximize=True, capacity=None, base_weight=None,
    candidate_edges=None, max_iter=500, time_limit=None, device=None, dtype=None,
):
    """The implementation on a TensorGraph, shared by both dispatch paths."""
    import warnings

    import torch

    from . import connectivity
    from .config import device_and_dtype
    from .core.results import ConvergenceWarning

    if isinstance(objective, str):
        if objective not in _OBJECTIVES:
            raise ValueError(
                f"`objective` must be a callable or one of {sorted(_OBJECTIVES)}; "
                f"got {objective!r}"
            )
        maximize = _OBJECTIVES[objective]
        objective = getattr(connectivity, objective)
    elif not callable(objective):
        raise ValueError(f"`objective` must be a callable or a name; got {objective!r}")
    _check_positive("max_iter", max_iter, integer=True)
    _check_positive("time_limit", time_limit, allow_none=True)
    if weight is None:
        raise ValueError("`weight` must name the edge attribute to write; got None")
    device, dtype = device_and_dtype(device, dtype)
    problem, pairs = _edge_budget(
        G, budget, capacity=capacity, base_weight=base_weight,
        candidate_edges=candidate_edges, device=device,
    )
    result = connectivity.optimize_edge_weights(
        problem, objective, maximize=bool(maximize), max_iter=max_iter,
        time_limit=time_limit, dtype=dtype,
    )
    if not result.converged:
        warnings.warn(
            f"optimize_edge_weights stopped: {result.reason}; raise max_iter or time_limit. "
            "The best weights found are returned.",
            ConvergenceWarning,
            stacklevel=3,
        )
    weights = result.x.to("cpu", torch.float64)
    H = _weighted_graph(G, _on_cpu(problem), pairs, weights, weight)
    H.graph.update(
        objective=result.fun, iterations=result.nit, converged=result.converged,
        time=result.time,
    )
    return H


@dataclasses.dataclass(frozen=True)
class MaxCutSolution:
    """What :func:`max_cut_sdp_result` returns.

    Attributes
    ----------
    cut_value : number
        Weight of the cut ``partition``.
    partition : tuple of sets
        ``(S, T)``, S holding G's first node.
    upper_bound : float
        Certified: no cut of G weighs more.
    relative_gap : float
        ``(upper_bound - cut_value) / upper_bound`` (0 when the bound is 0): the returned cut
        is at least ``1 - relative_gap`` of the maximum.
    sdp_value : float
        :math:`\\frac14\\langle L, YY^\\top\\rangle` of the factor: within the certified bound
        and the SDP optimum.
    sdp_certified : bool
        Whether ``upper_bound`` met the SDP tolerance: then the SDP optimum lies in
        ``[sdp_value, upper_bound]``, at most ``tol`` apart.
    factor : numpy.ndarray
        The Burer–Monteiro factor Y (unit rows), row k for ``nodes[k]``.
    nodes : list
        G's nodes in the factor's row order.
    iterations : int
        Riemannian L-BFGS iterations on the SDP.
    moves : int
        Local-search moves, all chains together.
    time, sdp_time : float
        Seconds in all, and in the SDP with its certificate.
    """

    cut_value: float
    partition: tuple
    upper_bound: float
    relative_gap: float
    sdp_value: float
    sdp_certified: bool
    factor: object = dataclasses.field(repr=False)
    nodes: list = dataclasses.field(repr=False)
    iterations: int = 0
    moves: int = 0
    time: float = 0.0
    sdp_time: float = 0.0


def _max_cut_sdp_result(
    G, weight="weight", *, rank=None, tol=1e-4, max_iter=2000, time_limit=None,
    max_moves=None, chains=None, seed=None, device=None, dtype=None,
):
    """The implementation on a TensorGraph, shared by both dispatch paths."""
    import warnings

    import torch

    from .config import device_and_dtype
    from .core.results import ConvergenceWarning
    from .core.runtime import torch_generator
    from .maxcut import solve_max_cut

    n = len(G)
    if n < 2:
        raise nx.NetworkXError("graph has less than two nodes.")
    if rank is not None and (
        isinstance(rank, bool) or not isinstance(rank, numbers.Integral) or not 2 <= rank <= n
    ):
        raise ValueError(f"`rank` must be an integer with 2 <= rank <= n = {n}; got {rank!r}")
    _check_positive("tol", tol)
    _check_positive("max_iter", max_iter, integer=True)
    _check_positive("time_limit", time_limit, allow_none=True)
    _check_positive("max_moves", max_moves, integer=True, allow_zero=True, allow_none=True)
    _check_positive("chains", chains, integer=True, allow_none=True)
    device, dtype = device_and_dtype(device, dtype)
    generator = torch_generator(seed)
    u, v = G.undirected_edges()
    upper = G.row < G.col
    w = G.values(weight)[upper]
    bad = ~torch.isfinite(w)
    if bool(bad.any()):
        k = int(bad.nonzero()[0, 0])
        edge = (G.nodes[int(u[k])], G.nodes[int(v[k])])
        raise ValueError(f"`weight` {weight!r} of edge {edge!r} must be finite; got {float(w[k])}")
    result = solve_max_cut(
        n, u, v, w, rank=rank, tol=tol, max_iter=max_iter, time_limit=time_limit,
        max_moves=max_moves, chains=chains, generator=generator, device=device, dtype=dtype,
    )
    if not result.converged:
        warnings.warn(
            f"max_cut_sdp: the SDP stopped ({result.reason}) with its bound "
            f"{result.sdp_gap:.1e} (relative) above its value, more than tol={tol}; raise "
            "max_iter or time_limit. The bound is valid, only looser.",
            ConvergenceWarning,
            stacklevel=3,
        )
    nodes = G.nodes
    on_first_side = result.x.numpy() > 0
    S = {node for node, side in zip(nodes, on_first_side) if side}
    T = {node for node, side in zip(nodes, on_first_side) if not side}
    if G.source is not None:
        cut = nx.cut_size(G.source, S, T, weight=weight)
    else:
        cut = result.fun
    bound = max(result.upper_bound, float(cut))
    return MaxCutSolution(
        cut_value=cut, partition=(S, T), upper_bound=bound,
        relative_gap=(bound - cut) / bound if bound > 0 else 0.0,
        sdp_value=result.sdp_value, sdp_certified=result.converged,
        factor=result.factor.numpy(), nodes=list(nodes), iterations=result.nit,
        moves=result.moves, time=result.time, sdp_time=result.sdp_time,
    )


def _max_cut_sdp(G, weight="weight", **options):
    """``max_cut_sdp`` on a TensorGraph: the pair NetworkX's max-cut heuristics return."""
    solution = _max_cut_sdp_result(G, weight, **options)
    return solution.cut_value, solution.partition


@dataclasses.dataclass(frozen=True)
class GraphMatchSolution:
    """What :func:`graph_match_result` returns.

    Attributes
    ----------
    mapping : dict
        ``{node of G1: node of G2}``, one-to-one.
    objective : float
        :math:`\\sum_{u,v} A_{uv} B_{\\pi(u)\\pi(v)}` over matched nodes plus the similarity
        of matched pairs, recomputed from ``mapping``.
    iterations : int
        Frank–Wolfe iterations of the start that gave ``mapping``.
    converged : bool
        Whether that start met ``tol`` before ``max_iter``.
    start : int
        Which start gave ``mapping`` (0 is the barycenter).
    start_objectives : numpy.ndarray
        The objective reached from each start.
    time : float
        Seconds in the solver.
    """

    mapping: dict
    objective: float
    iterations: int
    converged: bool
    start: int = 0
    start_objectives: object = dataclasses.field(default=None, repr=False)
    time: float = 0.0


def _graph_match_result(
    G1, G2, weight="weight", *, method="goat", seeds=None, similarity=None, padding="naive",
    maximize=True, n_init=1, max_iter=20, tol=0.03, local_search=None, seed=None,
    device=None, dtype=None,
):
    """The implementation on two TensorGraphs, shared by both dispatch paths."""
    import numpy as np
    import scipy.sparse as sp
    import torch

    from .config import device_and_dtype
    from .matching import quadratic_assignment

    for name, G in (("G1", G1), ("G2", G2)):
        if G.is_multigraph():
            raise nx.NetworkXNotImplemented("not implemented for multigraph type")
        if len(G) == 0:
            raise nx.NetworkXPointlessConcept(f"`{name}` has no nodes; there is nothing to match.")
    if G1.is_directed() != G2.is_directed():
        raise nx.NetworkXError(
            "graph_match needs two directed or two undirected graphs; got "
            f"G1 {'directed' if G1.is_directed() else 'undirected'} and "
            f"G2 {'directed' if G2.is_directed() else 'undirected'}."
        )
    device, dtype = device_and_dtype(device, dtype)
    matrices = []
    for name, G in (("G1", G1), ("G2", G2)):
        values = G.values(weight)
        if not bool(torch.isfinite(values).all()):
            raise ValueError(f"`weight` {weight!r} of {name} holds NaN or infinite values")
        n = len(G)
        matrices.append(sp.csr_array(
            (values.numpy(), (G.row.numpy(), G.col.numpy())), shape=(n, n)
        ))
    pairs = _seed_pairs(G1, G2, seeds)
    result = quadratic_assignment(
        matrices[0], matrices[1], method=method, maximize=maximize, partial_match=pairs,
        similarity=_similarity_matrix(G1, G2, similarity), padding=padding, n_init=n_init,
        max_iter=max_iter, tol=tol, local_search=local_search, seed=seed, device=device,
        dtype=dtype,
    )
    nodes1, nodes2 = G1.nodes, G2.nodes
    mapping = {
        nodes1[i]: nodes2[j] for i, j in enumerate(np.asarray(result.col_ind)) if j >= 0
    }
    return GraphMatchSolution(
        mapping=mapping, objective=result.fun, iterations=result.nit,
        converged=result.converged, start=result.start,
        start_objectives=result.start_objectives, time=result.time,
    )


def _graph_match(G1, G2, weight="weight", **options):
    """``graph_match`` on TensorGraphs: the node mapping."""
    return _graph_match_result(G1, G2, weight, **options).mapping


def _seed_pairs(G1, G2, seeds):
    """Seeds as index pairs; every node known, none used twice."""
    import numpy as np

    if seeds is None:
        return None
    items = seeds.items() if hasattr(seeds, "items") else seeds
    pairs = []
    seen1, seen2 = set(), set()
    for item in items:
        try:
            u, v = item
        except (TypeError, ValueError):
            raise ValueError(f"`seeds` must hold (node of G1, node of G2) pairs; got {item!r}")
        if u not in G1.index:
            raise ValueError(f"`seeds` names {u!r}, which is not a node of G1")
        if v not in G2.index:
            raise ValueError(f"`seeds` names {v!r}, which is not a node of G2")
        if u in seen1:
            raise ValueError(f"`seeds` maps node {u!r} of G1 twice")
        if v in seen2:
            raise ValueError(f"`seeds` maps two nodes of G1 to node {v!r} of G2")
        seen1.add(u)
        seen2.add(v)
        pairs.append((G1.index[u], G2.index[v]))
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def _similarity_matrix(G1, G2, similarity):
    """The (len(G1), len(G2)) similarity matrix of a node attribute name or a pair mapping."""
    import numpy as np
    import scipy.sparse as sp

    if similarity is None:
        return None
    n1, n2 = len(G1), len(G2)
    if isinstance(similarity, str):
        sources = (G1.source, G2.source)
        if any(source is None for source in sources):
            raise ValueError("`similarity` by node attribute needs the NetworkX graphs")
        by_value = {}
        for j, node in enumerate(G2.nodes):
            value = sources[1].nodes[node].get(similarity)
            if value is not None:
                by_value.setdefault(value, []).append(j)
        rows, cols = [], []
        for i, node in enumerate(G1.nodes):
            value = sources[0].nodes[node].get(similarity)
            matches = by_value.get(value, []) if value is not None else []
            rows.extend([i] * len(matches))
            cols.extend(matches)
        return sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n1, n2))
    if not hasattr(similarity, "items"):
        raise ValueError(
            "`similarity` must be None, a node attribute name or a mapping "
            f"{{(node of G1, node of G2): score}}; got {similarity!r}"
        )
    rows, cols, scores = [], [], []
    for pair, score in similarity.items():
        try:
            u, v = pair
        except (TypeError, ValueError):
            raise ValueError(f"`similarity` keys must be (node of G1, node of G2); got {pair!r}")
        if u not in G1.index or v not in G2.index:
            raise ValueError(f"`similarity` names {pair!r}, which is not a pair of nodes of G1, G2")
        if isinstance(score, bool) or not isinstance(score, numbers.Real) or not math.isfinite(score):
            raise ValueError(f"`similarity` of {pair!r} must be a finite number; got {score!r}")
        rows.append(G1.index[u])
        cols.append(G2.index[v])
        scores.append(float(score))
    return sp.csr_array((scores, (rows, cols)), shape=(n1, n2))
