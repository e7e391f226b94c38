import gc

import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from nx_gradopt.convert import from_networkx, to_networkx
from nx_gradopt.core.tensorgraph import TensorGraph

from .strategies import weighted_graphs


def as_scipy(tg, attribute="weight"):
    import scipy.sparse as sps

    n = len(tg)
    return sps.coo_array(
        (tg.values(attribute).numpy(), (tg.row.numpy(), tg.col.numpy())), shape=(n, n)
    ).toarray()


def sample(cls):
    G = cls()
    G.add_nodes_from(["a", ("t", 1), 3])
    G.add_edge("a", ("t", 1), weight=2.0)
    G.add_edge("a", ("t", 1), weight=-0.5)  # parallel in multigraphs, replaced otherwise
    G.add_edge(("t", 1), 3)  # default weight 1
    G.add_edge(3, 3, weight=4.0)  # self-loop
    G.add_edge(3, "a", weight=1.5)
    return G


@pytest.mark.parametrize("cls", [nx.Graph, nx.DiGraph, nx.MultiGraph, nx.MultiDiGraph])
def test_matches_networkx_sparse_array(cls):
    G = sample(cls)
    tg = from_networkx(G, weight="weight")
    assert tg.nodes == list(G)
    assert tg.is_directed() == G.is_directed() and tg.is_multigraph() == G.is_multigraph()
    np.testing.assert_array_equal(as_scipy(tg), nx.to_scipy_sparse_array(G).toarray())
    assert tg.signed_attributes == frozenset({"weight"})
    if G.is_multigraph():
        ab = tg.index["a"], tg.index[("t", 1)]
        entry = int(((tg.row == ab[0]) & (tg.col == ab[1])).nonzero()[0, 0])
        assert float(tg.values("weight", absolute=True)[entry]) == 2.5
        assert float(tg.values("weight")[entry]) == 1.5


def reordered():
    """A graph whose adjacency lists its nodes in another order than the graph does."""
    G = sample(nx.Graph)
    G._adj = dict(reversed(list(G._adj.items())))
    return G


@pytest.mark.parametrize("view", [
    lambda: sample(nx.Graph).subgraph(["a", 3]),
    lambda: sample(nx.DiGraph).subgraph(["a", 3]),
    lambda: sample(nx.Graph).edge_subgraph([("a", ("t", 1)), (3, 3)]),
    lambda: nx.restricted_view(sample(nx.Graph), [], [(3, "a")]),
    lambda: sample(nx.DiGraph).reverse(copy=False),
    reordered,
])
def test_views_and_adjacency_order_match_networkx_sparse_array(view):
    G = view()
    tg = from_networkx(G, weight="weight")
    assert tg.nodes == list(G)
    np.testing.assert_array_equal(as_scipy(tg), nx.to_scipy_sparse_array(G).toarray())


def integer_graph(labels, seed=0):
    """A weighted G(n, p) on the given integer labels, its adjacency in shuffled order."""
    rng = np.random.default_rng(seed)
    G = nx.Graph()
    G.add_nodes_from(labels)
    pairs = [(a, b) for a in labels for b in labels if a < b and rng.random() < 0.3]
    for index in rng.permutation(len(pairs)):
        G.add_edge(*pairs[index], weight=float(rng.integers(1, 5)))
    return G


@pytest.mark.parametrize("labels", [
    list(range(20)),  # their own indices
    [7, 3, 0, 15, 2, 9, 40, 12, 5, 1],  # small integers out of order: the look-up table
    [-3, 5, 2, 8, 0, 11],  # a negative label: the dictionary
    [10**12, 5, 17, 3],  # a label too large for a table: the dictionary
    [True, 2, 3],  # a bool is a node of its own type: the dictionary
])
def test_integer_labels_match_networkx_sparse_array(labels):
    # Each path from node labels to indices (and the sortedness test that skips the
    # coalescing sort) against NetworkX's own matrix.
    for G in (integer_graph(labels), nx.convert_node_labels_to_integers(integer_graph(labels))):
        G.add_edge(labels[0], labels[0], weight=2.0)  # a self-loop
        tg = from_networkx(G, weight="weight")
        assert tg.nodes == list(G)
        np.testing.assert_array_equal(as_scipy(tg), nx.to_scipy_sparse_array(G).toarray())
        sub = G.subgraph(list(G)[1::2])
        np.testing.assert_array_equal(as_scipy(from_networkx(sub, weight="weight")),
                                      nx.to_scipy_sparse_array(sub).toarray())


@given(weighted_graphs(min_nodes=1, max_nodes=12, negative=True))
def test_round_trip(G):
    tg = from_networkx(G, weight="weight")
    H = to_networkx(tg)
    assert list(H) == list(G)
    assert nx.utils.edges_equal(H.edges(data="weight"), G.edges(data="weight"))


def test_sparse_storage_and_call_time_dtype():
    G = nx.grid_2d_graph(100, 100)
    tg = from_networkx(G)
    assert tg.row.numel() == 2 * G.number_of_edges()
    assert tg.values(None, dtype=torch.float32).dtype == torch.float32
    assert tg.values(None).dtype == torch.float64


def test_bad_attributes():
    G = nx.path_graph(3)
    G[0][1]["weight"] = "heavy"
    with pytest.raises(TypeError, match=r"edge attribute 'weight' of edge \(0, 1\) must be a real"):
        from_networkx(G, weight="weight")
    with pytest.raises(KeyError, match=r"edge \(0, 1\) has no 'capacity' attribute"):
        from_networkx(G, {"capacity": None})


def test_backend_conversion_round_trips_and_names_bad_values():
    from nx_gradopt.interface import BackendInterface

    G = nx.path_graph(4)
    converted = BackendInterface.convert_from_nx(G, edge_attrs={"weight": 1})
    assert isinstance(converted, TensorGraph)
    assert BackendInterface.convert_to_nx(converted).edges == G.edges
    for bad in ("x", None, 1 + 2j):
        G[0][1]["weight"] = bad
        with pytest.raises(TypeError, match=r"attribute 'weight' of edge \(0, 1\) must be a real"):
            BackendInterface.convert_from_nx(G, edge_attrs={"weight": 1})


def test_dispatch_caches_the_conversion_and_reuses_it():
    G = nx.path_graph(6)
    nx.algebraic_connectivity(G, backend="gradopt")
    cached = G.__networkx_cache__["backends"]["gradopt"]
    assert len(cached) == 1
    (first,) = cached.values()
    assert isinstance(first, TensorGraph)
    nx.algebraic_connectivity(G, backend="gradopt")
    (second,) = G.__networkx_cache__["backends"]["gradopt"].values()
    assert second is first


def test_bools_and_decimals_are_numbers_as_in_networkx():
    import decimal

    G = nx.path_graph(3)
    G[0][1]["weight"] = True
    G[1][2]["weight"] = decimal.Decimal("2.5")
    tg = from_networkx(G, weight="weight")
    np.testing.assert_array_equal(as_scipy(tg), nx.to_scipy_sparse_array(G, dtype=float).toarray())


def test_preserved_attributes_rebuild_the_graph_in_order():
    G = nx.Graph(name="g")
    G.add_node("b", color="red")
    G.add_edge("b", "a", weight=2, label="x")
    G.add_edge("a", "c")
    tg = from_networkx(G, preserve_edge_attrs=True, preserve_node_attrs=True,
                       preserve_graph_attrs=True)
    H = to_networkx(tg)
    assert list(H.nodes(data=True)) == list(G.nodes(data=True))
    assert list(H.edges(data=True)) == list(G.edges(data=True))
    assert H.graph == G.graph
    assert tg.values("weight").tolist() == as_scipy(tg)[as_scipy(tg) != 0].tolist()
    assert "label" not in tg.edge_values  # not a number: kept in the dicts only


@given(st.integers(0, 5))
def test_empty_and_edgeless(n):
    tg = from_networkx(nx.empty_graph(n))
    assert len(tg) == n and tg.row.numel() == 0


def test_a_conversion_that_preserved_everything_serves_any_attribute():
    """NetworkX reuses a cached preserve-all conversion for any later attribute request."""
    G = nx.cycle_graph(4)
    G.edges[0, 1]["cost"] = 3
    tg = from_networkx(G, preserve_edge_attrs=True)
    assert "weight" not in tg.edge_values
    np.testing.assert_array_equal(as_scipy(tg, "weight"), nx.to_scipy_sparse_array(G).toarray())
    np.testing.assert_array_equal(
        as_scipy(tg, "cost"), nx.to_scipy_sparse_array(G, weight="cost").toarray()
    )
    nx.optimize_algebraic_connectivity(G, 4.0, backend="gradopt")  # caches preserve-all
    with nx.config(backend_priority={"algos": ["gradopt"]}):
        assert nx.algebraic_connectivity(G) == pytest.approx(2.0)


class ProbedAdjacency(dict):
    """An adjacency that notes whether the garbage collector runs while it is read."""

    collector_enabled = []

    def __getitem__(self, node):
        self.collector_enabled.append(gc.isenabled())
        return super().__getitem__(node)


class EdgeReadProbe(nx.Graph):
    adjlist_outer_dict_factory = ProbedAdjacency


@pytest.mark.parametrize("user_disabled", [False, True])
def test_conversion_pauses_the_garbage_collector_and_restores_the_users_setting(user_disabled):
    G = EdgeReadProbe(nx.path_graph(4))
    ProbedAdjacency.collector_enabled.clear()
    if user_disabled:
        gc.disable()
    try:
        tg = from_networkx(G, weight="weight")
        assert ProbedAdjacency.collector_enabled == [False] * 4  # each node's neighbours
        assert gc.isenabled() is not user_disabled
    finally:
        gc.enable()
    np.testing.assert_array_equal(as_scipy(tg), nx.to_numpy_array(nx.path_graph(4)))
