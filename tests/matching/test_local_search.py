"""The 2-opt polish: its kept-up-to-date gains make the same swaps as evaluating afresh, and
its answers are swap-optimal by the objective's definition."""

import numpy as np
import pytest

from nx_gradopt.matching import local_search
from nx_gradopt.matching.local_search import two_opt


def objective(a_layers, b_layers, similarity, perm):
    """sum_l sum_ij a_l[i, j] b_l[p_i, p_j] + sum_i s[i, p_i], from the definition."""
    value = sum(float((a * b[np.ix_(perm, perm)]).sum()) for a, b in zip(a_layers, b_layers))
    if similarity is not None:
        value += float(similarity[np.arange(len(perm)), perm].sum())
    return value


def random_problem(rng, n):
    """Integer entries, so that every gain is exact in float64 whichever way it is summed."""
    layers = int(rng.integers(1, 3))
    a = [rng.integers(0, 6, (n, n)).astype(float) for _ in range(layers)]
    b = [rng.integers(0, 6, (n, n)).astype(float) for _ in range(layers)]
    if rng.random() < 0.5:
        a, b = [x + x.T for x in a], [x + x.T for x in b]
    similarity = rng.integers(0, 4, (n, n)).astype(float) if rng.random() < 0.5 else None
    return a, b, similarity


@pytest.mark.parametrize("maximize", [True, False])
@pytest.mark.parametrize("seed", range(12))
def test_kept_gains_make_the_swaps_of_fresh_evaluation_and_end_swap_optimal(
    seed, maximize, monkeypatch
):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 30))
    a, b, similarity = random_problem(rng, n)
    fixed = rng.choice(n, size=int(rng.integers(0, 3)), replace=False)
    free = np.setdiff1d(np.arange(n), fixed)
    start = rng.permutation(n)
    monkeypatch.setattr(local_search, "KEEP_GAINS_FROM", 2)
    kept, fresh = start.copy(), start.copy()
    swaps_kept = two_opt(a, b, similarity, kept, free, maximize=maximize, near_optimal=True)
    swaps_fresh = two_opt(a, b, similarity, fresh, free, maximize=maximize, near_optimal=False)
    assert swaps_kept == swaps_fresh
    assert (kept == fresh).all()
    assert (kept[fixed] == start[fixed]).all()
    sign = 1 if maximize else -1
    value = objective(a, b, similarity, kept)
    assert sign * value >= sign * objective(a, b, similarity, start)
    for x in range(len(free)):
        for y in range(x + 1, len(free)):
            swapped = kept.copy()
            swapped[[free[x], free[y]]] = swapped[[free[y], free[x]]]
            assert sign * objective(a, b, similarity, swapped) <= sign * value


@pytest.mark.parametrize("upkeep_swaps", [1, 4, 1000])
def test_the_switch_to_fresh_evaluation_changes_no_swap(upkeep_swaps, monkeypatch):
    # From a random start a pass makes many swaps: the kept gains are given up after
    # f / UPKEEP_SWAPS of them (at once with 1000, late with 1), mid-pass.
    rng = np.random.default_rng(99)
    a, b, similarity = random_problem(rng, 40)
    start = rng.permutation(40)
    reference = start.copy()
    expected = two_opt(a, b, similarity, reference, np.arange(40), maximize=False,
                       near_optimal=False)
    monkeypatch.setattr(local_search, "UPKEEP_SWAPS", upkeep_swaps)
    monkeypatch.setattr(local_search, "KEEP_GAINS_FROM", 2)
    perm = start.copy()
    assert two_opt(a, b, similarity, perm, np.arange(40), maximize=False) == expected > 40
    assert (perm == reference).all()
