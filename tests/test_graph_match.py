"""nx.graph_match: NetworkX objects in and out, checked against NetworkX-computed references."""

import csv
import gzip
import itertools
import pathlib
import random

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nx_gradopt  # noqa: F401
from tests.strategies import weighted_graphs


def shuffled_relabelled_copy(G, rng):
    """A copy of G with new labels, inserted in a random order; returns it and the truth."""
    nodes = list(G)
    new = [f"x{i}" for i in range(len(nodes))]
    rng.shuffle(new)
    truth = dict(zip(nodes, new))
    H = G.__class__()
    order = list(nodes)
    rng.shuffle(order)
    H.add_nodes_from(truth[u] for u in order)
    edges = list(G.edges(data=True))
    rng.shuffle(edges)
    H.add_edges_from((truth[u], truth[v], dict(d)) for u, v, d in edges)
    return H, truth


def objective(G1, G2, mapping, weight="weight"):
    """sum_uv A_uv B_pi(u)pi(v) from NetworkX's own adjacency matrices."""
    nodes1 = [u for u in G1 if u in mapping]
    A = nx.to_numpy_array(G1, nodelist=nodes1, weight=weight)
    B = nx.to_numpy_array(G2, nodelist=[mapping[u] for u in nodes1], weight=weight)
    return float((A * B).sum())


@pytest.mark.parametrize("method", ["goat", "faq"])
def test_recovers_a_relabelled_directed_weighted_graph_with_self_loops(method):
    rng = random.Random(0)
    G = nx.gnp_random_graph(40, 0.15, seed=1, directed=True)
    G.add_edges_from((u, u) for u in range(0, 40, 7))
    for u, v in G.edges:
        G[u][v]["weight"] = rng.uniform(0.5, 2.0)
    H, truth = shuffled_relabelled_copy(G, rng)
    before1, before2 = nx.to_dict_of_dicts(G), nx.to_dict_of_dicts(H)
    mapping = nx.graph_match(G, H, method=method)
    assert mapping == truth
    assert nx.to_dict_of_dicts(G) == before1 and nx.to_dict_of_dicts(H) == before2


def test_backend_dispatch_finds_an_isomorphism():
    # Les Misérables has automorphisms (interchangeable leaves): any weight-preserving map
    # is optimal, and reaches the truth's objective, sum over edges of 2 w^2.
    G = nx.les_miserables_graph()
    H, truth = shuffled_relabelled_copy(G, random.Random(2))
    best = objective(G, H, truth)
    assert best == 2 * sum(w * w for *_, w in G.edges(data="weight"))
    for call in (nx.graph_match, nx.graph_match_result):
        found = call(G, H, backend="gradopt")
        mapping = found if isinstance(found, dict) else found.mapping
        assert objective(G, H, mapping) == best
        assert nx.is_isomorphic(nx.relabel_nodes(G, mapping), H, edge_match=lambda a, b: a == b)


@given(weighted_graphs(min_nodes=1, max_nodes=9), weighted_graphs(min_nodes=1, max_nodes=9),
       st.integers(0, 4), st.sampled_from(["goat", "faq"]), st.booleans())
def test_a_one_to_one_map_that_keeps_seeds_and_reports_its_objective(G1, G2, k, method, maximize):
    G2 = nx.relabel_nodes(G2, {u: ("other", u) for u in G2})
    k = min(k, len(G1), len(G2))
    seeds = dict(zip(random.Random(k).sample(list(G1), k), random.Random(k + 1).sample(list(G2), k)))
    result = nx.graph_match_result(G1, G2, method=method, seeds=seeds, maximize=maximize,
                                   n_init=2, seed=0)
    mapping = result.mapping
    assert len(mapping) == min(len(G1), len(G2))
    assert len(set(mapping.values())) == len(mapping)
    assert set(mapping) <= set(G1) and set(mapping.values()) <= set(G2)
    assert all(mapping[u] == v for u, v in seeds.items())
    assert result.objective == pytest.approx(objective(G1, G2, mapping), abs=1e-9)


def test_unequal_sizes_find_the_subgraph():
    G = nx.gnp_random_graph(30, 0.3, seed=4)
    rng = random.Random(5)
    for u, v in G.edges:
        G[u][v]["weight"] = rng.uniform(0.5, 2.0)
    inside = rng.sample(list(G), 22)
    small = nx.relabel_nodes(G.subgraph(inside), {u: f"s{u}" for u in inside})
    mapping = nx.graph_match(small, G, padding="adopted", n_init=5, seed=0)
    assert len(mapping) == 22 and len(set(mapping.values())) == 22
    # Adopted padding finds the induced subgraph: edges (and weights) of the image match.
    image = G.subgraph(mapping.values())
    mapped = {frozenset((mapping[u], mapping[v])): w for u, v, w in small.edges(data="weight")}
    assert mapped == {frozenset((u, v)): w for u, v, w in image.edges(data="weight")}
    # The larger graph first: its extra nodes are left out of the mapping.
    mapping = nx.graph_match(G, small, padding="adopted", n_init=5, seed=0)
    assert len(mapping) == 22 and set(mapping.values()) == set(small)


def test_similarity_decides_between_automorphisms():
    # A 6-cycle has 12 automorphisms; a node attribute singles out one of them.
    G1, G2 = nx.cycle_graph(6), nx.relabel_nodes(nx.cycle_graph(6), lambda u: f"c{(u + 2) % 6}")
    for u in G1:
        G1.nodes[u]["role"] = u
        G2.nodes[f"c{(u + 2) % 6}"]["role"] = u
    mapping = nx.graph_match(G1, G2, similarity="role")
    assert mapping == {u: f"c{(u + 2) % 6}" for u in G1}
    pairs = {(u, f"c{(u + 2) % 6}"): 1.0 for u in G1}
    assert nx.graph_match(G1, G2, similarity=pairs) == mapping
    result = nx.graph_match_result(G1, G2, similarity=pairs)
    assert result.objective == pytest.approx(objective(G1, G2, mapping) + 6.0)


def test_minimising_is_a_qap():
    # Minimising edge overlap between a path and a star of 4 nodes: the brute-force minimum.
    import itertools

    P, S = nx.path_graph(4), nx.star_graph(3)
    best = min(
        objective(P, S, dict(zip(P, perm))) for perm in itertools.permutations(S)
    )
    result = nx.graph_match_result(P, S, maximize=False, method="faq", n_init=5, seed=0)
    assert result.objective == best


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: nx.graph_match(nx.DiGraph([(0, 1)]), nx.Graph([(0, 1)])), nx.NetworkXError,
         "two directed or two undirected graphs; got G1 directed and G2 undirected"),
        (lambda: nx.graph_match(nx.MultiGraph([(0, 1)]), nx.Graph([(0, 1)])),
         nx.NetworkXNotImplemented, "not implemented for multigraph type"),
        (lambda: nx.graph_match(nx.Graph(), nx.Graph([(0, 1)])), nx.NetworkXPointlessConcept,
         "`G1` has no nodes"),
        (lambda: nx.graph_match(nx.Graph([(0, 1)]), nx.Graph(), backend="gradopt"),
         nx.NetworkXPointlessConcept, "`G2` has no nodes"),
        (lambda: nx.graph_match(nx.path_graph(3), nx.path_graph(3), seeds={0: 7}), ValueError,
         "`seeds` names 7, which is not a node of G2"),
        (lambda: nx.graph_match(nx.path_graph(3), nx.path_graph(3), seeds={9: 0}), ValueError,
         "`seeds` names 9, which is not a node of G1"),
        (lambda: nx.graph_match(nx.path_graph(3), nx.path_graph(3), seeds={0: 1, 2: 1}),
         ValueError, "`seeds` maps two nodes of G1 to node 1 of G2"),
        (lambda: nx.graph_match(nx.path_graph(3), nx.path_graph(3), seeds=[(0, 1), (0, 2)]),
         ValueError, "`seeds` maps node 0 of G1 twice"),
        (lambda: nx.graph_match(nx.path_graph(3), nx.path_graph(3), method="hungarian"),
         ValueError, r"`method` must be one of \('faq', 'goat', '2opt'\); got 'hungarian'"),
        (lambda: nx.graph_match(nx.path_graph(3), nx.path_graph(3), seeds=((0, 1), (1, 2))),
         ValueError, r"`seeds`=\(\(0, 1\), \(1, 2\)\) is ambiguous"),
        (lambda: nx.graph_match(nx.path_graph(3), nx.path_graph(3), init={0: 5}), ValueError,
         "`init` names 5, which is not a node of G2"),
        (lambda: nx.graph_match(nx.path_graph(3), nx.path_graph(3), seeds={0: 1}, init={0: 2}),
         ValueError, "`init` names a node that `seeds` fixes already"),
        (lambda: nx.graph_match(nx.path_graph(3), nx.path_graph(3), init_perturbation=-0.1),
         ValueError, "`init_perturbation` must be a number from 0 to 1; got -0.1"),
        (lambda: nx.graph_match(nx.Graph([(0, 1, {"weight": "heavy"})]), nx.path_graph(2)),
         TypeError, "must be a real number; got 'heavy'"),
        (lambda: nx.graph_match(nx.Graph([(0, 1, {"weight": float("nan")})]),
                                nx.path_graph(2)),
         ValueError, r"`weight` 'weight' of edge \(0, 1\) of G1 must be finite; got nan"),
        (lambda: nx.graph_match(nx.path_graph(3), nx.path_graph(3), similarity=3), ValueError,
         "`similarity` must be None, a node attribute name or a mapping"),
        (lambda: nx.graph_match(nx.path_graph(3), nx.path_graph(3), similarity={(0, 5): 1}),
         ValueError, r"`similarity` names \(0, 5\)"),
        (lambda: nx.graph_match(nx.path_graph(3), nx.path_graph(3), n_init=0), ValueError,
         "`n_init` must be a positive integer; got 0"),
        (lambda: nx.graph_match(nx.path_graph(3), nx.path_graph(3), weight=[]), ValueError,
         r"`weight` as a list of edge attributes \(layers\) needs at least one"),
        (lambda: nx.graph_match(nx.path_graph(3), nx.path_graph(3), weight=["a", None]),
         ValueError, "`weight` lists edge attributes, one per layer; None cannot name one"),
        (lambda: nx.graph_match(nx.path_graph(3), nx.path_graph(3), weight=[["a"]]),
         ValueError, r"`weight` lists edge attributes, one per layer; \['a'\] cannot name one"),
        # NetworkX's dispatcher converts one attribute; the backend declines, in its words.
        (lambda: nx.graph_match(nx.path_graph(3), nx.path_graph(3), weight=["a", "b"],
                                backend="gradopt"),
         NotImplementedError, "not implemented by 'gradopt'"),
    ],
)
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_weight_none_and_missing_weights_count_one():
    G = nx.Graph([(0, 1, {"weight": 5.0}), (1, 2)])
    H = nx.Graph([("a", "b"), ("b", "c")])
    assert nx.graph_match_result(G, H, weight=None).objective == 4.0
    assert nx.graph_match_result(G, H).objective == 12.0
    assert np.isclose(nx.graph_match_result(G, H).objective, objective(G, H, nx.graph_match(G, H)))


def test_seeds_as_graspologic_columns_equal_seeds_as_pairs():
    G = nx.gnp_random_graph(30, 0.2, seed=5)
    H, truth = shuffled_relabelled_copy(G, random.Random(5))
    firsts = [0, 1, 2]
    by_columns = nx.graph_match(G, H, seeds=(firsts, [truth[u] for u in firsts]), seed=0)
    by_pairs = nx.graph_match(G, H, seeds={u: truth[u] for u in firsts}, seed=0)
    assert by_columns == by_pairs
    assert all(by_columns[u] == truth[u] for u in firsts)


def test_init_the_truth_is_kept_and_a_wrong_guess_can_move():
    # A correlated pair where the barycenter start fails (FAQ) and the planted map is better
    # than what it finds: started from the truth, FAQ stays at least as good as the truth.
    rng = np.random.default_rng(8)
    n = 80
    parent = nx.gnp_random_graph(n, 0.3, seed=8)
    G1 = nx.Graph((u, v) for u, v in parent.edges if rng.random() < 0.7)
    G1.add_nodes_from(parent)
    G2 = nx.Graph((u, v) for u, v in parent.edges if rng.random() < 0.7)
    G2.add_nodes_from(parent)
    H, truth = shuffled_relabelled_copy(G2, random.Random(8))
    planted = objective(G1, H, truth)
    from_truth = nx.graph_match_result(G1, H, method="faq", init=truth, local_search=False)
    assert from_truth.objective >= planted
    # A guess for a few nodes only, pointing them wrongly, is not kept when it costs.
    wrong = {0: truth[1], 1: truth[0]}
    moved = nx.graph_match(G1, H, method="faq", init={**truth, **wrong})
    assert objective(G1, H, moved) >= planted


def test_2opt_on_networkx_graphs_is_swap_optimal():
    G = nx.gnp_random_graph(12, 0.4, seed=9)
    H, _ = shuffled_relabelled_copy(nx.gnp_random_graph(12, 0.4, seed=10), random.Random(9))
    result = nx.graph_match_result(G, H, method="2opt", n_init=2, seed=0)
    mapping = result.mapping
    assert result.objective == objective(G, H, mapping)
    nodes = list(G)
    for i, u in enumerate(nodes):
        for v in nodes[i + 1:]:
            swapped = {**mapping, u: mapping[v], v: mapping[u]}
            assert objective(G, H, swapped) <= result.objective


def test_huge_weights_on_one_graph_are_solved_not_refused():
    G = nx.gnp_random_graph(25, 0.3, seed=11)
    for u, v in G.edges:
        G[u][v]["weight"] = 1e300
    H, truth = shuffled_relabelled_copy(nx.gnp_random_graph(25, 0.3, seed=11), random.Random(11))
    assert nx.graph_match(G, H, weight="weight") == nx.graph_match(G, H, weight=None) == truth


def layer_objective(G1, G2, mapping, layers):
    """The multilayer objective, one NetworkX adjacency per layer: the graph of the edges
    that carry that attribute."""
    total = 0.0
    for layer in layers:
        sub1 = nx.Graph((u, v, d) for u, v, d in G1.edges(data=True) if layer in d)
        sub1.add_nodes_from(G1)
        sub2 = nx.Graph((u, v, d) for u, v, d in G2.edges(data=True) if layer in d)
        sub2.add_nodes_from(G2)
        total += objective(sub1, sub2, mapping, weight=layer)
    return total


def test_layers_tell_apart_the_automorphisms_of_their_union():
    # The Petersen graph has 120 automorphisms; which edges are calls and which e-mails
    # leaves only the identity (counted by NetworkX's VF2 below), so only a solver that keeps
    # the layers apart can recover the relabelling.
    rng = random.Random(1)
    G = nx.Graph()
    for u, v in nx.petersen_graph().edges:
        G.add_edge(u, v, **({"calls": 1} if rng.random() < 0.4 else {"emails": 1}))
    same_layer = nx.algorithms.isomorphism.categorical_edge_match(["calls", "emails"], [0, 0])
    matcher = nx.algorithms.isomorphism.GraphMatcher(G, G, edge_match=same_layer)
    assert sum(1 for _ in matcher.isomorphisms_iter()) == 1
    H, truth = shuffled_relabelled_copy(G, random.Random(3))
    result = nx.graph_match_result(G, H, weight=["calls", "emails"], seed=0)
    assert result.mapping == truth
    assert result.objective == layer_objective(G, H, truth, ["calls", "emails"]) == 30


def test_a_weighted_multilayer_optimum_matches_brute_force():
    rng = random.Random(12)
    G1, G2 = nx.gnp_random_graph(6, 0.7, seed=12), nx.gnp_random_graph(6, 0.7, seed=13)
    for G in (G1, G2):
        for u, v in G.edges:
            # Some edges in both layers, some in one; missing means absent, not 1.
            for layer in rng.sample(["trade", "kin"], rng.choice([1, 1, 2])):
                G.edges[u, v][layer] = rng.randint(1, 9)
    layers = ("trade", "kin")
    best = max(
        layer_objective(G1, G2, dict(zip(G1, perm)), layers)
        for perm in itertools.permutations(G2)
    )
    result = nx.graph_match_result(G1, G2, weight=layers, n_init=5, seed=0)
    assert result.objective == layer_objective(G1, G2, result.mapping, layers) == best


CELEGANS = pathlib.Path(__file__).parents[2] / "shared" / "data" / "realdata" / "alignment" / (
    "celegans_sexes")


def celegans_chemical_connectome(sex, cells):
    """The chemical synapse counts among ``cells`` (directed, self-loops kept). The cell list
    spells every name in capitals, the edge lists do not ("dBWML1", "hyp")."""
    named = {cell.upper(): cell for cell in cells}
    G = nx.DiGraph()
    G.add_nodes_from(cells)
    with gzip.open(CELEGANS / f"{sex}_edgelist.csv.gz", "rt") as file:
        for row in csv.DictReader(file):
            source, target = named.get(row["source"].upper()), named.get(row["target"].upper())
            if row["chemical_weight"] and source is not None and target is not None:
                G.add_edge(source, target, weight=float(row["chemical_weight"]))
    return G


@pytest.mark.skipif(not CELEGANS.exists(), reason="shared/data not beside the checkout")
def test_goat_aligns_the_c_elegans_sexes_better_than_the_published_faq():
    # GOAT's paper (Saad-Eldin et al. 2021) and the data README: SciPy's FAQ on these
    # graphs matched 0.657 of the cells (its notebook's first start), and the true map's
    # objective is 476 522, which checks the construction.
    cells = (CELEGANS / "chem_multi_cells.csv").read_text().split()
    male = celegans_chemical_connectome("male", cells)
    hermaphrodite = celegans_chemical_connectome("hermaphrodite", cells)
    assert objective(male, hermaphrodite, {c: c for c in cells}) == 476_522
    hidden, truth = shuffled_relabelled_copy(hermaphrodite, random.Random(3))
    mapping = nx.graph_match(male, hidden, seed=0)
    assert np.mean([mapping[c] == truth[c] for c in cells]) > 0.657
