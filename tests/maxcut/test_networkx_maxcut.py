"""The backend's one_exchange and randomized_partitioning against NetworkX's own: the same
cut, value and type, and the caller's random state left as NetworkX leaves it."""

import random

import networkx as nx
import numpy as np
import pytest

from ..strategies import relabel


def random_graph(trial, weights):
    """A small graph (0 to 30 nodes, possibly isolated ones) with unit, integer or float
    weights, some edges without the attribute (NetworkX counts them as 1)."""
    rng = random.Random(trial)
    G = nx.gnm_random_graph(rng.randint(0, 30), rng.randint(0, 80), seed=trial)
    for _, _, data in G.edges(data=True):
        if weights == "int" and rng.random() < 0.9:
            data["weight"] = rng.randint(-3, 5)
        elif weights == "float":
            data["weight"] = rng.random() - 0.3
    G.add_edge(0, 0, weight=7)  # a self-loop never crosses a cut
    return G, rng


def both(function, G, *args, seed, **kwargs):
    """NetworkX's answer and ours from equal random states, and the states afterwards."""
    ours_seed, theirs_seed = seed(), seed()
    theirs = function(G, *args, seed=theirs_seed, backend="networkx", **kwargs)
    ours = function(G, *args, seed=ours_seed, backend="gradopt", **kwargs)
    return theirs, ours, theirs_seed, ours_seed


def state(seed):
    if isinstance(seed, random.Random):
        return seed.getstate()
    return str(seed.get_state())


@pytest.mark.parametrize("weights", [None, "int"])
@pytest.mark.parametrize("seeding", ["random", "numpy"])
def test_one_exchange_is_networkx_exactly(weights, seeding):
    # Integer weights: every gain is exact, so every step (ties included) must agree.
    for trial in range(40):
        G, rng = random_graph(trial, weights)
        initial = set(rng.sample(sorted(G), k=rng.randint(0, len(G)))) if trial % 2 else None
        make = (lambda: random.Random(trial)) if seeding == "random" else (
            lambda: np.random.RandomState(trial))
        theirs, ours, theirs_seed, ours_seed = both(
            nx.approximation.one_exchange, G, initial, seed=make,
            weight=None if weights is None else "weight",
        )
        assert ours == theirs and type(ours[0]) is type(theirs[0]), trial
        assert state(ours_seed) == state(theirs_seed), trial


def test_one_exchange_with_float_weights_and_odd_inputs():
    for trial in range(40):
        G, rng = random_graph(trial, "float")
        G = relabel(G, "str" if trial % 2 else "tuple")
        # Elements of the initial cut that are not nodes stay in the cut, as in NetworkX.
        initial = set(rng.sample(sorted(G), k=rng.randint(0, len(G)))) | {"not a node"}
        theirs, ours, _, _ = both(
            nx.approximation.one_exchange, G, initial, seed=lambda: random.Random(trial),
            weight="weight",
        )
        # Steps whose best gains tie up to rounding may differ (NetworkX compares recomputed
        # float sums); the result must still be a valid 1-flip optimum of the same quality.
        value, (S, T) = ours
        assert "not a node" in S and (S - {"not a node"}) | T == set(G) and not (S & T)
        assert value == pytest.approx(nx.cut_size(G, S, weight="weight"), abs=1e-12)
        for node in G:
            assert nx.cut_size(G, S ^ {node}, weight="weight") <= value + 1e-12
        if ours[1] == theirs[1]:
            assert value == pytest.approx(theirs[0], abs=1e-12)


@pytest.mark.parametrize("weights", [None, "int", "float"])
def test_randomized_partitioning_is_networkx(weights):
    for trial in range(20):
        G, _ = random_graph(trial, weights)
        theirs, ours, theirs_seed, ours_seed = both(
            nx.approximation.randomized_partitioning, G, seed=lambda: random.Random(trial),
            p=0.3, weight=None if weights is None else "weight",
        )
        assert ours[1] == theirs[1]
        assert ours[0] == pytest.approx(theirs[0], abs=1e-12)
        assert type(ours[0]) is type(theirs[0])
        assert state(ours_seed) == state(theirs_seed)


@pytest.mark.parametrize("function", ["one_exchange", "randomized_partitioning"])
def test_errors_are_networkx(function):
    for graph in (nx.DiGraph([(0, 1)]), nx.MultiGraph([(0, 1)])):
        with pytest.raises(nx.NetworkXNotImplemented):
            getattr(nx.approximation, function)(graph, backend="gradopt")
    G = nx.path_graph(3)
    G.add_edge(0, 1, weight="heavy")
    with pytest.raises(TypeError, match="weight"):
        getattr(nx.approximation, function)(G, weight="weight", backend="gradopt")
