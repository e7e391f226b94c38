"""augment_algebraic_connectivity: bounds checked against SciPy's eigenvalues, answers against
brute force over every choice on small graphs, and NetworkX's conventions."""

import itertools
import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.linalg
import torch

from nx_gradopt.connectivity.augment import lambda2_after_adding
from nx_gradopt.core.results import ConvergenceWarning


def laplacian_of(G, nodes):
    return nx.laplacian_matrix(G, nodelist=nodes, weight="weight").toarray().astype(float)


def lambda2_with(laplacian, index, edges):
    """SciPy's λ₂ of ``laplacian`` plus unit-weight ``edges`` (node-index pairs)."""
    trial = laplacian.copy()
    for a, b in edges:
        i, j = index[a], index[b]
        trial[i, i] += 1
        trial[j, j] += 1
        trial[i, j] -= 1
        trial[j, i] -= 1
    return scipy.linalg.eigvalsh(trial, subset_by_index=[1, 1])[0]


def best_choice(G, k):
    """The exact optimum over every k non-edges, by enumeration."""
    nodes = list(G)
    index = {node: i for i, node in enumerate(nodes)}
    laplacian = laplacian_of(G, nodes)
    return max(
        lambda2_with(laplacian, index, edges)
        for edges in itertools.combinations(nx.non_edges(G), k)
    )


@pytest.mark.parametrize("pairs", [1, 3, 8, 15])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_bounds_on_lambda2_after_adding_an_edge_hold(pairs, seed):
    rng = np.random.default_rng(seed)
    G = nx.connected_watts_strogatz_graph(16, 4, 0.3, seed=seed)
    for u, v in G.edges():
        G[u][v]["weight"] = rng.uniform(0.5, 2.0)
    nodes = list(G)
    index = {node: i for i, node in enumerate(nodes)}
    laplacian = laplacian_of(G, nodes)
    values, vectors = scipy.linalg.eigh(laplacian)
    non_edges = list(nx.non_edges(G))
    u = torch.tensor([index[a] for a, _ in non_edges])
    v = torch.tensor([index[b] for _, b in non_edges])
    lower, upper = lambda2_after_adding(
        torch.from_numpy(values[1 : pairs + 1]), torch.from_numpy(vectors[:, 1 : pairs + 1]),
        torch.from_numpy(np.diag(laplacian).copy()), u, v,
    )
    truth = np.array([lambda2_with(laplacian, index, [edge]) for edge in non_edges])
    assert np.all(lower.numpy() <= truth + 1e-10)
    assert np.all(truth <= upper.numpy() + 1e-10)
    if pairs == 15:  # the whole spectrum: both are the secular equation's exact root
        np.testing.assert_allclose(lower.numpy(), truth, rtol=1e-9)
        np.testing.assert_allclose(upper.numpy(), truth, rtol=1e-9)


@pytest.mark.parametrize(
    "G",
    [
        nx.karate_club_graph(),
        nx.les_miserables_graph(),
        nx.random_labeled_tree(30, seed=1),
        nx.connected_watts_strogatz_graph(40, 4, 0.1, seed=1),
    ],
    ids=["karate", "les_miserables", "tree_30", "watts_strogatz_40"],
)
def test_one_edge_is_the_best_of_all_non_edges(G):
    G = nx.Graph(G.edges())  # unweighted
    H = nx.augment_algebraic_connectivity(G, 1, seed=0)
    best = best_choice(G, 1)
    assert H.graph["algebraic_connectivity"] == pytest.approx(best, rel=1e-9)
    assert H.graph["upper_bound"] >= best * (1 - 1e-9)


def greedy_fiedler(G, k):
    """Ghosh and Boyd's greedy heuristic on NetworkX's Fiedler vectors; λ₂ of its answer."""
    H = G.copy()
    for _ in range(k):
        fiedler = dict(zip(H, nx.fiedler_vector(H, tol=1e-12, method="tracemin_lu", seed=0)))
        H.add_edge(*max(nx.non_edges(H), key=lambda e: (fiedler[e[0]] - fiedler[e[1]]) ** 2))
    return nx.algebraic_connectivity(H, tol=1e-12, method="tracemin_lu")


@pytest.mark.parametrize(
    "G, k",
    [(nx.path_graph(8), 2), (nx.cycle_graph(9), 2), (nx.star_graph(6), 3)],
    ids=["path_8", "cycle_9", "star_7"],
)
def test_several_edges_match_brute_force_within_the_bound(G, k, device):
    H = nx.augment_algebraic_connectivity(G, k, seed=0, device=device)
    best = best_choice(G, k)
    assert H.graph["algebraic_connectivity"] == pytest.approx(best, rel=1e-9)
    assert H.graph["upper_bound"] >= best * (1 - 1e-9)
    gap = (H.graph["upper_bound"] - best) / H.graph["upper_bound"]
    assert H.graph["relative_gap"] == pytest.approx(gap, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize(
    "G, k",
    [
        (nx.random_labeled_tree(9, seed=3), 3),
        (nx.karate_club_graph(), 10),
        (nx.davis_southern_women_graph(), 20),
        (nx.connected_watts_strogatz_graph(50, 4, 0.1, seed=3), 6),
    ],
    ids=["tree_9", "karate", "davis", "watts_strogatz_50"],
)
def test_never_below_the_greedy_heuristic_nor_above_the_bound(G, k):
    # Single swaps stop at local optima: on tree_9 with k = 3 the answer is 0.888 where the
    # best choice reaches 1.0, so the optimum is only checked where it can be enumerated.
    G = nx.Graph(G.edges())
    H = nx.augment_algebraic_connectivity(G, k, seed=0)
    assert H.graph["algebraic_connectivity"] >= greedy_fiedler(G, k) * (1 - 1e-9)
    if len(G) <= 9:
        assert H.graph["upper_bound"] >= best_choice(G, k) * (1 - 1e-9)


def test_the_answer_is_a_copy_with_k_unit_edges_and_its_true_lambda2():
    G = nx.connected_watts_strogatz_graph(30, 4, 0.2, seed=4)
    rng = np.random.default_rng(0)
    for u, v in G.edges():
        G[u][v]["weight"] = float(rng.uniform(1, 3))
    G.graph["name"] = "ws"
    before = nx.to_dict_of_dicts(G)
    H = nx.augment_algebraic_connectivity(G, 3, seed=0)
    assert nx.to_dict_of_dicts(G) == before  # input untouched
    added = H.graph["added_edges"]
    assert len(added) == 3 and all(not G.has_edge(u, v) for u, v in added)
    assert H.number_of_edges() == G.number_of_edges() + 3
    assert all(H.edges[u, v] == data for u, v, data in G.edges(data=True))
    assert all(H[u][v]["weight"] == 1 for u, v in added)
    assert H.graph["name"] == "ws"
    expected = nx.algebraic_connectivity(H, weight="weight", tol=1e-12, method="tracemin_lu")
    assert H.graph["algebraic_connectivity"] == pytest.approx(expected, rel=1e-8)
    # The weights count: the same graph with unit weights gets a different answer.
    unit = nx.augment_algebraic_connectivity(G, 3, weight=None, seed=0)
    expected_unit = nx.algebraic_connectivity(unit, weight=None, tol=1e-12, method="tracemin_lu")
    assert unit.graph["algebraic_connectivity"] == pytest.approx(expected_unit, rel=1e-8)
    assert "weight" not in unit.edges[unit.graph["added_edges"][0]]


def test_candidates_restrict_the_choice():
    G = nx.path_graph(10)
    candidates = [(0, 2), (3, 7), (1, 9)]
    H = nx.augment_algebraic_connectivity(G, 1, candidate_edges=candidates, seed=0)
    laplacian = laplacian_of(G, list(G))
    best = max(candidates, key=lambda e: lambda2_with(laplacian, dict(zip(G, G)), [e]))
    assert H.graph["added_edges"] == [best]


def test_a_tiny_time_limit_returns_k_edges_with_a_valid_bound():
    G = nx.connected_watts_strogatz_graph(60, 4, 0.1, seed=2)
    with pytest.warns(ConvergenceWarning, match="relaxation stopped"):
        H = nx.augment_algebraic_connectivity(G, 4, time_limit=1e-3, seed=0)
    assert len(H.graph["added_edges"]) == 4
    expected = nx.algebraic_connectivity(H, tol=1e-12, method="tracemin_lu")
    assert H.graph["algebraic_connectivity"] == pytest.approx(expected, rel=1e-8)
    assert H.graph["upper_bound"] >= H.graph["algebraic_connectivity"]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"k": 0}, ValueError, "`k` must be a positive integer; got 0"),
        ({"k": 1.5}, ValueError, "`k` must be a positive integer; got 1.5"),
        ({"k": 100}, ValueError, "`k` is 100, more than the 6 candidate edges"),
        ({"k": 1, "candidate_edges": [(0, 1)]}, ValueError, r"\(0, 1\), already an edge"),
        ({"k": 1, "candidate_edges": [(0, 0)]}, ValueError, "self-loop"),
        ({"k": 1, "candidate_edges": [(0, 9)]}, nx.NodeNotFound, "node 9 not in G"),
        ({"k": 1, "weight": 3}, ValueError, "`weight` must be an edge attribute name or None"),
        ({"k": 1, "tol": -1}, ValueError, "`tol`"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        nx.augment_algebraic_connectivity(nx.path_graph(5), **kwargs)


def test_a_negative_weight_is_named():
    G = nx.path_graph(4)
    G[1][2]["weight"] = -1.0
    with pytest.raises(ValueError, match=r"`weight` 'weight' of edge \(1, 2\) must be a non-neg"):
        nx.augment_algebraic_connectivity(G, 1)


def test_graphs_it_cannot_take():
    with pytest.raises(nx.NetworkXNotImplemented):
        nx.augment_algebraic_connectivity(nx.path_graph(4, create_using=nx.DiGraph), 1)
    G = nx.Graph([(0, 1), (2, 3), (4, 5)])
    with pytest.raises(nx.NetworkXError, match="not connected, even with every candidate"):
        nx.augment_algebraic_connectivity(G, 1, candidate_edges=[(0, 2)])
    with pytest.raises(nx.NetworkXError, match="less than two nodes"):
        nx.augment_algebraic_connectivity(nx.empty_graph(1), 1)


def test_a_disconnected_graph_is_joined():
    G = nx.disjoint_union(nx.complete_graph(4), nx.complete_graph(4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        H = nx.augment_algebraic_connectivity(G, 1, seed=0)
    assert nx.is_connected(H)
    assert H.graph["algebraic_connectivity"] == pytest.approx(best_choice(G, 1), rel=1e-9)


def test_ctrl_c_in_the_swaps_returns_the_best_edges_so_far(monkeypatch):
    from nx_gradopt.connectivity import augment

    def interrupted(self, max_evaluations, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(augment._Search, "swap", interrupted)
    G = nx.path_graph(12)
    with pytest.warns(ConvergenceWarning, match="interrupted"):
        H = nx.augment_algebraic_connectivity(G, 2, seed=0)
    assert len(H.graph["added_edges"]) == 2
    expected = nx.algebraic_connectivity(H, tol=1e-12, method="tracemin_lu")
    assert H.graph["algebraic_connectivity"] == pytest.approx(expected, rel=1e-8)
    assert H.graph["algebraic_connectivity"] >= greedy_fiedler(G, 2) * (1 - 1e-9)
