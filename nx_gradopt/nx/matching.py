"""Graph matching for NetworkX users: ``graph_match`` and ``graph_match_result``.

A thin layer over :mod:`nx_gradopt.matching`: it checks the graphs and the seeds, builds the
two adjacency matrices (and the similarity) from the converted graphs, runs the Frank–Wolfe
kernel and maps its permutation back to node labels.
"""

import collections.abc
import dataclasses
import math
import numbers

import networkx as nx

from .._registry import networkx_function
from ._checks import check_bool, check_weights, docstring_sections

_GRAPH_MATCH_OPTIONS_DOC = """
    G2 : NetworkX graph
        Directed if and only if G1 is.
    weight : string, None, or list of strings, optional (default="weight")
        Edge attribute holding the weight (1 where missing); None means every edge weighs 1.
        Self-loops count: their weights are the adjacency diagonal. A list of attributes
        makes a multilayer network, one layer (edge type) per attribute, and the objective
        sums over the layers; an edge without an attribute is absent from that layer (0).
    method : {"goat", "faq", "2opt"}, optional (default="goat")
        The Frank–Wolfe direction: an entropic optimal-transport plan by Sinkhorn (GOAT), or
        a permutation by linear assignment (FAQ); or no relaxation, only pairwise swaps from
        random maps (2-opt).
    seeds : mapping, iterable of pairs or tuple of two lists, optional (default=None)
        Known pairs, kept exactly: ``{node of G1: node of G2}``, ``[(u, v), ...]``, or
        graspologic's columns ``([nodes of G1], [nodes of G2])``. A tuple of two pairs reads
        both ways and is an error: give two pairs as a dict or a list.
    init : mapping or pairs, optional (default=None)
        A guess ``{node of G1: node of G2}`` (some nodes or all) that the first start puts
        together, free to move: a previous alignment to refine, for instance. The other
        nodes start at the barycenter (at random for 2-opt).
    init_perturbation : float, optional (default=0.0)
        Mix every start with a random doubly stochastic matrix with this weight, from 0 to 1
        (graspologic's option): with ``n_init`` > 1, several starts near ``init``.
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
        stochastic matrices, run as one batch; the best result is kept. Unseeded graphs of
        equal size whose best answer keeps less than half their edges get one more start:
        from the nodes' neighbourhood trees where that is affordable, else from the first
        of up to 32 guessed pairs of large-degree nodes that leads somewhere (see the docs).
    max_iter : int, optional (default=20)
        Frank–Wolfe iterations per start.
    tol : float, optional (default=0.03)
        A start stops when a step moves P by less than this (Frobenius norms over
        sqrt(n), SciPy's test); for GOAT, whose iterates can stay diffuse, the step is
        measured against the norm of P, once P has moved at least this far from its start.
    local_search : bool or None, optional (default=None)
        Polish each start's permutation by pairwise swaps (2-opt); None means on for graphs
        of at most 200 unseeded nodes (a pass costs O(n^3)).
    time_limit : float, optional
        Seconds for the Frank–Wolfe iterations; when they run out, each start is projected
        to a permutation as it stands (``converged`` is then False). The extra start (see
        ``n_init``) checks it too: between the sub-tree levels, every iteration of the
        guesses.
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
        If a weight is NaN or infinite, a seed or a guess names an unknown node or repeats
        one, or an option is not valid.
"""

_add_graph_match_doc = docstring_sections(
    GRAPH_MATCH_OPTIONS=_GRAPH_MATCH_OPTIONS_DOC, GRAPH_MATCH_RAISES=_GRAPH_MATCH_RAISES_DOC
)


def _converts_here(arguments):
    """NetworkX's dispatcher converts one weight attribute, not a list of them."""
    if isinstance(arguments["weight"], (list, tuple)):
        return (
            "a list of weight attributes (layers) is converted by graph_match's default "
            "implementation: call it without backend= on NetworkX graphs"
        )
    return True


# Node attributes are preserved for ``similarity="attribute name"``.
_REGISTRATION = dict(
    new=True,
    can_run=_converts_here,
    dispatch={"graphs": {"G1": 0, "G2": 1}, "edge_attrs": "weight", "preserve_node_attrs": True},
)


@dataclasses.dataclass(frozen=True)
class GraphMatchSolution:
    """What :func:`graph_match_result` returns.

    Attributes
    ----------
    mapping : dict
        ``{node of G1: node of G2}``, one-to-one.
    objective : float
        :math:`\\sum_{u,v} A_{uv} B_{\\pi(u)\\pi(v)}` over matched nodes plus the similarity
        of matched pairs (summed over the layers of a list of weights), recomputed from
        ``mapping``.
    iterations : int
        Frank–Wolfe iterations of the start that gave ``mapping``.
    converged : bool
        Whether that start met ``tol`` before ``max_iter``.
    reason : str
        Why that start stopped, in words.
    start : int
        Which start gave ``mapping`` (0 is the barycenter; ``n_init`` the extra start of a
        weak answer, where one was made).
    start_objectives : numpy.ndarray
        The objective reached from each start (``n_init`` of them, or one more with the
        extra start).
    time : float
        Seconds in the solver.
    """

    mapping: dict
    objective: float
    iterations: int
    converged: bool
    reason: str = ""
    start: int = 0
    start_objectives: object = dataclasses.field(default=None, repr=False)
    time: float = 0.0


@networkx_function(docs="graph_match with the objective and convergence details.", **_REGISTRATION)
@_add_graph_match_doc
def graph_match_result(
    G1, G2, weight="weight", *, method="goat", seeds=None, init=None, init_perturbation=0.0,
    similarity=None, padding="naive", maximize=True, n_init=1, max_iter=20, tol=0.03,
    local_search=None, time_limit=None, seed=None, device=None, dtype=None,
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
        mapping), ``iterations``, ``converged``, ``reason``, ``start``, ``start_objectives``
        and ``time``.

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
    return _solved("graph_match_result", graph_match_steps(
        G1, G2, weight, method=method, seeds=seeds, init=init,
        init_perturbation=init_perturbation, similarity=similarity, padding=padding,
        maximize=maximize, n_init=n_init, max_iter=max_iter, tol=tol,
        local_search=local_search, time_limit=time_limit, seed=seed, device=device,
        dtype=dtype,
    ))


def graph_match_steps(
    G1, G2, weight="weight", *, method="goat", seeds=None, init=None, init_perturbation=0.0,
    similarity=None, padding="naive", maximize=True, n_init=1, max_iter=20, tol=0.03,
    local_search=None, time_limit=None, seed=None, device=None, dtype=None,
):
    """:func:`graph_match_result` on converted graphs as steps that yield the Frank–Wolfe
    run (see :func:`nx_gradopt.matching.solver.quadratic_assignment_steps`)."""
    import numpy as np

    from ..config import device_and_dtype
    from ..matching.solver import SMALL_PROBLEM, quadratic_assignment_steps

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
    maximize = check_bool("maximize", maximize)
    device, dtype = device_and_dtype(device, dtype)
    # Small problems are solved on dense arrays; build them so, not through CSR.
    dense = max(len(G1), len(G2)) <= SMALL_PROBLEM
    layers = [[], []]
    for attribute in _weight_layers(weight):
        largest = []
        for side, (name, G) in enumerate((("G1", G1), ("G2", G2))):
            values = check_weights(G, attribute, name=name).numpy()
            largest.append(float(np.abs(values).max()) if values.size else 0.0)
            layers[side].append(G.adjacency(attribute, dense=dense))
        if not math.isfinite(largest[0] * largest[1] * max(G1.row.numel(), 1)):
            raise ValueError(
                f"`weight` {attribute!r}: the products of G1's and G2's weights overflow "
                "float64; divide the weights by a common factor"
            )
    matrices = [side[0] if len(side) == 1 else side for side in layers]
    pairs = _node_pairs(G1, G2, "seeds", seeds)
    guess = _node_pairs(G1, G2, "init", init)
    if guess is not None and pairs is not None:
        if set(guess[:, 0]) & set(pairs[:, 0]) or set(guess[:, 1]) & set(pairs[:, 1]):
            raise ValueError("`init` names a node that `seeds` fixes already")
    result = yield from quadratic_assignment_steps(
        matrices[0], matrices[1], method=method, maximize=maximize, partial_match=pairs,
        partial_guess=guess, init_perturbation=init_perturbation,
        similarity=_similarity_matrix(G1, G2, similarity), padding=padding, n_init=n_init,
        max_iter=max_iter, tol=tol, local_search=local_search, time_limit=time_limit,
        seed=seed, device=device, dtype=dtype,
    )
    nodes1, nodes2 = G1.nodes, G2.nodes
    mapping = {
        nodes1[i]: nodes2[j] for i, j in enumerate(np.asarray(result.col_ind)) if j >= 0
    }
    return GraphMatchSolution(
        mapping=mapping, objective=result.fun, iterations=result.nit,
        converged=result.converged, reason=result.reason, start=result.start,
        start_objectives=result.start_objectives, time=result.time,
    )


def networkx_steps(name, args, kwargs):
    """The steps of ``nx.graph_match`` or ``nx.graph_match_result`` (``name``) called with
    ``args`` and ``kwargs``, the graphs converted as NetworkX's dispatcher converts them, and
    the function that turns their result into the function's. For grouped runs
    (:func:`nx_gradopt.solve_many`'s ``batch_size``)."""
    from .._registry import registrations

    registration = registrations()[name]
    arguments = registration.bind(args, kwargs)
    if arguments is None:  # the call's own TypeError, in Python's words
        registration.signature.bind(*args, **kwargs)
    steps = graph_match_steps(**registration.converted(arguments))
    if name == "graph_match":
        return steps, lambda solution: solution.mapping
    return steps, lambda solution: solution


def _solved(name, steps):
    """Run the steps alone; the Ctrl-C rule's warning under the public function's name."""
    from ..core.results import warn_if_interrupted
    from ..matching.grouped import run_alone

    solution = run_alone(steps)
    warn_if_interrupted(name, solution, "the best mapping", stacklevel=3)
    return solution


@networkx_function(
    docs="FAQ and GOAT Frank–Wolfe network alignment, batched starts, seeds, padding.",
    **_REGISTRATION,
)
@_add_graph_match_doc
def graph_match(
    G1, G2, weight="weight", *, method="goat", seeds=None, init=None, init_perturbation=0.0,
    similarity=None, padding="naive", maximize=True, n_init=1, max_iter=20, tol=0.03,
    local_search=None, time_limit=None, seed=None, device=None, dtype=None,
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
    return _solved("graph_match", graph_match_steps(
        G1, G2, weight, method=method, seeds=seeds, init=init,
        init_perturbation=init_perturbation, similarity=similarity, padding=padding,
        maximize=maximize, n_init=n_init, max_iter=max_iter, tol=tol,
        local_search=local_search, time_limit=time_limit, seed=seed, device=device,
        dtype=dtype,
    )).mapping


def _weight_layers(weight):
    """The edge attributes of ``weight``, one per layer: ``[weight]`` for a name or None."""
    if not isinstance(weight, (list, tuple)):
        return [weight]
    if not weight:
        raise ValueError("`weight` as a list of edge attributes (layers) needs at least one")
    for attribute in weight:
        if attribute is None or not isinstance(attribute, collections.abc.Hashable):
            raise ValueError(
                f"`weight` lists edge attributes, one per layer; {attribute!r} cannot name one"
            )
    return list(weight)


def _node_pairs(G1, G2, name, pairs):
    """Pairs of nodes (``seeds`` or ``init``) as index pairs; every node known, none used
    twice."""
    import numpy as np

    from ..matching.solver import pair_rows

    if pairs is None:
        return None
    index_pairs = []
    seen1, seen2 = set(), set()
    for item in pair_rows(name, pairs):
        try:
            u, v = item
        except (TypeError, ValueError):
            raise ValueError(f"`{name}` must hold (node of G1, node of G2) pairs; got {item!r}")
        if u not in G1.index:
            raise ValueError(f"`{name}` names {u!r}, which is not a node of G1")
        if v not in G2.index:
            raise ValueError(f"`{name}` names {v!r}, which is not a node of G2")
        if u in seen1:
            raise ValueError(f"`{name}` maps node {u!r} of G1 twice")
        if v in seen2:
            raise ValueError(f"`{name}` maps two nodes of G1 to node {v!r} of G2")
        seen1.add(u)
        seen2.add(v)
        index_pairs.append((G1.index[u], G2.index[v]))
    return np.array(index_pairs, dtype=np.int64).reshape(-1, 2)


def _similarity_matrix(G1, G2, similarity):
    """The (len(G1), len(G2)) similarity matrix of a node attribute name or a pair mapping."""
    import numpy as np
    import scipy.sparse as sp

    if similarity is None:
        return None
    n1, n2 = len(G1), len(G2)
    if isinstance(similarity, str):
        if G1.node_data is None or G2.node_data is None:
            raise ValueError(
                "`similarity` by node attribute needs the node attributes; convert the graphs "
                "with preserve_node_attrs=True"
            )
        by_value = {}
        for j, data in enumerate(G2.node_data):
            value = data.get(similarity)
            if value is not None:
                by_value.setdefault(value, []).append(j)
        rows, cols = [], []
        for i, data in enumerate(G1.node_data):
            value = data.get(similarity)
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
