"""Max-cut for NetworkX users: ``max_cut_sdp`` and ``max_cut_sdp_result``.

A thin layer over :mod:`nx_gradopt.maxcut`: it checks the options, takes the weights from the
converted graph, runs the Burer–Monteiro kernel and returns NetworkX's max-cut pair (or the
full :class:`MaxCutSolution`). The cut value, the bound and the partition all come from the
same converted weights.
"""

import dataclasses
import numbers

import networkx as nx

from .._registry import networkx_function
from ._checks import check_positive, check_weights, docstring_sections

_MAX_CUT_OPTIONS_DOC = r"""
    weight : string or None, optional (default="weight")
        Edge attribute holding the weights (real, possibly negative); an edge without it
        weighs 1. None gives every edge weight 1. Self-loops never count.
    rank : int or None, optional (default=None)
        Columns of the Burer–Monteiro factor, at least 2; default
        :math:`\min(\lceil\sqrt{2n}\rceil, 24)`, or 36 in place of 24 for the graphs whose
        bound is randomized (see ``certificate``), whose SDP solutions need more. It grows
        by itself when the certificate finds the factorisation stuck at a saddle, or, with
        the randomized certificate, no longer improving.
    tol : float, optional (default=1e-4)
        The SDP counts as solved when the certified bound is within ``tol`` (relative) of
        its value.
    max_iter : int, optional (default=2000)
        Maximum number of Riemannian L-BFGS iterations on the SDP.
    time_limit : float or None, optional (default=None)
        The most wall-clock seconds the call may take (after NetworkX's conversion of G):
        the SDP uses at most 60% of it and the local search the rest. None: the SDP runs to
        ``tol`` or ``max_iter``. The local search makes short breakout runs, from roundings
        of the SDP solution and from crossovers of the best cuts so far (with a time limit,
        each start annealed first, unless the cycle relaxation gave a first cut); with or
        without a time limit it stops as soon as its cut reaches the certified bound (then
        the cut is a maximum cut; for integer weights, the bound's floor), or after 48 runs
        without a better cut (320 with a time limit). Without a time limit it also stops
        when doubling its runs, from 32 runs on, gained less than 0.3% of the cut.
    max_moves : int or None, optional (default=None)
        The most local-search moves, all runs together (a run finishes its perturbation,
        at most n/10 moves, past it). None: no cap.
    certificate : {"auto", "factorisation", "randomized"}, optional (default="auto")
        How the bound is proven. "factorisation": a Cholesky (or sparse LDLᵀ) factorisation
        with a rounding margin, a proof; Gershgorin's discs where none is affordable.
        "randomized": Lanczos from a random start, whose bound holds except with
        probability at most 1e-9 per estimate (Kuczyński–Woźniakowski), with no
        factorisation. "auto": randomized on the CPU for graphs of 8 000 nodes or more
        without small separators (random, expander-like: their factorisations fill in, 30 s
        and more at 20 000 nodes), factorisation otherwise. ``bound_proof`` in
        :func:`max_cut_sdp_result` says which proved the bound.
    chains : int or None, optional (default=None)
        Local-search runs made at once, in parallel threads; default one per available
        core, at most 8. Fix it (with ``seed``, no time limit) for results that repeat
        across machines.
    seed : integer, random_state, or None (default)
        Indicator of random number generation state (start of the factorisation,
        hyperplanes, search), with NetworkX's semantics: an int, a ``random.Random``, a NumPy
        ``RandomState`` or ``Generator``, or None (NumPy's global state).
    device : str or torch.device, optional
        Where the SDP is computed; the local search runs on the CPU.
    dtype : {'float64', 'float32'}, optional
        Precision of the SDP iterations (the certificate is always float64).
"""


CERTIFICATES = ("auto", "factorisation", "randomized")

_MAX_CUT_RAISES_DOC = """
    Raises
    ------
    NetworkXNotImplemented
        If G is directed or a multigraph.
    TypeError
        If a weight is not a real number.
    ValueError
        If a weight is NaN or infinite, or an option is not valid.
"""

_add_max_cut_doc = docstring_sections(
    MAX_CUT_OPTIONS=_MAX_CUT_OPTIONS_DOC, MAX_CUT_RAISES=_MAX_CUT_RAISES_DOC
)
# The bound is certified on the graph passed, so never from a stale cached conversion.
_REGISTRATION = dict(
    new=True, dispatch={"graphs": "G", "edge_attrs": "weight"},
    not_implemented_for=("directed", "multigraph"), fresh_conversion=True,
)


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
        and the SDP optimum. NaN when the SDP was not solved (below).
    sdp_certified : bool
        Whether the SDP's bound met ``tol``: then the SDP optimum lies within ``tol`` of
        ``sdp_value``.
    bound_proof : str
        What proves ``upper_bound``: "Cholesky" (a factorisation: a proof), "randomized"
        (Lanczos from a random start: wrong with probability at most 1e-9), "Gershgorin" or
        "total weight" (looser proofs, when no better one could be made in time), or "cycle
        relaxation" (a minimum-weight matching on the graph's short cycles: grids, tori and
        lattices, where it is tighter than the SDP's; when its cut is maximum the SDP is
        skipped).
    factor : numpy.ndarray or None
        The Burer–Monteiro factor Y (unit rows), row k for ``nodes[k]``; None when the SDP was
        skipped.
    nodes : list
        G's nodes in the factor's row order.
    iterations : int
        Riemannian L-BFGS iterations on the SDP.
    moves : int
        Local-search moves, all runs together.
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
    bound_proof: str = "Cholesky"


@networkx_function(
    docs="max_cut_sdp with the certified bound and the SDP solution.", **_REGISTRATION
)
@_add_max_cut_doc
def max_cut_sdp_result(
    G, weight="weight", *, rank=None, tol=1e-4, max_iter=2000, time_limit=None,
    max_moves=None, certificate="auto", chains=None, seed=None, device=None, dtype=None,
):
    r"""Everything :func:`max_cut_sdp` computes: the cut, a certified bound, the SDP solution.

    Parameters
    ----------
    G : NetworkX graph
        Undirected.
    MAX_CUT_OPTIONS

    Returns
    -------
    MaxCutSolution
        With ``cut_value`` and ``partition`` (what :func:`max_cut_sdp` returns),
        ``upper_bound`` (no cut of G is larger), ``relative_gap``, ``sdp_value``,
        ``sdp_certified``, ``bound_proof``, ``factor`` and ``nodes`` (the factor's row
        order), ``iterations``, ``moves``, ``time`` and ``sdp_time``.

    MAX_CUT_RAISES

    Warns
    -----
    ConvergenceWarning
        If the SDP stops before its bound is within ``tol``, or the call is interrupted.

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
    import warnings

    import torch

    from ..config import runtime as resolve_runtime
    from ..core.results import ConvergenceWarning, warn_if_interrupted
    from ..maxcut import solve_max_cut

    n = len(G)
    if rank is not None and (
        isinstance(rank, bool) or not isinstance(rank, numbers.Integral) or not 2 <= rank <= n
    ):
        raise ValueError(f"`rank` must be an integer with 2 <= rank <= n = {n}; got {rank!r}")
    check_positive("tol", tol)
    check_positive("max_iter", max_iter, integer=True)
    check_positive("time_limit", time_limit, allow_none=True)
    check_positive("max_moves", max_moves, integer=True, allow_zero=True, allow_none=True)
    check_positive("chains", chains, integer=True, allow_none=True)
    if certificate not in CERTIFICATES:
        raise ValueError(f"`certificate` must be one of {CERTIFICATES}; got {certificate!r}")
    runtime = resolve_runtime(device, dtype, seed)
    values = check_weights(G, weight)
    if n < 2:  # no edge can cross; NetworkX's one_exchange returns a 0 cut as well
        import numpy as np

        return MaxCutSolution(
            cut_value=0, partition=(set(G.nodes), set()), upper_bound=0.0, relative_gap=0.0,
            sdp_value=0.0, sdp_certified=True, factor=np.ones((n, 1)), nodes=list(G.nodes),
            bound_proof="total weight",
        )
    u, v = G.undirected_edges()
    w = values[G.row < G.col]
    result = solve_max_cut(
        n, u, v, w, rank=rank, tol=tol, max_iter=max_iter, time_limit=time_limit,
        max_moves=max_moves, chains=chains, runtime=runtime, certificate_kind=certificate,
    )
    interrupted = warn_if_interrupted("max_cut_sdp", result, "the best cut, with a valid bound,")
    # A bound from the cycle relaxation does not rest on the SDP's convergence.
    if not result.converged and not interrupted and result.proof != "cycle relaxation":
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
    # The kernel's cut value, on the weights it optimised; an int for int weights, as
    # nx.cut_size gives.
    cut = result.fun
    if weight is None or weight in G.integer_attributes:
        cut = int(round(cut))
    bound = max(result.upper_bound, float(cut))
    return MaxCutSolution(
        cut_value=cut, partition=(S, T), upper_bound=bound,
        relative_gap=(bound - cut) / bound if bound > 0 else 0.0,
        sdp_value=result.sdp_value, sdp_certified=result.converged,
        factor=None if result.factor is None else result.factor.numpy(), nodes=list(nodes),
        iterations=result.nit,
        moves=result.moves, time=result.time, sdp_time=result.sdp_time,
        bound_proof=result.proof,
    )


@networkx_function(
    docs="Burer–Monteiro SDP, certified bound, breakout local search.", **_REGISTRATION
)
@_add_max_cut_doc
def max_cut_sdp(
    G, weight="weight", *, rank=None, tol=1e-4, max_iter=2000, time_limit=None,
    max_moves=None, certificate="auto", chains=None, seed=None, device=None, dtype=None,
):
    r"""A maximum cut through the Goemans–Williamson SDP, solved by Burer–Monteiro.

    Maximises :math:`\frac14 \langle L, YY^\top\rangle` over unit-row
    :math:`Y \in \mathbb R^{n\times r}` (Riemannian L-BFGS on the oblique manifold), certifies
    how close that is to the SDP optimum, rounds Y with random hyperplanes and improves the
    best roundings by breakout local search. The returned cut is 1-flip locally optimal.

    Parameters
    ----------
    G : NetworkX graph
        Undirected.
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
        the bound is still valid, only looser. Also on Ctrl-C (see Notes).

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

    Ctrl-C (KeyboardInterrupt) stops the call within a fraction of a second and returns the
    best cut found so far, with a ConvergenceWarning and a valid bound (Gershgorin's when
    the SDP itself was interrupted); a second Ctrl-C interrupts as usual.

    ``weight`` defaults to ``"weight"``, unlike NetworkX's ``one_exchange`` (``None``): the
    SDP and its bound are about the weighted cut, and an edge without the attribute weighs
    1, so unweighted graphs are cut the same either way.
    Graphs with fewer than two nodes have the empty cut, 0.

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
    solution = max_cut_sdp_result(
        G, weight, rank=rank, tol=tol, max_iter=max_iter, time_limit=time_limit,
        max_moves=max_moves, certificate=certificate, chains=chains, seed=seed,
        device=device, dtype=dtype,
    )
    return solution.cut_value, solution.partition


def _cut_edges(G, weight):
    """(u, v, w: the edges without self-loops as NumPy arrays, the cut-value converter): cut
    values are ints where NetworkX's ``cut_size`` sums ints."""
    values = check_weights(G, weight)
    u, v = G.undirected_edges()
    w = values[G.row < G.col].numpy()
    u, v = u.numpy(), v.numpy()
    integral = weight is None or weight in G.integer_attributes

    def cut_value(x):
        crossing = x[u] != x[v]
        if not crossing.any():
            return 0  # NetworkX sums an empty boundary: the int 0
        total = float(w[crossing].sum())
        return int(round(total)) if integral else total

    return u, v, w, cut_value


def _partition(G, x, extra=()):
    """NetworkX's ``(cut, G.nodes - cut)`` for spins x (+1 in the cut); ``extra`` are the
    initial cut's elements that are not nodes of G, which NetworkX keeps in the cut."""
    cut = {node for node, side in zip(G.nodes, x) if side > 0} | set(extra)
    return cut, {node for node, side in zip(G.nodes, x) if side < 0}


@networkx_function(
    docs="The same greedy single-node exchanges, seeded and tie-broken as NetworkX's, "
    "with each node's gain kept up to date in compiled code (Numba) instead of recomputing "
    "every node's cut at every step.",
    not_implemented_for=("directed", "multigraph"), extra_parameters={},
)
def one_exchange(G, initial_cut=None, seed=None, weight=None):
    import numpy as np

    from ..maxcut.local_search import load_compiled, symmetric_csr
    from ..maxcut.local_search import one_exchange as exchange

    load_compiled()
    u, v, w, cut_value = _cut_edges(G, weight)
    matrix = symmetric_csr(len(G), u, v, w)
    cut = set() if initial_cut is None else set(initial_cut)
    index = G.index
    x = -np.ones(len(G))
    for node in cut:
        if node in index:
            x[index[node]] = 1.0
    # Flips that gain less than rounding are not flips: NetworkX compares two recomputed
    # float sums, equal where the exact gain is 0.
    eps = 1e-12 * float(np.abs(matrix.data).sum()) if matrix.nnz else 0.0
    exchange(matrix.indptr, matrix.indices, matrix.data, x, seed.shuffle, eps)
    return cut_value(x), _partition(G, x, extra=(node for node in cut if node not in index))


@networkx_function(
    docs="NetworkX's draws; the cut value from the converted weights.",
    not_implemented_for=("directed", "multigraph"), extra_parameters={},
)
def randomized_partitioning(G, seed=None, p=0.5, weight=None):
    import numpy as np

    *_, cut_value = _cut_edges(G, weight)
    x = np.array([1.0 if seed.random() < p else -1.0 for _ in G.nodes])
    return cut_value(x), _partition(G, x)
