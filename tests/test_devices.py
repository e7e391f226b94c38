"""Every family's public functions on every device (CPU, fake CUDA, real CUDA where present)
in float64 and float32, against references that do not share our numerics: NetworkX's own
functions, planted alignments, and certificates checked across runs (a valid upper bound is
at least every feasible value any run found)."""

import warnings

import networkx as nx
import numpy as np
import pytest

from nx_gradopt.core.results import ConvergenceWarning

DTYPES = ["float64", "float32"]
# float32 answers: eigenvalues to a few units of float32's eps relative to the spectrum's
# scale, so 1e-4 relative on these small graphs.
RTOL = {"float64": 1e-7, "float32": 1e-4}


def weighted_geometric(n=60, seed=1):
    G = nx.random_geometric_graph(n, 0.3, seed=seed)
    G = G.subgraph(max(nx.connected_components(G), key=len)).copy()
    rng = np.random.default_rng(seed)
    for u, v in G.edges:
        G.edges[u, v]["weight"] = rng.uniform(0.5, 2.0)
    return nx.convert_node_labels_to_integers(G)


def half_weight_grid():
    G = nx.grid_2d_graph(5, 6)
    nx.set_edge_attributes(G, 0.5, "weight")
    return G


@pytest.fixture(scope="module")
def cpu_lambda2():
    """CPU float64 answers, computed once: the reference every device's bound must exceed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {
            options: nx.optimize_algebraic_connectivity(
                half_weight_grid(), 12.0, seed=0, max_iter=150, **dict(options)
            ).graph
            for options in [(), (("capacity", 1.0),), (("base_weight", "weight"),)]
        }


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "options", [(), (("capacity", 1.0),), (("base_weight", "weight"),)],
    ids=["plain", "capacity", "base"],
)
def test_lambda2(device, dtype, options, cpu_lambda2):
    G = half_weight_grid()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        H = nx.optimize_algebraic_connectivity(
            G, 12.0, seed=0, max_iter=150, device=device, dtype=dtype, **dict(options)
        )
    reference = cpu_lambda2[options]
    # λ₂ of the weights returned (base network included), from NetworkX's dense Laplacian.
    lambda2 = np.linalg.eigvalsh(nx.laplacian_matrix(H, weight="weight").toarray())[1]
    assert H.graph["algebraic_connectivity"] == pytest.approx(lambda2, rel=1e-6)
    # Certificates checked across runs: each bound is at least each run's λ₂.
    assert H.graph["upper_bound"] >= reference["algebraic_connectivity"] * (1 - 1e-9)
    assert reference["upper_bound"] >= lambda2 * (1 - 1e-9)
    assert lambda2 == pytest.approx(reference["algebraic_connectivity"], rel=1e-2)
    spent = sum(w for *_, w in H.edges(data="weight"))
    if options == (("base_weight", "weight"),):
        spent -= 0.5 * G.number_of_edges()
    assert spent == pytest.approx(12.0, rel=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_edge_weight_engine(device, dtype):
    G = nx.cycle_graph(8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        H = nx.optimize_edge_weights(
            G, "total_effective_resistance", 8.0, device=device, dtype=dtype, max_iter=60
        )
    # By symmetry the uniform weighting is optimal: every edge gets 1, resistance n(n²-1)/12.
    weights = [w for *_, w in H.edges(data="weight")]
    np.testing.assert_allclose(weights, 1.0, rtol=RTOL[dtype] * 100)
    assert H.graph["objective"] == pytest.approx(8 * 63 / 12, rel=RTOL[dtype] * 100)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", ["goat", "faq"])
def test_graph_match_with_seeds_and_padding(device, dtype, method):
    rng = np.random.default_rng(2)
    G1 = nx.gnp_random_graph(40, 0.2, seed=3)
    for u, v in G1.edges:
        G1.edges[u, v]["weight"] = float(rng.integers(1, 5))
    truth = {u: f"v{(7 * u) % 40}" for u in G1}
    G2 = nx.relabel_nodes(G1, truth)
    G2.add_edge("extra", "v0", weight=1.0)  # one more node: padding
    seeds = [(u, truth[u]) for u in range(4)]
    mapping = nx.graph_match(
        G1, G2, method=method, seeds=seeds, n_init=3, seed=0, device=device, dtype=dtype
    )
    assert mapping == truth


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_cut_certificate(device, dtype):
    G = weighted_geometric(50)
    result = nx.max_cut_sdp_result(G, seed=0, max_moves=2000, device=device, dtype=dtype)
    S, T = result.partition
    assert result.cut_value == pytest.approx(nx.cut_size(G, S, T, weight="weight"), rel=1e-12)
    reference = nx.max_cut_sdp_result(G, seed=1, max_moves=2000)
    assert result.upper_bound >= reference.cut_value * (1 - 1e-12)
    assert reference.upper_bound >= result.cut_value * (1 - 1e-12)
    assert result.upper_bound == pytest.approx(reference.upper_bound, rel=1e-3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("normalized", [False, True])
@pytest.mark.parametrize("method", ["tracemin_pcg", "lobpcg", "tracemin_lu"])
def test_fiedler_functions(device, dtype, normalized, method):
    G = weighted_geometric(80)
    expected = nx.algebraic_connectivity(G, normalized=normalized, tol=1e-12, method="lobpcg")
    ours = nx.algebraic_connectivity(
        G, normalized=normalized, method=method, backend="gradopt", device=device, dtype=dtype
    )
    assert ours == pytest.approx(expected, rel=RTOL[dtype])
    vector = nx.fiedler_vector(
        G, normalized=normalized, method=method, seed=0, backend="gradopt", device=device,
        dtype=dtype,
    )
    reference = nx.fiedler_vector(G, normalized=normalized, tol=1e-12, method="lobpcg", seed=0)
    assert abs(vector @ reference) == pytest.approx(1.0, abs=100 * RTOL[dtype])
    order = nx.spectral_ordering(
        G, normalized=normalized, method=method, seed=0, backend="gradopt", device=device,
        dtype=dtype,
    )
    assert sorted(order) == sorted(G)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_spectral_functions(device, dtype):
    G = weighted_geometric(40)
    scale = RTOL[dtype] * nx.laplacian_spectrum(G).max()
    for function in (nx.laplacian_spectrum, nx.normalized_laplacian_spectrum):
        ours = function(G, backend="gradopt", device=device, dtype=dtype)
        np.testing.assert_allclose(ours, function(G), atol=scale)
    for function, kwargs in (
        (nx.effective_graph_resistance, {"weight": "weight"}),
        (nx.kemeny_constant, {"weight": "weight"}),
    ):
        ours = function(G, backend="gradopt", device=device, dtype=dtype, **kwargs)
        assert ours == pytest.approx(function(G, **kwargs), rel=10 * RTOL[dtype])
