"""NetworkX graphs <-> :class:`~nx_gradopt.core.tensorgraph.TensorGraph`."""

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
    view = G.edges  # callable; on multigraphs it yields each parallel edge (keys=False)
    # One pass over the edges (the Python-level cost of a conversion), then NumPy.
    if len(edge_attrs) == 1:
        ((attribute, attr_default),) = edge_attrs.items()
        triples = list(view(data=attribute, default=attr_default))
        heads, tails, data = zip(*triples) if triples else ((), (), ())
        columns = {attribute: _numeric_column(data, attribute, heads, tails)}
    else:
        triples = list(view(data=True)) if edge_attrs else [(u, v, None) for u, v in view()]
        heads, tails, dicts = zip(*triples) if triples else ((), (), ())
        columns = {
            attribute: _numeric_column(
                [d.get(attribute, attr_default) for d in dicts], attribute, heads, tails
            )
            for attribute, attr_default in edge_attrs.items()
        }
    sources = np.fromiter(map(index.__getitem__, heads), dtype=np.int64, count=len(heads))
    targets = np.fromiter(map(index.__getitem__, tails), dtype=np.int64, count=len(tails))
    if not G.is_directed():
        mirrored = sources != targets
        sources, targets = (
            np.concatenate([sources, targets[mirrored]]),
            np.concatenate([targets, sources[mirrored]]),
        )
        columns = {a: np.concatenate([c, c[mirrored]]) for a, c in columns.items()}
    # Coalesce: sort row-major and sum duplicates (parallel edges), one pattern for all attributes.
    n = max(len(nodes), 1)
    keys, position = np.unique(sources * n + targets, return_inverse=True)
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


def _numeric_column(values, attribute, heads, tails):
    """float64 array of ``values``; every one must be a real number (checked per type)."""
    kinds = set(map(type, values))
    if all(issubclass(kind, numbers.Real) and not issubclass(kind, bool) for kind in kinds):
        return np.array(values, dtype=np.float64).reshape(-1)
    for u, v, value in zip(heads, tails, values):
        if value is None:
            raise KeyError(f"edge ({u!r}, {v!r}) has no {attribute!r} attribute")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(
                f"edge attribute {attribute!r} of edge ({u!r}, {v!r}) must be a real number; "
                f"got {value!r}"
            )
    raise AssertionError("unreachable: some value failed the per-type check")


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

