"""The memetic search: its population, crossover and stopping rule, and the search itself
against brute force and NetworkX's cut_size."""

import math

import networkx as nx
import numpy as np
import pytest

from nx_gradopt.maxcut.memetic import Elite, Stagnation, memetic_search

from .. import oracles
from .test_local_search import csr_of, side, signed_graph


def spins(*values):
    return np.array(values, dtype=np.float64)


def test_elite_keeps_the_best_distinct_cuts():
    elite = Elite(2)
    elite.offer(5.0, spins(1, -1, 1))
    elite.offer(5.0, spins(-1, 1, -1))  # the same cut, negated
    assert len(elite) == 1
    elite.offer(3.0, spins(1, 1, -1))
    elite.offer(2.0, spins(1, 1, 1))  # worse than both: not kept
    assert sorted(elite.cuts) == [3.0, 5.0]
    elite.offer(3.0, spins(1, -1, -1))  # as good as the worst: replaces it
    assert sorted(elite.cuts) == [3.0, 5.0]
    assert any(np.array_equal(member, spins(1, -1, -1)) for member in elite.members)
    assert all(member[0] == 1 for member in elite.members)


def test_crossover_keeps_what_the_parents_share_whatever_their_signs():
    rng = np.random.default_rng(0)
    a = np.where(rng.random(200) < 0.5, 1.0, -1.0)
    b = a.copy()
    b[:60] *= -1  # b differs from a on the first 60 nodes
    elite = Elite(2)
    elite.offer(1.0, a)
    elite.members.append(-b)  # stored with the other sign
    elite.cuts.append(1.0)
    children = [elite.crossover(rng) for _ in range(20)]
    for child in children:
        aligned = child * child[100] * a[100]  # the child as a cut, in a's signs
        assert np.array_equal(aligned[60:], a[60:])
    # The differing nodes are drawn, not copied from one parent.
    first = np.array([child * child[100] * a[100] for child in children])[:, :60]
    assert 0.3 < (first == a[:60]).mean() < 0.7


def test_stagnation_counts_runs_without_a_better_cut():
    rule = Stagnation(4)
    assert not rule.stalled(10.0, 2)
    assert not rule.stalled(12.0, 4)  # improved at run 4
    assert not rule.stalled(12.0, 6)
    assert rule.stalled(12.0, 8)  # four runs without a better cut


def test_stagnation_stops_on_diminishing_returns():
    # Improving every round, but by less than 10% of the cut per doubling of the runs.
    rule = Stagnation(100, min_gain=0.1)
    cuts = {runs: 100.0 + runs / 10 for runs in range(2, 1000, 2)}
    stopped = next(runs for runs, cut in cuts.items() if rule.stalled(cut, runs))
    assert stopped == 200  # the second milestone: 100 runs gained 10, under 10% of 120
    assert Stagnation(100).stalled(cuts[200], 200) is False
    # Checked from 50 runs: 50 more gained 5, under 10% of 110.
    rule = Stagnation(100, min_gain=0.1, gain_from=50)
    assert next(runs for runs, cut in cuts.items() if rule.stalled(cut, runs)) == 100


def search(G, *, chains=2, budget=math.inf, seed=0, optimum=math.inf, stall_runs=4,
           annealing=False):
    csr = csr_of(G)
    rng = np.random.default_rng(seed)
    roundings = np.where(rng.random((16, len(G))) < 0.5, 1.0, -1.0)
    return memetic_search(
        csr, roundings, chains, budget, math.inf, 1e-9, rng, optimum=optimum,
        run_stall=20 * len(G), stall_grows=False, stagnation=Stagnation(stall_runs), progress=lambda *a: None,
        annealing=annealing,
    )


@pytest.mark.parametrize("annealing", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_search_finds_the_optimum_of_small_signed_graphs(seed, annealing):
    G = signed_graph(14, 0.5, seed)
    cut, x, moves, interrupted = search(G, seed=seed, annealing=annealing)
    assert cut == pytest.approx(oracles.brute_force_max_cut(G), abs=1e-9)
    assert cut == pytest.approx(nx.cut_size(G, side(x), weight="weight"), abs=1e-9)
    assert moves > 0 and not interrupted


def test_the_search_repeats_with_a_seed_on_any_number_of_threads():
    # Runs enter the population in order after each round, whatever the threads' timing.
    G = signed_graph(150, 0.05, 4, integer=True)
    first = search(G, chains=3, seed=5, stall_runs=12)
    for _ in range(3):
        again = search(G, chains=3, seed=5, stall_runs=12)
        assert again[0] == first[0] and again[2] == first[2]
        assert np.array_equal(again[1], first[1])


@pytest.mark.parametrize("annealing", [False, True])
def test_the_search_keeps_to_its_budget_and_stops_at_the_optimum(annealing):
    # With stagnation out of reach, only the budget or the optimum can end these searches.
    G = signed_graph(150, 0.05, 4, integer=True)
    _, _, moves, _ = search(G, budget=3000, stall_runs=10**9, annealing=annealing)
    # A run finishes its perturbation (at most n/10 moves) past the budget; an annealing
    # stops at it.
    assert 3000 <= moves <= 3000 + 2 * 2 * len(G) // 10
    G = signed_graph(14, 0.5, 3)
    optimum = oracles.brute_force_max_cut(G)
    cut, _, _, _ = search(G, optimum=optimum, stall_runs=10**9,
                          annealing=annealing)
    assert cut == pytest.approx(optimum, abs=1e-9)
