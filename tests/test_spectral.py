"""backend="gradopt" against NetworkX's own implementations."""

import inspect
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nx_gradopt.nx import spectral
from nx_gradopt.interface import BackendInterface

from .strategies import weighted_graphs

IMPLEMENTED = [
    "algebraic_connectivity", "fiedler_vector", "spectral_ordering", "laplacian_spectrum",
    "normalized_laplacian_spectrum", "effective_graph_resistance", "kemeny_constant",
    "laplacian_matrix", "normalized_laplacian_matrix",
]


@pytest.mark.parametrize("name", IMPLEMENTED)
def test_signature_is_networkx_plus_declared_extras(name):
    ours = inspect.signature(getattr(BackendInterface, name))
    theirs = inspect.signature(getattr(nx, name).orig_func)
    extras = [p for p in ours.parameters.values() if p.name not in theirs.parameters]
    assert [p.name for p in extras] in ([], ["device", "dtype"])
    assert all(p.kind is p.KEYWORD_ONLY and p.default is None for p in extras)
    shared = [p for p in ours.parameters.values() if p.name in theirs.parameters]
    assert shared == list(theirs.parameters.values())


@given(weighted_graphs(min_nodes=2, max_nodes=14), st.booleans())
def test_algebraic_connectivity_and_fiedler(G, normalized):
    # Dense NumPy reference (NetworkX's iterative methods can converge to a wrong eigenvalue).
    matrix = (nx.normalized_laplacian_matrix if normalized else nx.laplacian_matrix)(G)
    expected = float(np.linalg.eigvalsh(matrix.toarray())[1]) if nx.is_connected(G) else 0.0
    got = nx.algebraic_connectivity(G, normalized=normalized, backend="gradopt")
    assert type(got) is float
    assert got == pytest.approx(expected, rel=1e-7, abs=1e-9)
    if nx.is_connected(G):
        x = nx.fiedler_vector(G, normalized=normalized, backend="gradopt")
        assert isinstance(x, np.ndarray) and x.dtype == np.float64
        L = (nx.normalized_laplacian_matrix if normalized else nx.laplacian_matrix)(G).toarray()
        if len(G) > 2:
            assert np.linalg.norm(L @ x - got * x) < 1e-7
            assert abs(x.sum() if not normalized else 0) < 1e-7
        else:
            np.testing.assert_array_equal(x, [1.0, -1.0])


@given(weighted_graphs(min_nodes=1, max_nodes=12, negative=True))
def test_spectra_and_matrices(G):
    for name in ("laplacian_spectrum", "normalized_laplacian_spectrum"):
        try:
            expected = getattr(nx, name)(G)
        except ValueError as error:  # negative degrees: NaN scaling, which SciPy refuses
            with pytest.raises(ValueError, match=str(error)):
                getattr(nx, name)(G, backend="gradopt")
            continue
        got = getattr(nx, name)(G, backend="gradopt")
        assert isinstance(got, np.ndarray)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    for name in ("laplacian_matrix", "normalized_laplacian_matrix"):
        expected = getattr(nx, name)(G).toarray()
        got = getattr(nx, name)(G, backend="gradopt").toarray()
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@given(weighted_graphs(min_nodes=1, max_nodes=12))
def test_resistance_and_kemeny(G):
    for weight in (None, "weight"):
        expected = nx.effective_graph_resistance(G, weight=weight)
        got = nx.effective_graph_resistance(G, weight=weight, backend="gradopt")
        assert type(got) is float
        assert got == pytest.approx(expected, rel=1e-7) or (math.isinf(got) and math.isinf(expected))
        if nx.is_connected(G) and len(G) > 1:
            expected = nx.kemeny_constant(G, weight=weight)
            assert nx.kemeny_constant(G, weight=weight, backend="gradopt") == pytest.approx(
                expected, rel=1e-7
            )


@pytest.mark.parametrize("labeling", ["int", "str", "tuple"])
def test_spectral_ordering_on_paths_and_components(labeling):
    from .strategies import relabel

    rng = np.random.default_rng(0)
    path = [int(i) for i in rng.permutation(12)]
    G = nx.Graph()
    nx.add_path(G, path)
    G.add_edge(100, 101)
    G.add_node(200)
    G = relabel(G, labeling)
    expected = nx.spectral_ordering(G)
    got = nx.spectral_ordering(G, backend="gradopt")
    assert got[:12] in (expected[:12], expected[:12][::-1])
    assert got[12:] == expected[12:]


def test_sparse_methods_on_larger_graphs():
    G = nx.grid_2d_graph(30, 30)  # n = 900: above the dense threshold
    expected = 2 * (1 - math.cos(math.pi / 30))  # exact: the path P_30's lambda_2
    for method in ("tracemin_pcg", "tracemin_lu", "lobpcg"):
        got = nx.algebraic_connectivity(G, method=method, backend="gradopt")
        assert got == pytest.approx(expected, rel=1e-6)
    x = nx.fiedler_vector(G, backend="gradopt", dtype="float32")
    L = nx.laplacian_matrix(G).toarray()
    assert np.linalg.norm(L @ x - expected * x) < 1e-3


@pytest.mark.parametrize("method", ["tracemin_pcg", "tracemin_lu", "lobpcg"])
def test_every_method_on_graphs_too_small_for_its_subspace(method):
    # NetworkX's TestSpectralOrdering.test_three_nodes: LOBPCG's 3-column block in the
    # 2-dimensional space left after deflation lost rank and gave a zero Fiedler vector in
    # 16 of 300 unseeded calls.
    G = nx.Graph()
    G.add_weighted_edges_from([(1, 2, 1), (1, 3, 2), (2, 3, 1)], weight="spam")
    expected = nx.fiedler_vector(G, weight="spam", method=method)
    for _ in range(50):
        x = nx.fiedler_vector(G, weight="spam", method=method, backend="gradopt")
        assert min(np.abs(x - expected).max(), np.abs(x + expected).max()) < 1e-6
        order = nx.spectral_ordering(G, weight="spam", method=method, backend="gradopt")
        assert {1, 3} in (set(order[:-1]), set(order[1:]))


def test_errors_match_networkx():
    cases = [
        (nx.algebraic_connectivity, nx.Graph([(0, 0)]), nx.NetworkXError, "less than two nodes"),
        (nx.fiedler_vector, nx.empty_graph(3), nx.NetworkXError, "graph is not connected."),
        (nx.spectral_ordering, nx.Graph(), nx.NetworkXError, "graph is empty."),
        (nx.algebraic_connectivity, nx.DiGraph([(0, 1)]), nx.NetworkXNotImplemented, "directed"),
        (nx.kemeny_constant, nx.empty_graph(2), nx.NetworkXError, "must be connected"),
        (nx.effective_graph_resistance, nx.Graph(), nx.NetworkXError, "at least one node"),
        (nx.laplacian_matrix, nx.Graph(), nx.NetworkXError, "Graph has no nodes or edges"),
    ]
    for function, G, error, message in cases:
        with pytest.raises(error, match=message):
            function(G)
        with pytest.raises(error, match=message):
            function(G, backend="gradopt")
    G = nx.path_graph(5)
    for function in (nx.algebraic_connectivity, nx.fiedler_vector, nx.spectral_ordering):
        with pytest.raises(nx.NetworkXError, match="unknown method 'magic'."):
            function(G, method="magic", backend="gradopt")
    with pytest.raises(nx.NetworkXError, match="Node 9 in nodelist is not in G"):
        nx.laplacian_matrix(G, nodelist=[0, 9], backend="gradopt")
    with pytest.raises(nx.NetworkXError, match="nodelist contains duplicates."):
        nx.laplacian_matrix(G, nodelist=[0, 0], backend="gradopt")
    negative = nx.Graph([(0, 1, {"weight": -1.0}), (1, 2, {"weight": 1.0})])
    with pytest.raises(nx.NetworkXError, match="must be nonnegative"):
        nx.kemeny_constant(negative, weight="weight", backend="gradopt")


def test_disconnected_and_tiny_graphs():
    G = nx.disjoint_union(nx.path_graph(3), nx.path_graph(3))
    assert nx.algebraic_connectivity(G, backend="gradopt") == 0.0
    two = nx.Graph([(0, 1, {"weight": -3.0})])
    assert nx.algebraic_connectivity(two, backend="gradopt") == 6.0
    assert nx.algebraic_connectivity(two, normalized=True, backend="gradopt") == 2.0
    zero = nx.Graph([(0, 1, {"weight": 0.0}), (1, 2, {"weight": 1.0})])
    assert nx.algebraic_connectivity(zero, backend="gradopt") == 0.0
    assert spectral.FIEDLER_METHODS.keys() == {
        "tracemin", "tracemin_pcg", "tracemin_lu", "lanczos", "lobpcg"
    }
