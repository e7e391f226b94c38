"""nx.max_cut_sdp / max_cut_sdp_result against brute force, an independent SDP and Gset."""

import csv
import warnings
import time
import threading
import signal
import os
import math
import pathlib

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nx_gradopt
from nx_gradopt import ConvergenceWarning
from nx_gradopt.core.results import INTERRUPTED
from nx_gradopt.io import read_gset
from nx_gradopt.maxcut import solver

from .. import oracles
from ..strategies import relabel, weighted_graphs

GSET = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data" / "gset"


def one_flip_gains(G, S, weight):
    """Cut change of moving each node to the other side (NetworkX's cut_size)."""
    base = nx.cut_size(G, S, weight=weight)
    return {
        node: nx.cut_size(G, S ^ {node}, weight=weight) - base for node in G
    }


def check_solution(G, solution, weight="weight"):
    S, T = solution.partition
    assert S | T == set(G) and not S & T
    assert solution.cut_value == pytest.approx(nx.cut_size(G, S, T, weight=weight), abs=1e-9)
    assert solution.upper_bound >= solution.cut_value - 1e-9
    if solution.bound_proof != "cycle relaxation":  # a bound on the SDP value too
        assert solution.upper_bound >= solution.sdp_value - 1e-9
    assert max(one_flip_gains(G, S, weight).values()) <= 1e-9


@given(weighted_graphs(min_nodes=2, max_nodes=11, negative=True), st.integers(0, 2**16))
def test_bound_and_cut_against_brute_force(G, seed):
    solution = nx.max_cut_sdp_result(G, seed=seed, chains=1)
    check_solution(G, solution)
    optimum = oracles.brute_force_max_cut(G)
    assert solution.upper_bound >= optimum - 1e-9
    # Breakout search on at most 11 nodes reaches the optimum.
    assert solution.cut_value == pytest.approx(optimum, abs=1e-9)
    # Relabelling the nodes keeps the (optimal) value.
    H = nx.relabel_nodes(G, {node: ("relabelled", k) for k, node in enumerate(reversed(list(G)))})
    assert nx.max_cut_sdp(H, seed=seed + 1, chains=1)[0] == pytest.approx(optimum, abs=1e-9)


@given(weighted_graphs(min_nodes=2, max_nodes=12, negative=True), st.integers(0, 2**16))
def test_certified_sdp_value_matches_interior_point(G, seed):
    solution = nx.max_cut_sdp_result(G, seed=seed, tol=1e-6, chains=1)
    assert solution.sdp_certified
    primal, dual = oracles.max_cut_sdp_value(G)
    # Y's value is feasible (below the optimum), the certificate above it, 1e-6 apart.
    assert solution.sdp_value <= dual + 1e-7 * max(1.0, abs(dual))
    assert solution.upper_bound >= primal - 1e-7 * max(1.0, abs(primal))
    scale = max(primal, sum(abs(w) for *_, w in G.edges(data="weight")) / 4)
    assert solution.upper_bound - solution.sdp_value <= 1e-6 * scale + 1e-12


def test_analytic_sdp_values():
    # Odd cycle: n/2 (1 + cos(pi/n)); complete graph: n^2/4 (also its max cut rounded down).
    cycle = nx.max_cut_sdp_result(nx.cycle_graph(7), seed=0, tol=1e-6)
    assert cycle.sdp_value == pytest.approx(3.5 * (1 + math.cos(math.pi / 7)), rel=1e-6)
    assert cycle.cut_value == 6
    complete = nx.max_cut_sdp_result(nx.complete_graph(9), seed=0, tol=1e-6)
    assert complete.sdp_value == pytest.approx(81 / 4, rel=1e-6)
    assert complete.cut_value == 20


def test_bipartite_graph_is_cut_everywhere():
    G = nx.grid_2d_graph(6, 7)
    cut, (S, T) = nx.max_cut_sdp(G, seed=1)
    assert cut == G.number_of_edges()
    assert all((u in S) != (v in S) for u, v in G.edges())


def test_weight_none_and_missing_weights_follow_networkx():
    G = nx.cycle_graph(6)
    G.edges[0, 1]["weight"] = -5
    # weight=None: every edge weighs 1; a missing attribute weighs 1.
    assert nx.max_cut_sdp(G, weight=None, seed=0)[0] == 6
    assert nx.max_cut_sdp(G, seed=0)[0] == 4
    assert nx.max_cut_sdp(G, weight="other", seed=0)[0] == 6


def test_no_edges_gives_zero_cut_and_bound():
    solution = nx.max_cut_sdp_result(nx.empty_graph(4))
    assert (solution.cut_value, solution.upper_bound) == (0, 0.0)
    assert solution.partition[0] | solution.partition[1] == set(range(4))


def test_self_loops_do_not_count():
    G = nx.path_graph(4)
    G.add_edge(2, 2, weight=100)
    cut, (S, T) = nx.max_cut_sdp(G, seed=0)
    assert cut == 3 == nx.cut_size(G, S, T, weight="weight")


def test_reproducible_with_a_seed():
    G = nx.gnp_random_graph(60, 0.2, seed=3)
    first = nx.max_cut_sdp_result(G, seed=7, chains=2, max_moves=5000)
    second = nx.max_cut_sdp_result(G, seed=7, chains=2, max_moves=5000)
    assert first.partition == second.partition
    assert np.array_equal(first.factor, second.factor)


def test_low_rank_escapes_and_certifies():
    G = nx.gnp_random_graph(80, 0.3, seed=5)
    solution = nx.max_cut_sdp_result(G, rank=2, seed=0, max_moves=1000)
    reference = nx.max_cut_sdp_result(G, seed=1, max_moves=1000)
    assert solution.sdp_certified
    assert solution.factor.shape[1] > 2
    assert solution.sdp_value == pytest.approx(reference.sdp_value, rel=2e-4)


def test_time_limit_keeps_a_valid_bound():
    G = nx.gnp_random_graph(300, 0.1, seed=2)
    with pytest.warns(ConvergenceWarning, match="raise max_iter or time_limit"):
        solution = nx.max_cut_sdp_result(G, seed=0, max_iter=3)
    check_solution(G, solution)
    assert not solution.sdp_certified
    certified = nx.max_cut_sdp_result(G, seed=0, max_moves=0)
    assert solution.upper_bound >= certified.sdp_value


def test_backend_dispatch_matches_default():
    G = nx.les_miserables_graph()
    TG = nx_gradopt.from_networkx(G, weight="weight")
    cut, (S, T) = nx.max_cut_sdp(TG, seed=4, chains=1)
    assert cut == pytest.approx(nx.max_cut_sdp(G, seed=4, chains=1)[0])
    assert S | T == set(G)


def test_beats_one_exchange_on_a_weighted_graph():
    G = nx.les_miserables_graph()
    ours = nx.max_cut_sdp(G, seed=0)[0]
    theirs = nx.approximation.one_exchange(G, weight="weight", seed=0)[0]
    assert ours >= theirs


def test_generated_toroidal_grid_like_g11():
    """Without Gset: a ±1 toroidal grid (G11's construction, 8 x 40 here). The cycle
    relaxation bounds it (the SDP value is 10% higher), and the cut is the maximum (a transfer
    matrix over the rows gives it)."""
    rng = np.random.default_rng(11)
    G = nx.grid_2d_graph(8, 40, periodic=True)
    for u, v in G.edges:
        G.edges[u, v]["weight"] = int(rng.choice([-1, 1]))
    solution = nx.max_cut_sdp_result(G, seed=0, max_moves=20000)
    check_solution(G, solution)
    assert solution.bound_proof == "cycle relaxation"
    optimum = oracles.torus_max_cut(nx.relabel_nodes(G, lambda node: node[::-1]), 40, 8)
    assert solution.cut_value == optimum <= solution.upper_bound <= optimum + 4
    theirs = nx.approximation.one_exchange(G, weight="weight", seed=0)[0]
    assert solution.cut_value >= theirs


@pytest.mark.skipif(not GSET.is_dir(), reason="needs ../shared/data/gset")
def test_gset_g11_bound_and_cut():
    best = {row["instance"]: float(row["best_known"]) for row in
            csv.DictReader(open(GSET / "best_known.csv"))}
    G = read_gset(GSET / "G11")
    solution = nx.max_cut_sdp_result(G, seed=0, time_limit=6)
    check_solution(G, solution)
    # G11 is a ±1 torus: the cycle relaxation bounds it at 564, its best known cut (its SDP
    # value is 629.165), and the cut reaches it.
    assert solution.bound_proof == "cycle relaxation"
    assert solution.upper_bound == best["G11"] == solution.cut_value


@pytest.mark.parametrize(
    ("graph", "error", "match"),
    [
        (nx.DiGraph([(0, 1)]), nx.NetworkXNotImplemented, "directed"),
        (nx.MultiGraph([(0, 1)]), nx.NetworkXNotImplemented, "multigraph"),
    ],
)
def test_bad_graphs(graph, error, match):
    with pytest.raises(error, match=match):
        nx.max_cut_sdp(graph)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"rank": 1}, r"`rank` must be an integer with 2 <= rank <= n = 5; got 1"),
        ({"rank": 6}, r"`rank`.*got 6"),
        ({"rank": 2.5}, r"`rank`.*got 2.5"),
        ({"rank": True}, r"`rank`.*got True"),
        ({"tol": 0}, r"`tol` must be a positive finite number; got 0"),
        ({"max_iter": 0}, r"`max_iter`"),
        ({"time_limit": -1.0}, r"`time_limit`"),
        ({"max_moves": -1}, r"`max_moves`"),
        ({"chains": 0}, r"`chains`"),
        ({"seed": "x"}, r"`seed`"),
    ],
)
def test_bad_options(options, match):
    G = nx.cycle_graph(5)
    with pytest.raises(ValueError, match=match):
        nx.max_cut_sdp(G, **options)


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (float("nan"), ValueError, r"`weight` 'weight' of edge \(1, 2\) must be finite; got nan"),
        (float("inf"), ValueError, r"must be finite; got inf"),
        ("heavy", TypeError, r"must be a real number; got 'heavy'"),
    ],
)
def test_bad_weights_and_input_untouched(value, error, match):
    G = nx.path_graph(4)
    G.edges[1, 2]["weight"] = value
    before = nx.to_dict_of_dicts(G)
    with pytest.raises(error, match=match):
        nx.max_cut_sdp(G)
    assert nx.to_dict_of_dicts(G) == before


def test_input_graph_not_mutated():
    G = relabel(nx.gnp_random_graph(15, 0.4, seed=1), "str")
    for u, v in G.edges():
        G.edges[u, v]["weight"] = 2.0
    G.graph["name"] = "kept"
    before = (nx.to_dict_of_dicts(G), dict(G.nodes(data=True)), dict(G.graph))
    nx.max_cut_sdp_result(G, seed=0)
    assert (nx.to_dict_of_dicts(G), dict(G.nodes(data=True)), dict(G.graph)) == before


@pytest.mark.parametrize("n", [0, 1])
def test_graphs_without_edges_to_cut(n):
    # NetworkX's one_exchange returns a 0 cut here; so do we, S holding the first node.
    G = nx.empty_graph(n)
    assert nx.max_cut_sdp(G) == (0, (set(G), set()))
    solution = nx.max_cut_sdp_result(G)
    assert solution.upper_bound == 0 and solution.relative_gap == 0 and solution.sdp_certified


def test_a_python_random_seed_repeats():
    import random

    G = nx.gnm_random_graph(40, 120, seed=3)
    first = nx.max_cut_sdp(G, seed=random.Random(5), chains=1, max_moves=2000)
    assert nx.max_cut_sdp(G, seed=random.Random(5), chains=1, max_moves=2000) == first


def test_time_limit_is_a_cap_when_the_cut_is_proven_maximum():
    # The SDP bound of a path is its edge count, which a bipartite cut reaches: the search
    # stops at once, however long the limit (it used to run to the limit).
    start = time.perf_counter()
    solution = nx.max_cut_sdp_result(nx.path_graph(4), time_limit=1e300, seed=0)
    assert solution.cut_value == 3 and time.perf_counter() - start < 5


def test_annealing_stops_at_a_proven_maximum_too():
    # With a time limit the runs anneal first, and 20 n sweeps over these 20 004 nodes would
    # take minutes: the annealing, too, ends once its cut meets the bound.
    G = nx.path_graph(4)
    G.add_nodes_from(range(4, 20_004))
    start = time.perf_counter()
    solution = nx.max_cut_sdp_result(G, time_limit=1e300, seed=0)
    assert solution.cut_value == 3 and time.perf_counter() - start < 20


def test_the_search_stops_when_it_stagnates(monkeypatch):
    # A random graph's SDP bound stays above its maximum cut (an odd cycle's floor does not:
    # it proves the cycle's cut maximum), so only stagnation can end this search, long before
    # the limit; and the stall length decides how long.
    G = nx.gnm_random_graph(60, 300, seed=1)
    moves, short = {}, 8
    for stall in (short, 10 * short):
        monkeypatch.setattr(solver, "STALL_RUNS_TIMED", stall)
        start = time.perf_counter()
        solution = nx.max_cut_sdp_result(G, time_limit=600, seed=0, chains=1)
        assert time.perf_counter() - start < 60
        assert math.floor(solution.upper_bound) > solution.cut_value
        assert solution.cut_value == nx.cut_size(G, *solution.partition)
        moves[stall] = solution.moves
    # Not 10x: the first round's runs all anneal their start (many flips), later rounds'
    # runs half of them.
    assert moves[10 * short] > 3 * moves[short]


def test_without_a_time_limit_the_search_stops_sooner(monkeypatch):
    # STALL_RUNS runs without a better cut end an untimed search, STALL_RUNS_TIMED a timed one.
    G = nx.gnm_random_graph(60, 300, seed=1)
    monkeypatch.setattr(solver, "STALL_RUNS", 8)
    monkeypatch.setattr(solver, "STALL_RUNS_TIMED", 80)
    untimed = nx.max_cut_sdp_result(G, seed=0, chains=1)
    timed = nx.max_cut_sdp_result(G, seed=0, chains=1, time_limit=600)
    assert timed.moves > 5 * untimed.moves


def test_without_a_time_limit_runs_on_sparse_graphs_are_shorter(monkeypatch):
    # Degree 4: 300 n moves per run without a better cut, capped at 100 n without a limit.
    G = nx.gnm_random_graph(60, 120, seed=1)
    capped = nx.max_cut_sdp_result(G, seed=0, chains=1)
    monkeypatch.setattr(solver, "RUN_STALL_MOVES_PER_NODE_UNTIMED", 10**6)
    uncapped = nx.max_cut_sdp_result(G, seed=0, chains=1)
    assert math.floor(capped.upper_bound) > capped.cut_value  # only stagnation ended it
    assert uncapped.moves > 2 * capped.moves
    assert capped.cut_value == nx.cut_size(G, *capped.partition)


def test_time_limit_is_kept():
    G = nx.random_regular_graph(3, 3000, seed=1)
    limit = 2.0
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        nx.max_cut_sdp(G, time_limit=limit, seed=0)
    # A few percent over on an idle machine (the last slice, rounding, the final descent);
    # the margin is for a shared CI machine.
    assert time.perf_counter() - start < 1.5 * limit


def _interrupt_after(seconds):
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_ctrl_c_in_the_search_returns_the_best_cut_so_far():
    # With time_limit=120 the search stops on stagnation only after 10 000 n moves a chain
    # (several seconds at n = 1 000); the SDP takes well under a second, so the signal at
    # 3 s lands in the search.
    nx.max_cut_sdp(nx.cycle_graph(5))  # load the compiled search first
    G = nx.random_regular_graph(3, 1000, seed=1)
    start = time.perf_counter()
    timer = _interrupt_after(3.0)
    try:
        with pytest.warns(ConvergenceWarning, match="interrupted"):
            solution = nx.max_cut_sdp_result(G, time_limit=120, seed=0)
    except KeyboardInterrupt:
        pytest.fail("the KeyboardInterrupt escaped max_cut_sdp_result")
    finally:
        timer.cancel()
    assert time.perf_counter() - start < 13
    assert solution.moves > 0
    S, T = solution.partition
    assert S | T == set(G) and not S & T
    assert solution.cut_value == nx.cut_size(G, S, T)
    assert solution.upper_bound >= solution.cut_value
    assert solution.cut_value >= G.number_of_edges() / 2  # better than a random cut


def test_ctrl_c_in_the_sdp_returns_a_rounding_with_a_valid_bound():
    # The kernel directly, so that the signal cannot land in NetworkX's conversion of G.
    import torch

    from nx_gradopt.config import runtime
    from nx_gradopt.maxcut import solve_max_cut

    G = nx.random_regular_graph(3, 20000, seed=1)
    u, v = (torch.tensor(column) for column in zip(*G.edges()))
    w = torch.ones(len(u), dtype=torch.float64)
    start = time.perf_counter()
    timer = _interrupt_after(0.5)
    try:
        result = solve_max_cut(len(G), u, v, w, runtime=runtime(None, None, 0), time_limit=120)
    except KeyboardInterrupt:
        pytest.fail("the KeyboardInterrupt escaped solve_max_cut")
    finally:
        timer.cancel()
    assert time.perf_counter() - start < 10.5
    assert result.reason == INTERRUPTED and not result.converged and result.moves == 0
    S = {node for node in G if result.x[node] > 0}
    assert result.fun == nx.cut_size(G, S)
    assert result.upper_bound >= result.fun >= G.number_of_edges() / 2
    # Gershgorin's bound (33 700 here) is capped by the trivial one, all 30 000 edges.
    assert result.upper_bound <= G.number_of_edges()
