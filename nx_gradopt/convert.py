"""NetworkX graphs <-> :class:`~nx_gradopt.core.tensorgraph.TensorGraph`."""

from itertools import chain
from operator import methodcaller

import networkx as nx
import numpy as np
import torch

from .core.runtime import garbage_collection_paused
from .core.tensorgraph import MISSING, TensorGraph, is_real, numeric_column


def from_networkx(
    G, edge_attrs=None, *, weight=None, default=1, preserve_edge_attrs=False,
    preserve_node_attrs=False, preserve_graph_attrs=False,
):
    """Convert a NetworkX graph to a :class:`TensorGraph` without densifying it.

    The cyclic garbage collector is paused meanwhile (see
    :func:`~nx_gradopt.core.runtime.garbage_collection_paused`): a tuple per edge otherwise
    sets off full collections, two thirds of the conversion's time on large graphs.

    Parameters
    ----------
    G : NetworkX graph
        Any of Graph, DiGraph, MultiGraph, MultiDiGraph, with any hashable nodes.
    edge_attrs : dict, optional
        ``{attribute: default}`` of the edge attributes to convert to tensors; a default of
        None means the attribute is required on every edge.
    weight : str, optional
        Shorthand for ``edge_attrs={weight: default}``.
    default : float
        The default used with ``weight`` (NetworkX's is 1).
    preserve_edge_attrs, preserve_node_attrs, preserve_graph_attrs : bool
        Keep copies of every edge's, node's and the graph's attribute dicts (for functions
        that return a new graph). With ``preserve_edge_attrs``, every attribute whose values
        are all real numbers is also converted to a tensor (missing values count 1).

    Returns
    -------
    TensorGraph
        Node order is ``list(G)``. Entries follow ``networkx.to_scipy_sparse_array``:
        undirected edges in both directions, self-loops once, parallel edges summed.

    Raises
    ------
    TypeError
        If a value of a converted attribute is not a real number (bools count as 0 and 1
        and decimals are converted, as NumPy does for NetworkX).
    KeyError
        If a required attribute (default None) is missing on an edge.
    """
    with garbage_collection_paused():
        return _from_networkx(G, edge_attrs, weight, default, preserve_edge_attrs,
                              preserve_node_attrs, preserve_graph_attrs)


def _adjacency_entries(G, nodes, index, edge_attrs, integral):
    """(sources, targets, columns) of a graph that is not a multigraph, read from its
    adjacency: an undirected edge once from each end (a self-loop once), as the entries of
    its matrix. The loops run in C (``chain``, ``map``), where an edge view yields a tuple
    per edge from Python: unweighted, from_networkx of G(10^5, 10/n) took 0.39 s through the
    edge view, 0.20 s here."""
    adjacency = G._adj  # NetworkX's own code reads it; views of a graph have one as well
    neighbourhoods = list(map(adjacency.__getitem__, nodes))
    degrees = np.fromiter(map(len, neighbourhoods), dtype=np.int64, count=len(nodes))
    total = int(degrees.sum())
    sources = np.repeat(np.arange(len(nodes), dtype=np.int64), degrees)
    neighbours = chain.from_iterable(neighbourhoods)
    if (set(map(type, nodes)) <= {int} and len(nodes) > 0
            and min(nodes) >= 0 and max(nodes) < 4 * len(nodes) + 1024):
        # Small non-negative integer nodes (NetworkX's generators make 0..n-1; a component
        # or subgraph leaves gaps) map to indices by a table gathered in NumPy. On the
        # largest component of G(10^5, 10/n) the dictionary's look-ups took 1.2 s, the
        # table 0.39 s.
        table = np.full(max(nodes) + 1, -1, dtype=np.int64)
        table[np.fromiter(nodes, dtype=np.int64, count=len(nodes))] = np.arange(len(nodes))
        targets = table[np.fromiter(neighbours, dtype=np.int64, count=total)]
    else:
        targets = np.fromiter(map(index.__getitem__, neighbours), dtype=np.int64, count=total)
    columns = {}
    for attribute, attr_default in edge_attrs.items():
        values = list(map(methodcaller("get", attribute, attr_default),
                          chain.from_iterable(map(methodcaller("values"), neighbourhoods))))
        # The edges' ends are only read to name a bad value.
        heads = (u for u, adjacent in zip(nodes, neighbourhoods) for _ in adjacent)
        columns[attribute] = numeric_column(values, attribute, heads,
                                            chain.from_iterable(neighbourhoods), integral)
    return sources, targets, columns


def _from_networkx(G, edge_attrs, weight, default, preserve_edge_attrs, preserve_node_attrs,
                   preserve_graph_attrs):
    if weight is not None:
        edge_attrs = {**(edge_attrs or {}), weight: default}
    # A default of None makes the attribute required: look it up with a marker for "missing".
    edge_attrs = {
        attribute: MISSING if attr_default is None else attr_default
        for attribute, attr_default in (edge_attrs or {}).items()
    }
    nodes = list(G)
    index = {node: i for i, node in enumerate(nodes)}
    # One pass over the edges (the Python-level cost of a conversion), then NumPy. Through
    # iter(): list() of an edge data view first asks its length, which NetworkX counts by
    # walking every edge (a second pass: a third of the conversion of a 190-edge graph).
    dicts = None
    integral = set()
    # Read from the adjacency, sources/targets are the matrix's entries already (an
    # undirected edge both ways); from the edge view, an undirected edge is mirrored below.
    from_adjacency = not (G.is_multigraph() or preserve_edge_attrs or len(edge_attrs) > 1)
    if from_adjacency:
        sources, targets, columns = _adjacency_entries(G, nodes, index, edge_attrs, integral)
    elif preserve_edge_attrs or len(edge_attrs) > 1:
        triples = list(iter(G.edges(data=True)))
        heads, tails, dicts = zip(*triples) if triples else ((), (), ())
        columns = {
            attribute: numeric_column(
                [d.get(attribute, attr_default) for d in dicts], attribute, heads, tails, integral
            )
            for attribute, attr_default in edge_attrs.items()
        }
        if preserve_edge_attrs:
            for attribute in {key for d in dicts for key in d} - set(columns):
                values = [d.get(attribute, 1) for d in dicts]
                if all(is_real(value) for value in values):
                    columns[attribute] = numeric_column(values, attribute, heads, tails, integral)
    elif edge_attrs:
        ((attribute, attr_default),) = edge_attrs.items()
        triples = list(iter(G.edges(data=attribute, default=attr_default)))
        heads, tails, data = zip(*triples) if triples else ((), (), ())
        columns = {attribute: numeric_column(data, attribute, heads, tails, integral)}
    else:
        pairs = list(iter(G.edges()))
        heads, tails = zip(*pairs) if pairs else ((), ())
        columns = {}
    if not from_adjacency:
        sources = np.fromiter(map(index.__getitem__, heads), dtype=np.int64, count=len(heads))
        targets = np.fromiter(map(index.__getitem__, tails), dtype=np.int64, count=len(tails))
    edge_data = None
    if preserve_edge_attrs:
        edge_data = [
            (int(a), int(b), dict(d)) for a, b, d in zip(sources.tolist(), targets.tolist(), dicts)
        ]
    if G.is_multigraph():
        columns[_COUNT] = np.ones(len(heads))
    if not (G.is_directed() or from_adjacency):
        mirrored = sources != targets
        sources, targets = (
            np.concatenate([sources, targets[mirrored]]),
            np.concatenate([targets, sources[mirrored]]),
        )
        columns = {a: np.concatenate([c, c[mirrored]]) for a, c in columns.items()}
    # Coalesce: sort row-major and sum duplicates (parallel edges), one pattern for all attributes.
    n = max(len(nodes), 1)
    keys = sources * n + targets
    if keys.size and bool(np.all(keys[1:] > keys[:-1])):
        # Already sorted without duplicates, as NetworkX's generators leave the adjacency
        # of a simple graph: np.unique's sort took 0.21 s at 10^6 entries, this test 0.01 s.
        position = np.arange(keys.size)
    else:
        keys, position = np.unique(keys, return_inverse=True)
    values = {
        a: torch.from_numpy(np.bincount(position, weights=c, minlength=keys.size))
        for a, c in columns.items()
    }
    counts = values.pop(_COUNT, None)
    columns.pop(_COUNT, None)
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
        integer_attributes=frozenset(integral),
        edge_counts=counts,
        edge_data=edge_data,
        node_data=[dict(d) for _, d in G.nodes(data=True)] if preserve_node_attrs else None,
        graph_data=dict(G.graph) if preserve_graph_attrs else None,
    )


# A column name no attribute can have: the per-entry count of parallel edges.
_COUNT = object()


def to_networkx(graph, *, weight=None):
    """A new NetworkX graph from a :class:`TensorGraph` (or ``graph`` itself if not one).

    Nodes, edges and attributes are restored where they were preserved (in the source
    graph's order); otherwise edges come from the stored entries, with every converted
    edge attribute written back (only ``weight`` if it is given).
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
    if graph.graph_data is not None:
        H.graph.update(graph.graph_data)
    nodes = graph.nodes
    if graph.node_data is not None:
        H.add_nodes_from((node, dict(data)) for node, data in zip(nodes, graph.node_data))
    else:
        H.add_nodes_from(nodes)
    if graph.edge_data is not None:
        H.add_edges_from((nodes[a], nodes[b], dict(d)) for a, b, d in graph.edge_data)
        return H
    row, col = graph.row.tolist(), graph.col.tolist()
    attributes = [weight] if weight is not None else list(graph.edge_values)
    values = {a: graph.values(a).tolist() for a in attributes}
    for i, (r, c) in enumerate(zip(row, col)):
        if not graph.directed and r > c:
            continue
        H.add_edge(nodes[r], nodes[c], **{a: v[i] for a, v in values.items()})
    return H
