"""Compiled local search: gains, descent, breakout search, against NetworkX's cut_size."""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from nx_gradopt.maxcut import local_search
from nx_gradopt.maxcut.local_search import BreakoutSearch, cut_value, descend, gains

from .. import oracles


def csr_of(G):
    A = sp.csr_matrix(nx.to_scipy_sparse_array(G, weight="weight"))
    return A.indptr.astype(np.int64), A.indices.astype(np.int64), A.data.astype(np.float64)


def signed_graph(n, p, seed, *, integer=False):
    """G(n, p) with weights uniform in [-2, 3), or integers -3..3 (which the search keeps
    in gain buckets)."""
    G = nx.gnp_random_graph(n, p, seed=seed)
    rng = np.random.default_rng(seed)
    for u, v in G.edges():
        G.edges[u, v]["weight"] = float(rng.integers(-3, 4) if integer else rng.uniform(-2, 3))
    return G


def side(x):
    return {i for i, s in enumerate(x) if s > 0}


def test_gains_and_cut_value_match_networkx():
    G = signed_graph(25, 0.3, 1)
    csr = csr_of(G)
    x = np.random.default_rng(0).choice([-1.0, 1.0], 25)
    S = side(x)
    assert cut_value(*csr, x) == pytest.approx(nx.cut_size(G, S, weight="weight"))
    g = gains(*csr, x)
    for i in range(25):
        flipped = nx.cut_size(G, S ^ {i}, weight="weight") - nx.cut_size(G, S, weight="weight")
        assert g[i] == pytest.approx(flipped)


def test_descend_reaches_a_one_flip_optimum_and_keeps_gains_exact():
    G = signed_graph(40, 0.2, 2)
    csr = csr_of(G)
    x = np.ones(40)
    g = gains(*csr, x)
    before = cut_value(*csr, x)
    total = descend(*csr, x, g, 0.0)
    assert cut_value(*csr, x) == pytest.approx(before + total)
    assert np.allclose(g, gains(*csr, x))
    assert g.max() <= 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_annealing_keeps_gains_exact_and_cools_to_the_optimum(seed):
    G = signed_graph(14, 0.5, seed)
    csr = csr_of(G)
    x = np.ones(14)
    g = gains(*csr, x)
    state = np.array([0, 0, 0, seed + 1], dtype=np.int64)
    flips, cut = 0, cut_value(*csr, x)
    for temperature in np.geomspace(3.0, 0.05, 200):  # slow cooling, two sweeps a step
        made, change = local_search.anneal(*csr, x, g, temperature, 2, 10**9, state)
        flips, cut = flips + made, cut + change
    assert np.allclose(g, gains(*csr, x))
    assert flips > 0 and cut == pytest.approx(cut_value(*csr, x))
    assert cut == pytest.approx(oracles.brute_force_max_cut(G), abs=1e-9)


def test_annealing_stops_at_its_flip_budget_and_accepts_by_metropolis():
    G = signed_graph(60, 0.2, 4)
    csr = csr_of(G)
    x = np.ones(60)
    g = gains(*csr, x)
    state = np.array([0, 0, 0, 7], dtype=np.int64)
    assert local_search.anneal(*csr, x, g, 1e6, 100, 37, state)[0] == 37
    assert np.allclose(g, gains(*csr, x))
    # Near zero temperature only flips of gain >= 0 are made: a descent to a 1-flip optimum.
    local_search.anneal(*csr, x, g, 1e-9, 200, 10**9, state)
    assert g.max() <= 1e-12


def test_breakout_search_finds_the_optimum_and_repeats_with_a_seed():
    G = signed_graph(14, 0.5, 3)
    csr = csr_of(G)
    runs = []
    for _ in range(2):
        search = BreakoutSearch(*csr, np.ones(14), seed=11, eps=1e-9)
        search.run(3000)
        runs.append(search.best_x.copy())
        assert search.best_cut == pytest.approx(cut_value(*csr, search.best_x))
        assert search.best_cut == pytest.approx(oracles.brute_force_max_cut(G))
        assert np.allclose(search.g, gains(*csr, search.x))
        # The list of improving nodes is exactly the nodes with a positive gain.
        listed = set(search.improving[: search.improving[-1]].tolist())
        assert listed == set(np.flatnonzero(search.g > 1e-9).tolist())
    assert np.array_equal(*runs)


@pytest.mark.parametrize("seed", range(6))
def test_gain_buckets_hold_every_node_under_its_gain_through_a_search(seed):
    G = signed_graph(50, 0.12, seed, integer=True)
    csr = csr_of(G)
    x = np.random.default_rng(seed).choice([-1.0, 1.0], 50)
    search = BreakoutSearch(*csr, x, seed=seed, eps=1e-9)
    assert search.offset == max(sum(abs(d["weight"]) for *_, d in G.edges(u, data=True))
                                for u in G)
    for _ in range(10):
        search.run(700)
        order, pos, start, top = search.buckets
        assert np.array_equal(order[pos], np.arange(50))
        # Every node in the bucket of its gain, recomputed from scratch.
        fresh = gains(*csr, search.x)
        assert np.array_equal(search.g, fresh)
        bucket = np.searchsorted(start, pos, side="right") - 1
        assert np.array_equal(bucket, fresh.astype(int) + search.offset)
        assert bucket.max() <= top[0]
        assert search.best_cut == nx.cut_size(G, side(search.best_x), weight="weight")


def test_bucket_choices_follow_the_rules_of_the_scans():
    # The descent's move: the first node of the largest gain, if positive (as the scan of the
    # improving list). The directed perturbation's: a node of the largest gain among the
    # non-tabu ones, or among all above the aspiration threshold, drawn uniformly.
    G = signed_graph(150, 0.05, 9, integer=True)
    csr = csr_of(G)
    search = BreakoutSearch(*csr, np.ones(150), seed=3, eps=1e-9)
    rng = np.random.default_rng(9)
    state = np.array([0, 0, 1, 12345], dtype=np.int64)
    for _ in range(20):
        search.run(200)
        g = search.g
        first = local_search._first_of_top_bucket(search.buckets, search.offset, 1e-9)
        assert first == (int(np.argmax(g)) if g.max() > 1e-9 else -1)
        tabu_until = rng.integers(0, 3, 150)  # tabu where > 1 at move 1
        for threshold in (-np.inf, np.inf, 0.5):
            allowed = (tabu_until <= 1) | (g > threshold)
            top = g[allowed].max()
            expected = set(np.flatnonzero(allowed & (g == top)).tolist())
            drawn = {local_search._best_in_buckets(search.buckets, search.offset, tabu_until,
                                                   1, threshold, state) for _ in range(2000)}
            assert drawn == expected


def test_integer_weights_take_the_buckets_and_reach_the_optimum():
    G = signed_graph(14, 0.5, 3, integer=True)
    csr = csr_of(G)
    search = BreakoutSearch(*csr, np.ones(14), seed=11, eps=1e-9)
    assert search.offset > 0
    search.run(3000)
    assert search.best_cut == oracles.brute_force_max_cut(G)


@pytest.mark.parametrize("weight", [0.5, 17.0])
def test_fractional_or_large_weights_scan_all_gains(weight):
    G = nx.cycle_graph(6)
    nx.set_edge_attributes(G, weight, "weight")
    search = BreakoutSearch(*csr_of(G), np.ones(6), seed=0, eps=1e-9)
    assert search.offset == -1
    search.run(200)
    assert search.best_cut == 6 * weight
