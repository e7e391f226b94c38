"""NetworkX graphs <-> :class:`~nx_gradopt.core.tensorgraph.TensorGraph`."""

import math
import numbers

import networkx as nx
import numpy as np
import torch

from .core.tensorgraph import TensorGraph


def from_networkx(G, edge_attrs=None, *, weight=None, default=1):
    """Convert a NetworkX graph to a :class:`TensorGraph` without densifying it.

    Parameters
    ----------
    G : NetworkX graph
        Any of Graph, DiGraph, MultiGraph, MultiDiGraph, with any hashable nodes.
    edge_attrs : dict, optional
        ``{attribute: default}`` of the edge attributes to convert; a default of None means
        the attribute is required on every edge.
    weight : str, optional
        Shorthand for ``edge_attrs={weight: default}``.
    default : float
        The default used with ``weight`` (NetworkX's is 1).

    Returns
    -------
    TensorGraph
        Node order is ``list(G)``. Entries follow ``networkx.to_scipy_sparse_array``:
        undirected edges in both directions, self-loops once, parallel edges summed.

    Raises
    ------
    TypeError
        If an edge attribute value is not a real number.
    KeyError
        If a required attribute (default None) is missing on an edge.
    """
    if weight is not None:
        edge_attrs = {**(edge_attrs or {}), weight: default}
    edge_attrs = dict(edge_attrs or {})
    nodes = list(G)
    index = {node: i for i, node in enumerate(nodes)}
    edges = G.edges(keys=False) if G.is_multigraph() else G.edges()
    sources = np.fromiter((index[u] for u, _ in edges), dtype=np.int64, count=G.number_of_edges())
    targets = np.fromiter((index[v] for _, v in edges), dtype=np.int64, count=sources.size)
    columns = {
        attribute: _edge_column(G, attribute, attr_default, sources.size)
        for attribute, attr_default in edge_attrs.items()
    }
    if not G.is_directed():
        mirrored = sources != targets
        sources, targets = (
            np.concatenate([sources, targets[mirrored]]),
            np.concatenate([targets, sources[mirrored]]),
        )
        columns = {a: np.concatenate([c, c[mirrored]]) for a, c in columns.items()}
    # Coalesce: sort row-major and sum duplicates (parallel edges), one pattern for all attributes.
    keys, position = np.unique(sources * max(len(nodes), 1) + targets, return_inverse=True)
    n = max(len(nodes), 1)
    values = {
        a: torch.from_numpy(np.bincount(position, weights=c, minlength=keys.size))
        for a, c in columns.items()
    }
    signed = frozenset(a for a, c in columns.items() if (c < 0).any())
    absolute_values = {
        a: torch.from_numpy(np.bincount(position, weights=np.abs(columns[a]), minlength=keys.size))
        for a in (signed if G.is_multigraph() else ())
    }
    return TensorGraph(
        nodes=nodes,
        row=torch.from_numpy(keys // n),
        col=torch.from_numpy(keys % n),
        edge_values=values,
        directed=G.is_directed(),
        multigraph=G.is_multigraph(),
        signed_attributes=signed,
        absolute_edge_values=absolute_values,
        source=G,
    )


def _edge_column(G, attribute, default, count):
    data = G.edges(keys=False, data=attribute, default=default) if G.is_multigraph() else (
        G.edges(data=attribute, default=default)
    )
    column = np.empty(count, dtype=np.float64)
    for i, (u, v, value) in enumerate(data):
        if value is None:
            raise KeyError(f"edge ({u!r}, {v!r}) has no {attribute!r} attribute")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(
                f"edge attribute {attribute!r} of edge ({u!r}, {v!r}) must be a real number; "
                f"got {value!r}"
            )
        column[i] = value
    return column


def to_networkx(graph, *, weight=None):
    """A new NetworkX graph from a :class:`TensorGraph` (or ``graph`` itself if not one).

    With ``weight=None`` every converted edge attribute is written back.
    """
    if not isinstance(graph, TensorGraph):
        return graph
    cls = {
        (False, False): nx.Graph,
        (True, False): nx.DiGraph,
        (False, True): nx.MultiGraph,
        (True, True): nx.MultiDiGraph,
    }[(graph.directed, graph.multigraph)]
    H = cls()
    H.add_nodes_from(graph.nodes)
    row, col = graph.row.tolist(), graph.col.tolist()
    attributes = [weight] if weight is not None else list(graph.edge_values)
    values = {a: graph.edge_values[a].tolist() for a in attributes}
    nodes = graph.nodes
    for i, (r, c) in enumerate(zip(row, col)):
        if not graph.directed and r > c:
            continue
        H.add_edge(nodes[r], nodes[c], **{a: v[i] for a, v in values.items()})
    return H


def is_finite_real(value):
    """True for a finite real number that is not a bool."""
    return (
        isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    )
