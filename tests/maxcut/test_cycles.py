"""The cycle relaxation (maxcut/cycles.py) against brute force and a transfer matrix."""

import math
import time
import warnings

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nx_gradopt.maxcut.cycles import cycle_relaxation
from nx_gradopt.maxcut.local_search import cut_value, symmetric_csr

from .. import oracles


def with_weights(G, draw):
    """A copy of G with nodes 0..n-1 whose edges weigh ``draw()`` each."""
    H = nx.convert_node_labels_to_integers(G, ordering="sorted")
    for u, v in H.edges:
        H.edges[u, v]["weight"] = draw()
    return H


def relaxation_of(G, seed=0):
    u, v, w = zip(*G.edges(data="weight"))
    matrix = symmetric_csr(len(G), np.array(u), np.array(v), np.array(w, dtype=float))
    result = cycle_relaxation(matrix, np.random.default_rng(seed))
    if result is not None:
        assert set(np.unique(result.spins)) <= {-1.0, 1.0}
        assert cut_value(matrix.indptr, matrix.indices, matrix.data, result.spins) <= \
            result.bound + 1e-9
    return result, matrix


weights = st.one_of(
    st.sampled_from([-1, 1]),
    st.integers(-5, 5),
    st.floats(-3, 3, allow_nan=False).map(lambda x: round(x, 6)),
)


@given(st.sampled_from([(3, 5), (4, 4), (2, 7)]), st.lists(weights, min_size=40, max_size=40),
       st.integers(0, 2**16))
def test_planar_grid_is_solved_exactly(shape, draws, seed):
    # The faces of a plane grid span its cycle space: the bound is the maximum cut and the
    # cut reaches it, whatever the weights (the edges of the outer face go to the boundary).
    draws = iter(draws)
    G = with_weights(nx.grid_2d_graph(*shape), lambda: next(draws))
    relaxation, matrix = relaxation_of(G, seed)
    optimum = oracles.brute_force_max_cut(G)
    # Exact for integers; fractional weights are rounded for the matching, and the bound
    # allows m/2^21 of the largest weight for it, so may exceed it by twice that.
    m = G.number_of_edges()
    largest = max(abs(w) for _, _, w in G.edges(data="weight"))
    assert optimum - 1e-9 <= relaxation.bound <= optimum + m * largest / 2**20 + 1e-9
    cut = cut_value(matrix.indptr, matrix.indices, matrix.data, relaxation.spins)
    assert cut == pytest.approx(optimum, abs=1e-9)


@pytest.mark.parametrize(("graph", "faces"), [
    (nx.triangular_lattice_graph(2, 5), 10),  # its triangles
    (nx.hypercube_graph(3), 6),  # the cube's faces, its only 4-cycles
])
def test_other_plane_graphs_are_solved_exactly(graph, faces):
    rng = np.random.default_rng(3)
    for _ in range(5):
        G = with_weights(graph, lambda: float(rng.normal()))
        assert len(G) <= 16
        relaxation, matrix = relaxation_of(G)
        assert relaxation.cycles == faces
        optimum = oracles.brute_force_max_cut(G)
        assert optimum - 1e-9 <= relaxation.bound <= optimum + 1e-4
        assert cut_value(matrix.indptr, matrix.indices, matrix.data, relaxation.spins) == \
            pytest.approx(optimum, abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_torus_bound_is_valid_and_tight(seed):
    # On a torus the faces miss two cycles: the bound can exceed the maximum (by a little),
    # never fall below it.
    rng = np.random.default_rng(seed)
    G = nx.grid_2d_graph(12, 6, periodic=True)
    for u, v in G.edges:
        G.edges[u, v]["weight"] = int(rng.choice([-1, 1]))
    optimum = oracles.torus_max_cut(G, 12, 6)
    relaxation, _ = relaxation_of(nx.convert_node_labels_to_integers(G, ordering="sorted"), seed)
    assert relaxation.cycles == 72
    assert optimum <= relaxation.bound <= optimum + 4


def test_large_and_fractional_weights_keep_the_bound_valid():
    # Weights beyond the matching's integer range and fractional ones are scaled and rounded;
    # the bound allows for it.
    rng = np.random.default_rng(7)
    for scale in (1e9, 1e-3, 3.7):
        G = with_weights(nx.grid_2d_graph(3, 5), lambda: float(rng.normal()) * scale)
        relaxation, _ = relaxation_of(G)
        optimum = oracles.brute_force_max_cut(G)
        assert optimum <= relaxation.bound <= optimum + 1e-4 * scale


@pytest.mark.parametrize("graph", [
    nx.complete_graph(6),  # an edge on more than two triangles
    nx.balanced_tree(2, 3),  # no cycles
    nx.gnm_random_graph(60, 150, seed=1),  # most edges on no short cycle
    nx.grid_2d_graph(4, 4, periodic=True),  # the wrap-around rows are 4-cycles too
    nx.hypercube_graph(4),  # an edge on three 4-cycles
])
def test_graphs_without_a_face_structure_get_none(graph):
    G = with_weights(graph, lambda: 1.0)
    assert relaxation_of(G)[0] is None


def test_max_cut_sdp_on_a_plane_grid_skips_the_sdp():
    # A ±1 plane grid (a planar spin glass): the relaxation proves its cut maximum, the call
    # returns without solving the SDP, however long the limit.
    rng = np.random.default_rng(0)
    G = nx.grid_2d_graph(15, 15)
    for u, v in G.edges:
        G.edges[u, v]["weight"] = int(rng.choice([-1, 1]))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        solution = nx.max_cut_sdp_result(G, seed=0, time_limit=1e300)
    assert time.perf_counter() - start < 5
    assert solution.bound_proof == "cycle relaxation"
    assert solution.cut_value == nx.cut_size(G, *solution.partition, weight="weight")
    assert solution.cut_value == solution.upper_bound and solution.relative_gap == 0
    assert solution.factor is None and math.isnan(solution.sdp_value)
    assert not solution.sdp_certified
    assert solution.cut_value >= nx.approximation.one_exchange(G, weight="weight", seed=0)[0]


def test_max_cut_sdp_on_a_torus_against_the_transfer_matrix(device):
    rng = np.random.default_rng(5)
    G = nx.grid_2d_graph(20, 6, periodic=True)
    for u, v in G.edges:
        G.edges[u, v]["weight"] = int(rng.choice([-1, 1]))
    optimum = oracles.torus_max_cut(G, 20, 6)
    solution = nx.max_cut_sdp_result(G, seed=1, device=device)
    assert solution.cut_value == optimum
    assert solution.bound_proof == "cycle relaxation"
    assert optimum <= solution.upper_bound <= optimum + 4
    assert solution.cut_value == nx.cut_size(G, *solution.partition, weight="weight")


def test_a_short_time_limit_skips_the_relaxation_it_cannot_afford():
    # A matching is not interruptible: where its estimated cost passes the relaxation's share
    # of the limit, it is not started, and the call keeps to its limit.
    rng = np.random.default_rng(2)
    G = nx.grid_2d_graph(60, 60, periodic=True)
    for u, v in G.edges:
        G.edges[u, v]["weight"] = int(rng.choice([-1, 1]))
    relaxation, matrix = relaxation_of(nx.convert_node_labels_to_integers(G))
    assert relaxation is not None
    assert cycle_relaxation(matrix, np.random.default_rng(0), deadline=time.perf_counter()) \
        is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        solution = nx.max_cut_sdp_result(G, seed=0, time_limit=0.05)
    assert solution.bound_proof != "cycle relaxation"
