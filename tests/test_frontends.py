"""nx.optimize_algebraic_connectivity at the NetworkX boundary."""

import math
import warnings

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nx_gradopt import ConvergenceWarning

from . import oracles
from .strategies import relabel


def weight_sum(H, weight="weight"):
    return sum(w for *_, w in H.edges(data=weight))


def uniform_lambda2(G, budget):
    return oracles.algebraic_connectivity(G, {e: budget / G.number_of_edges() for e in G.edges()})


@pytest.mark.parametrize("backend", [None, "gradopt"])
def test_result_graph_keeps_everything_and_is_feasible(backend):
    G = nx.grid_2d_graph(4, 5)
    G.graph["name"] = "grid"
    nx.set_node_attributes(G, "blue", "colour")
    nx.set_edge_attributes(G, 7.0, "weight")
    nx.set_edge_attributes(G, "road", "kind")
    before = nx.to_dict_of_dicts(G), dict(G.nodes(data=True)), dict(G.graph)
    H = nx.optimize_algebraic_connectivity(G, 10.0, weight="capacity", seed=1, backend=backend)
    assert (nx.to_dict_of_dicts(G), dict(G.nodes(data=True)), dict(G.graph)) == before
    assert H is not G and list(H) == list(G) and nx.utils.edges_equal(H.edges, G.edges)
    assert H.graph["name"] == "grid" and H.nodes[(0, 0)]["colour"] == "blue"
    assert all(d["kind"] == "road" and d["weight"] == 7.0 for *_, d in H.edges(data=True))
    assert weight_sum(H, "capacity") == pytest.approx(10.0, rel=1e-12)
    assert min(w for *_, w in H.edges(data="capacity")) >= 0
    lam2 = float(np.linalg.eigvalsh(oracles.dense_laplacian(H, weight="capacity"))[1])
    assert H.graph["algebraic_connectivity"] == pytest.approx(lam2, rel=1e-8)
    assert lam2 <= oracles.grid_optimum_per_budget(4, 5) * 10.0 * (1 + 1e-9)
    assert H.graph["upper_bound"] >= oracles.grid_optimum_per_budget(4, 5) * 10.0
    assert lam2 > uniform_lambda2(G, 10.0)


def test_both_dispatch_paths_give_the_same_answer():
    G = nx.barbell_graph(5, 2)
    a = nx.optimize_algebraic_connectivity(G, 3.0, seed=4)
    b = nx.optimize_algebraic_connectivity(G, 3.0, seed=4, backend="gradopt")
    assert a.graph["algebraic_connectivity"] == pytest.approx(b.graph["algebraic_connectivity"])


def test_tiny_oracle_triangle_with_tail():
    G = nx.Graph([(0, 1), (1, 2), (0, 2), (2, 3)])
    best_on_lattice = oracles.best_lambda2_on_weight_lattice(G, 1.0, steps=20)
    H = nx.optimize_algebraic_connectivity(G, 1.0, tol=1e-4, max_iter=1000, seed=0)
    assert H.graph["algebraic_connectivity"] >= best_on_lattice * (1 - 1e-3)
    assert H.graph["upper_bound"] >= best_on_lattice


@given(
    st.integers(3, 9), st.floats(0.3, 1.0), st.integers(0, 10**6), st.floats(0.5, 100.0),
    st.sampled_from(["int", "str", "tuple"]),
)
def test_properties(n, p, graph_seed, budget, labeling):
    G = nx.compose(nx.gnp_random_graph(n, p, seed=graph_seed), nx.path_graph(n))
    G = relabel(G, labeling)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        H = nx.optimize_algebraic_connectivity(G, budget, seed=0, max_iter=60)
        scaled = nx.optimize_algebraic_connectivity(G, 2 * budget, seed=0, max_iter=60)
        relabelled = nx.optimize_algebraic_connectivity(
            nx.relabel_nodes(G, {u: ("r", i) for i, u in enumerate(G)}), budget, seed=0, max_iter=60
        )
    lam2 = H.graph["algebraic_connectivity"]
    assert weight_sum(H) == pytest.approx(budget, rel=1e-10)
    assert lam2 >= uniform_lambda2(G, budget) * (1 - 1e-9)
    assert H.graph["upper_bound"] >= lam2
    # Each answer is certified only to its gap: they must agree within those certificates.
    for other, factor in ((scaled, 2.0), (relabelled, 1.0)):
        assert other.graph["algebraic_connectivity"] <= factor * H.graph["upper_bound"] * (1 + 1e-9)
        assert factor * lam2 <= other.graph["upper_bound"] * (1 + 1e-9)
        # Both lie in [(1 - gap) opt, opt] (every bound is >= opt), so they differ by at most
        # gap * opt <= gap / (1 - gap) of either.
        gap = max(H.graph["relative_gap"], other.graph["relative_gap"])
        assert other.graph["algebraic_connectivity"] == pytest.approx(
            factor * lam2, rel=gap / (1 - gap) + 1e-9)


def test_float32_and_convergence_warning():
    G = nx.grid_2d_graph(6, 6)
    with pytest.warns(ConvergenceWarning, match=r"stopped: max_iter=3 reached .*raise max_iter"):
        H = nx.optimize_algebraic_connectivity(G, 1.0, max_iter=3, dtype="float32", seed=0)
    assert H.graph["converged"] is False and H.graph["iterations"] == 3
    assert weight_sum(H) == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"budget": 0}, ValueError, r"`budget` must be a positive finite number; got 0"),
        ({"budget": -1.0}, ValueError, r"`budget` must be a positive finite number; got -1.0"),
        ({"budget": math.nan}, ValueError, r"`budget` must be a positive finite number; got nan"),
        ({"budget": math.inf}, ValueError, r"`budget` must be a positive finite number; got inf"),
        ({"budget": "1"}, ValueError, r"`budget` must be a positive finite number; got '1'"),
        ({"max_iter": 0}, ValueError, r"`max_iter` must be a positive integer; got 0"),
        ({"tol": -1e-3}, ValueError, r"`tol` must be a non-negative finite number; got -0.001"),
        ({"time_limit": 0}, ValueError, r"`time_limit` must be a positive finite number; got 0"),
        ({"weight": None}, ValueError, r"`weight` must name the edge attribute to write; got None"),
        ({"dtype": "float16"}, ValueError, r"`dtype` must be 'float64' or 'float32'"),
    ],
)
@pytest.mark.parametrize("backend", [None, "gradopt"])
def test_bad_arguments(kwargs, error, message, backend):
    arguments = {"budget": 1.0, **kwargs}
    with pytest.raises(error, match=message):
        nx.optimize_algebraic_connectivity(nx.path_graph(4), backend=backend, **arguments)


@pytest.mark.parametrize("backend", [None, "gradopt"])
def test_bad_graphs(backend):
    with pytest.raises(nx.NetworkXNotImplemented, match="not implemented for directed"):
        nx.optimize_algebraic_connectivity(nx.DiGraph([(0, 1)]), 1.0, backend=backend)
    with pytest.raises(nx.NetworkXNotImplemented, match="not implemented for multigraph"):
        nx.optimize_algebraic_connectivity(nx.MultiGraph([(0, 1)]), 1.0, backend=backend)
    with pytest.raises(nx.NetworkXError, match="graph is not connected."):
        nx.optimize_algebraic_connectivity(nx.empty_graph(3), 1.0, backend=backend)
    with pytest.raises(nx.NetworkXError, match="graph has less than two nodes."):
        nx.optimize_algebraic_connectivity(nx.empty_graph(1), 1.0, backend=backend)


def test_two_nodes_and_self_loops():
    G = nx.Graph([(0, 1), (1, 1)])
    H = nx.optimize_algebraic_connectivity(G, 5.0)
    assert H[0][1]["weight"] == pytest.approx(5.0) and H[1][1]["weight"] == 0.0
    assert H.graph["algebraic_connectivity"] == pytest.approx(10.0)
    assert np.isclose(H.graph["upper_bound"], 10.0)
