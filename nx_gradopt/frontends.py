"""The new functions nx-gradopt adds to NetworkX: signatures, documentation, validation.

Each public function here is a NetworkX dispatchable. Its body is the default ("networkx")
implementation: it converts the graph and runs the same torch kernel that
``backend="gradopt"`` runs on an already converted (and cached) :class:`TensorGraph`.
This module is imported while ``import networkx`` may still be running: it uses only
``networkx.utils`` at import time, and imports torch inside function bodies.
"""

import math
import numbers

import networkx as nx
from networkx.utils.backends import _dispatchable, _registered_algorithms
from networkx.utils.decorators import not_implemented_for

__all__ = ["optimize_algebraic_connectivity"]


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


@not_implemented_for("directed")
@not_implemented_for("multigraph")
@_dispatch(graphs="G", returns_graph=True)
def optimize_algebraic_connectivity(
    G, budget, weight="weight", *, max_iter=300, tol=1e-2, time_limit=None, seed=None,
    device=None, dtype=None,
):
    r"""Spread an edge-weight budget over G's edges to maximise the algebraic connectivity.

    Solves

    .. math::

        \max_{w} \ \lambda_2\big(L(w)\big) \quad \text{subject to} \quad
        w_e \ge 0, \ \sum_{e \in E(G)} w_e = \text{budget},

    where :math:`L(w)` is the Laplacian with weight :math:`w_e` on edge :math:`e` and
    :math:`\lambda_2` its second-smallest eigenvalue. The problem is concave; the result
    carries a certified upper bound on the optimum.

    Parameters
    ----------
    G : NetworkX graph
        Undirected, connected, at least two nodes. Its existing edge weights are ignored.
    budget : float
        Total weight, positive and finite. Each undirected edge is counted once.
    weight : string, optional (default="weight")
        Edge attribute the optimised weights are written to in the returned graph.
    max_iter : int, optional (default=300)
        Maximum number of supergradient iterations.
    tol : float, optional (default=1e-2)
        Stop once the certified relative gap ``(upper_bound - lambda2) / upper_bound`` is at
        most ``tol``.
    time_limit : float or None, optional (default=None)
        Stop after this many seconds.
    seed : integer, random_state, or None (default)
        Indicator of random number generation state (starting vectors of the eigensolver),
        with NetworkX's semantics: an int, a NumPy ``RandomState``/``Generator``, or None for
        NumPy's global random state.
    device : str or torch.device, optional
        Where to compute; default ``nx.config.backends.gradopt.device`` ('auto': CUDA when
        available).
    dtype : {'float64', 'float32'}, optional
        Precision; default ``nx.config.backends.gradopt.dtype`` (float64).

    Returns
    -------
    H : NetworkX graph
        A new graph with G's nodes, edges and attributes, ``H.edges[e][weight]`` the optimised
        weights (self-loops get 0), and in ``H.graph``: ``"algebraic_connectivity"`` (λ₂ of the
        returned weights, recomputed), ``"upper_bound"`` (certified: no weighting within the
        budget does better), ``"relative_gap"``, ``"iterations"``, ``"converged"``.

    Raises
    ------
    NetworkXNotImplemented
        If G is directed or a multigraph.
    NetworkXError
        If G has fewer than two nodes or is not connected.
    ValueError
        If ``budget``, ``max_iter``, ``tol`` or ``time_limit`` is not valid.

    Warns
    -----
    ConvergenceWarning
        If the method stops on ``max_iter`` or ``time_limit`` before the gap reaches ``tol``;
        the best weights found are returned.

    See Also
    --------
    algebraic_connectivity

    Notes
    -----
    This is projected supergradient ascent with Polyak steps (a soft-min over the few
    smallest eigenvalues averages the cluster when λ₂ is repeated): the supergradient of
    :math:`\lambda_2` at :math:`w` is :math:`(x_u - x_v)^2` for a unit Fiedler vector
    :math:`x`, and each step is projected back onto the budget simplex. The upper bound is
    the weak-duality certificate
    :math:`\lambda_2^\star \le \text{budget}\cdot\max_{uv}(e_u-e_v)^\top X(e_u-e_v)` with
    :math:`X` a convex combination of the computed eigenvectors' outer products [1]_.

    Edge weights scale λ₂ linearly, so the optimum is proportional to ``budget``.

    References
    ----------
    .. [1] A. Ghosh and S. Boyd, "Growing well-connected graphs", Proceedings of the 45th
       IEEE Conference on Decision and Control, 2006. :doi:`10.1109/CDC.2006.377282`

    Examples
    --------
    On a path, the optimum puts weight proportional to x (n - x) on the edge (x - 1, x)
    (Fiedler's result), here 0.9, 1.2, 0.9 with λ₂ = 0.6:

    >>> import networkx as nx
    >>> H = nx.optimize_algebraic_connectivity(nx.path_graph(4), 3.0, tol=1e-4, seed=0)
    >>> [round(w, 3) for u, v, w in H.edges(data="weight")]
    [0.9, 1.2, 0.9]
    >>> round(H.graph["algebraic_connectivity"], 4)
    0.6
    >>> H.graph["algebraic_connectivity"] <= H.graph["upper_bound"]
    True
    """
    from .convert import from_networkx

    return _optimize_algebraic_connectivity(
        from_networkx(G), budget, weight, max_iter=max_iter, tol=tol, time_limit=time_limit,
        seed=seed, device=device, dtype=dtype,
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


def _optimize_algebraic_connectivity(
    G, budget, weight="weight", *, max_iter=300, tol=1e-2, time_limit=None, seed=None,
    device=None, dtype=None,
):
    """The implementation on a TensorGraph, shared by both dispatch paths."""
    import warnings

    import torch

    from .config import device_and_dtype
    from .connectivity import maximize_algebraic_connectivity
    from .convert import to_networkx
    from .core.eigensolvers import smallest_eigenpairs
    from .core.laplacian import edge_list_laplacian
    from .core.results import ConvergenceWarning
    from .core.runtime import torch_generator
    from .spectral import count_components

    _check_positive("budget", budget)
    _check_positive("max_iter", max_iter, integer=True)
    _check_positive("tol", tol, allow_zero=True)
    _check_positive("time_limit", time_limit, allow_none=True)
    if weight is None:
        raise ValueError("`weight` must name the edge attribute to write; got None")
    device, dtype = device_and_dtype(device, dtype)
    generator = torch_generator(seed)
    n = len(G)
    if n < 2:
        raise nx.NetworkXError("graph has less than two nodes.")
    if count_components(n, G.row, G.col) > 1:
        raise nx.NetworkXError("graph is not connected.")
    u, v = G.undirected_edges()
    result = maximize_algebraic_connectivity(
        n, u.to(device), v.to(device), float(budget), max_iter=max_iter, tol=tol,
        time_limit=time_limit, seed=generator, dtype=dtype,
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
    final = smallest_eigenpairs(
        edge_list_laplacian(n, u, v, weights),
        1,
        null_vector=torch.full((n,), n**-0.5, dtype=torch.float64),
        seed=generator,
    )
    lambda2 = float(final.values[0])

    H = G.source.copy() if G.source is not None else to_networkx(G)
    nodes = G.nodes
    for a, b in H.edges():
        H.edges[a, b][weight] = 0.0  # self-loops; every other edge is set below
    for a, b, w in zip(u.tolist(), v.tolist(), weights.tolist()):
        H.edges[nodes[a], nodes[b]][weight] = w
    upper_bound = max(result.upper_bound, lambda2)
    H.graph.update(
        algebraic_connectivity=lambda2,
        upper_bound=upper_bound,
        relative_gap=(upper_bound - lambda2) / upper_bound,
        iterations=result.nit,
        converged=result.converged,
    )
    return H
