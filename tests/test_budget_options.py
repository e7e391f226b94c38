"""Capacities, base networks and candidate edges of the edge-weight optimisers."""

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from . import oracles

# Capacitated and base-network cases converge more slowly: the tests check what the
# certificate says, not that the default tolerance is reached in the iterations given.
pytestmark = pytest.mark.filterwarnings("ignore:optimize_algebraic_connectivity stopped")


def weights_of(H, edges, weight="weight"):
    return [H.edges[e][weight] for e in edges]


def test_capacities_match_the_lattice_oracle():
    G = nx.Graph([(0, 1), (1, 2), (0, 2), (2, 3)])
    capacity = {(0, 1): 0.2, (1, 2): 0.5, (0, 2): 0.5, (2, 3): 0.4}
    H = nx.optimize_algebraic_connectivity(G, 1.0, capacity=capacity, tol=1e-3)
    assert all(H.edges[e]["weight"] <= c * (1 + 1e-12) for e, c in capacity.items())
    assert sum(weights_of(H, G.edges)) == pytest.approx(1.0, rel=1e-12)
    best = oracles.best_lambda2_on_weight_lattice(G, 1.0, 20, capacity=capacity)
    assert H.graph["upper_bound"] >= best
    assert H.graph["algebraic_connectivity"] >= best * (1 - 1e-3)


def test_capacity_as_attribute_and_as_number():
    G = nx.path_graph(4)
    nx.set_edge_attributes(G, {(0, 1): 1.0, (1, 2): 0.5, (2, 3): 1.0}, "cap")
    H = nx.optimize_algebraic_connectivity(G, 2.0, capacity="cap", tol=1e-3)
    assert H.edges[1, 2]["weight"] == pytest.approx(0.5, rel=1e-9)
    H = nx.optimize_algebraic_connectivity(G, 2.0, capacity=0.7, tol=1e-2)
    assert max(weights_of(H, G.edges)) <= 0.7 * (1 + 1e-12)


def test_growing_a_path_with_a_base_network():
    # Ghosh & Boyd: base weights stay, the budget goes to candidate edges (here non-edges).
    G = nx.path_graph(5)
    candidates = [(0, 4), (0, 2), (1, 3)]
    H = nx.optimize_algebraic_connectivity(
        G, 1.0, base_weight="weight", candidate_edges=candidates, tol=1e-2
    )
    assert H.has_edge(0, 4) and not G.has_edge(0, 4)
    added = {e: (H.edges[e]["weight"] if H.has_edge(*e) else 0.0) for e in candidates}
    assert sum(added.values()) == pytest.approx(1.0, rel=1e-9)
    assert all(H.edges[e]["weight"] == 1.0 for e in G.edges)  # base stays, nothing added
    lam2 = float(np.linalg.eigvalsh(oracles.dense_laplacian(H))[1])
    assert H.graph["algebraic_connectivity"] == pytest.approx(lam2, rel=1e-9)
    base = {e: 1.0 for e in G.edges}
    best = oracles.best_lambda2_on_weight_lattice(G, 1.0, 20, edges=candidates, base=base)
    assert H.graph["upper_bound"] >= best
    assert lam2 >= best * (1 - 1e-2)


def test_default_ignores_existing_weights_and_base_adds_to_them():
    G = nx.path_graph(3)
    nx.set_edge_attributes(G, 5.0, "weight")
    H = nx.optimize_algebraic_connectivity(G, 2.0)
    assert sum(weights_of(H, G.edges)) == pytest.approx(2.0)
    H = nx.optimize_algebraic_connectivity(G, 2.0, base_weight="weight")
    assert sum(weights_of(H, G.edges)) == pytest.approx(12.0)


@settings(deadline=None)
@given(st.integers(4, 8), st.integers(0, 10**6), st.floats(0.3, 3.0), st.floats(1.2, 4.0))
def test_capacities_and_budget_respected(n, seed, budget, slack):
    G = nx.compose(nx.gnp_random_graph(n, 0.5, seed=seed), nx.path_graph(n))
    rng = np.random.default_rng(seed)
    raw = rng.uniform(0.1, 1.0, G.number_of_edges())
    caps = dict(zip(G.edges, raw * budget * slack / raw.sum()))
    H = nx.optimize_algebraic_connectivity(G, budget, capacity=caps, max_iter=80, tol=1e-2)
    weights = weights_of(H, G.edges)
    assert sum(weights) == pytest.approx(budget, rel=1e-9)
    assert all(0 <= H.edges[e]["weight"] <= c * (1 + 1e-12) for e, c in caps.items())
    assert H.graph["upper_bound"] >= H.graph["algebraic_connectivity"]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"capacity": -1.0}, ValueError, r"`capacity` of edge .* non-negative finite number; got -1.0"),
        ({"capacity": math.nan}, ValueError, r"`capacity` of edge .* got nan"),
        ({"capacity": 0.1}, ValueError, r"`capacity` sums to .*below the budget 1.0"),
        ({"capacity": "cap"}, ValueError, r"`capacity`: edge \(0, 1\) has no attribute 'cap'"),
        ({"capacity": {(0, 1): 1.0}}, ValueError, r"`capacity` has no entry for edge \(1, 2\)"),
        ({"capacity": [1.0]}, ValueError, r"`capacity` must be None, a number"),
        ({"candidate_edges": [(0, 9)]}, nx.NodeNotFound, r"`candidate_edges` names node 9"),
        ({"candidate_edges": [(0, 0)]}, ValueError, r"`candidate_edges` holds the self-loop"),
        ({"candidate_edges": [(0,)]}, ValueError, r"`candidate_edges` must hold node pairs"),
        ({"candidate_edges": []}, ValueError, r"`candidate_edges` is empty"),
        ({"candidate_edges": [(0, 1)]}, nx.NetworkXError, r"graph is not connected."),
        ({"base_weight": 3}, ValueError, r"`base_weight` must be an edge attribute name"),
    ],
)
@pytest.mark.parametrize("function", ["lambda2", "engine"])
def test_bad_options(kwargs, error, message, function):
    G = nx.path_graph(4)
    before = nx.to_dict_of_dicts(G)
    with pytest.raises(error, match=message):
        if function == "lambda2":
            nx.optimize_algebraic_connectivity(G, 1.0, **kwargs)
        else:
            nx.optimize_edge_weights(G, "total_effective_resistance", 1.0, **kwargs)
    assert nx.to_dict_of_dicts(G) == before


def test_engine_bad_objective_and_graphs():
    with pytest.raises(ValueError, match=r"`objective` must be a callable or one of"):
        nx.optimize_edge_weights(nx.path_graph(3), "spectral_gap", 1.0)
    with pytest.raises(nx.NetworkXNotImplemented, match="not implemented for directed"):
        nx.optimize_edge_weights(nx.DiGraph([(0, 1)]), "algebraic_connectivity", 1.0)
    with pytest.raises(nx.NetworkXError, match="graph is not connected."):
        nx.optimize_edge_weights(nx.empty_graph(3), "algebraic_connectivity", 1.0)


def test_engine_user_objective_on_both_dispatch_paths():
    import torch

    def second_eigenvalue(weights, problem):  # GradNet's loss, written on the dense Laplacian
        return torch.linalg.eigvalsh(problem.dense_laplacian(weights))[1]

    for backend in (None, "gradopt"):
        H = nx.optimize_edge_weights(nx.path_graph(4), second_eigenvalue, 3.0, backend=backend)
        assert [round(w, 2) for *_, w in H.edges(data="weight")] == [0.9, 1.2, 0.9]
        assert H.graph["objective"] == pytest.approx(0.6, rel=1e-4)
