import ast
import pathlib

import networkx as nx
import numpy as np
import pytest
import torch

import nx_gradopt
from nx_gradopt.core.eigensolvers import smallest_eigenpairs
from nx_gradopt.core.laplacian import laplacian, null_vector

from ..oracles import dense_laplacian


def torch_laplacian(G, device, normalized=False):
    A = nx.to_scipy_sparse_array(G, weight="weight").tocoo()
    row, col = torch.as_tensor(A.row).to(device), torch.as_tensor(A.col).to(device)
    values = torch.as_tensor(A.data, dtype=torch.float64).to(device)
    n = len(G)
    return laplacian(n, row, col, values, normalized=normalized), null_vector(
        n, row, col, values, normalized=normalized
    )


def weighted(G, seed=0):
    rng = np.random.default_rng(seed)
    for u, v in G.edges():
        G[u][v]["weight"] = rng.uniform(0.5, 2.0)
    return G


@pytest.mark.parametrize("method", ["dense", "shift_invert", "lobpcg"])
@pytest.mark.parametrize("normalized", [False, True])
def test_matches_numpy(method, normalized, device):
    G = weighted(nx.random_geometric_graph(150, 0.2, seed=1))
    G = G.subgraph(max(nx.connected_components(G), key=len)).copy()
    matrix, u = torch_laplacian(G, device, normalized)
    pairs = smallest_eigenpairs(matrix, 3, null_vector=u, method=method, tol=1e-10, seed=0)
    reference = dense_laplacian(G)
    if normalized:
        scale = 1 / np.sqrt(reference.diagonal())
        reference = scale[:, None] * reference * scale[None, :]
    expected = np.linalg.eigvalsh(reference)[1:4]
    np.testing.assert_allclose(pairs.values.cpu().numpy(), expected, rtol=1e-7, atol=1e-10)
    vectors = pairs.vectors.cpu().numpy()
    residual = reference @ vectors - vectors * pairs.values.cpu().numpy()
    assert np.abs(residual).max() < 1e-6
    assert np.abs(u.cpu().numpy() @ vectors).max() < 1e-8


def test_lobpcg_warm_start_needs_fewer_iterations():
    G = weighted(nx.grid_2d_graph(25, 25))
    matrix, u = torch_laplacian(G, "cpu")
    cold = smallest_eigenpairs(matrix, 2, null_vector=u, method="lobpcg", tol=1e-8, seed=0)
    perturbed = matrix * 1.01
    warm = smallest_eigenpairs(
        perturbed, 2, null_vector=u, method="lobpcg", tol=1e-8, x0=cold.vectors, seed=0
    )
    assert warm.nit < cold.nit / 2
    torch.testing.assert_close(warm.values, cold.values * 1.01, rtol=1e-6, atol=0)


def test_disconnected_graph_has_second_zero():
    G = nx.disjoint_union(nx.path_graph(5), nx.cycle_graph(6))
    nx.set_edge_attributes(G, 1.0, "weight")
    matrix, u = torch_laplacian(G, "cpu")
    for method in ("dense", "shift_invert", "lanczos"):
        pairs = smallest_eigenpairs(matrix, 1, null_vector=u, method=method)
        assert abs(float(pairs.values[0])) < 1e-9


def test_bad_arguments():
    matrix, u = torch_laplacian(weighted(nx.path_graph(4)), "cpu")
    with pytest.raises(ValueError, match="`k` must be between 1 and 3; got 4"):
        smallest_eigenpairs(matrix, 4, null_vector=u)
    with pytest.raises(ValueError, match="`method` must be one of .*got 'magic'"):
        smallest_eigenpairs(matrix, 1, method="magic")


def test_core_never_imports_networkx():
    core = pathlib.Path(nx_gradopt.__file__).parent / "core"
    for path in core.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(name.split(".")[0] == "networkx" for name in names), path


def largest_component(G):
    return G.subgraph(max(nx.connected_components(G), key=len))


@pytest.mark.parametrize(("graph", "expected"), [
    (lambda: nx.random_regular_graph(4, 1500, seed=1), "lanczos"),
    (lambda: nx.connected_watts_strogatz_graph(1500, 6, 0.1, seed=1), "lanczos"),
    (lambda: nx.grid_2d_graph(40, 40), "shift_invert"),
    (lambda: nx.barabasi_albert_graph(1500, 1, seed=1), "shift_invert"),  # a tree of hubs
    (lambda: nx.barabasi_albert_graph(1500, 2, seed=1), "shift_invert"),  # an empty 3-core
    # Heavy-tailed without a periphery: shift-invert took over 8 minutes at n = 10^5. From
    # CORELESS_LOBPCG_MIN_NODES nodes up (here lowered to 1000) LOBPCG, below it Lanczos.
    (lambda: nx.barabasi_albert_graph(1500, 3, seed=1), "lobpcg"),
    (lambda: nx.powerlaw_cluster_graph(1500, 3, 0.5, seed=1), "lobpcg"),
    (lambda: nx.barabasi_albert_graph(900, 3, seed=1), "lanczos"),
    # Homogeneous with varied degrees (a random graph, a block model): LOBPCG from
    # VARIED_LOBPCG_MIN_NODES (here lowered to 1000) up, where Jacobi preconditioning pays.
    (lambda: largest_component(nx.fast_gnp_random_graph(1500, 10 / 1500, seed=1)), "lobpcg"),
    (lambda: largest_component(nx.stochastic_block_model(
        [300] * 5, [[40 / 1500 if i == j else 2 / 1500 for j in range(5)] for i in range(5)],
        seed=1)), "lobpcg"),
    (lambda: largest_component(nx.fast_gnp_random_graph(900, 10 / 900, seed=1)), "lanczos"),
])
def test_auto_takes_lanczos_where_a_sparse_lu_would_fill_in(graph, expected, monkeypatch):
    """Nearly regular small-world graphs go to Lanczos on L, heavy-tailed ones without a
    periphery and homogeneous ones with varied degrees to LOBPCG, the rest to shift-invert;
    the answer is the dense one either way."""
    from nx_gradopt.core import eigensolvers
    from nx_gradopt.core.eigensolvers import choose_method

    monkeypatch.setattr(eigensolvers, "CORELESS_LOBPCG_MIN_NODES", 1000)
    monkeypatch.setattr(eigensolvers, "VARIED_LOBPCG_MIN_NODES", 1000)

    G = nx.convert_node_labels_to_integers(graph())
    L = torch.as_tensor(nx.laplacian_matrix(G).toarray(), dtype=torch.float64).to_sparse_csr()
    assert choose_method(L) == expected
    n = len(G)
    null = torch.full((n,), n**-0.5, dtype=torch.float64)
    pairs = smallest_eigenpairs(L, 2, null_vector=null)
    assert pairs.method == expected
    exact = np.linalg.eigvalsh(L.to_dense().numpy())[1:3]
    np.testing.assert_allclose(pairs.values.numpy(), exact, rtol=1e-7)


@pytest.mark.parametrize("graph", [
    lambda: largest_component(nx.fast_gnp_random_graph(1500, 10 / 1500, seed=1)),
    lambda: largest_component(nx.stochastic_block_model(
        [300] * 5, [[40 / 1500 if i == j else 2 / 1500 for j in range(5)] for i in range(5)],
        seed=1)),
])
def test_one_eigenvalue_alone_takes_lanczos_on_varied_degrees(graph, monkeypatch):
    """Where a pair goes to LOBPCG for its Jacobi preconditioner, one eigenvalue without its
    vector (algebraic_connectivity) is one pass of Lanczos, and still the dense one."""
    from nx_gradopt.core import eigensolvers
    from nx_gradopt.core.eigensolvers import choose_method

    monkeypatch.setattr(eigensolvers, "VARIED_LOBPCG_MIN_NODES", 1000)
    G = nx.convert_node_labels_to_integers(graph())
    L = torch.as_tensor(nx.laplacian_matrix(G).toarray(), dtype=torch.float64).to_sparse_csr()
    assert choose_method(L) == "lobpcg" and choose_method(L, one_value=True) == "lanczos"
    n = len(G)
    null = torch.full((n,), n**-0.5, dtype=torch.float64)
    alone = smallest_eigenpairs(L, 1, null_vector=null, vectors=False)
    assert alone.method == "lanczos" and alone.vectors is None
    exact = np.linalg.eigvalsh(L.to_dense().numpy())[1]
    np.testing.assert_allclose(float(alone.values[0]), exact, rtol=1e-10)


def clustered_spectrum(n=400, cluster=20, spacing=1e-7):
    """A sparse diagonal matrix whose smallest eigenvalue after the null one (e_0) opens a
    cluster of ``cluster`` eigenvalues ``spacing`` apart, as λ₂ of an optimised weighting
    does: ARPACK with 8 Lanczos vectors ran its whole cap (4000 restarts) on it and raised."""
    values = np.concatenate(
        [[0.0], 1 + spacing * np.arange(cluster), np.linspace(1.01, 50, n - 1 - cluster)]
    )
    matrix = torch.sparse_csr_tensor(
        torch.arange(n + 1), torch.arange(n), torch.as_tensor(values), (n, n),
        check_invariants=True,
    )
    null = torch.zeros(n, dtype=torch.float64)
    null[0] = 1.0
    return matrix, null, np.sort(values)[1:]


def record_arpack_widths(monkeypatch):
    """A list that receives the width (ncv) of each ARPACK call from here on."""
    import scipy.sparse.linalg as spla

    widths = []
    eigsh = spla.eigsh

    def recording(*args, **kwargs):
        widths.append(kwargs["ncv"])
        return eigsh(*args, **kwargs)

    monkeypatch.setattr(spla, "eigsh", recording)
    return widths


# One pair by plain Lanczos skips ARPACK (see the two-pass tests below): two pairs here.
@pytest.mark.parametrize(("method", "k"), [("shift_invert", 1), ("lanczos", 2)])
def test_arpack_widens_its_basis_on_a_tight_cluster(method, k, monkeypatch):
    widths = record_arpack_widths(monkeypatch)
    matrix, null, expected = clustered_spectrum()
    pairs = smallest_eigenpairs(matrix, k, null_vector=null, method=method, seed=0)
    np.testing.assert_allclose(pairs.values.numpy(), expected[:k], rtol=1e-12)
    assert len(widths) > 1 and widths[1] == 2 * widths[0]  # the first basis did not converge
    vector = pairs.vectors[:, 0].numpy()
    # Within the cluster: its residual is at most the cluster's width.
    residual = matrix.to_dense().numpy() @ vector - float(pairs.values[0]) * vector
    assert np.linalg.norm(residual) < 1e-5 and abs(vector[0]) < 1e-8


def test_arpack_failing_at_every_width_falls_back_to_lobpcg(monkeypatch):
    """No ArpackNoConvergence escapes: shift-invert hands over to LOBPCG."""
    import scipy.sparse.linalg as spla

    def failing(*args, **kwargs):
        raise spla.ArpackNoConvergence("no convergence", np.zeros(0), np.zeros((0, 0)))

    monkeypatch.setattr(spla, "eigsh", failing)
    G = weighted(nx.grid_2d_graph(12, 12))
    matrix, u = torch_laplacian(G, "cpu")
    for method in ("shift_invert", "lanczos"):
        pairs = smallest_eigenpairs(matrix, 2, null_vector=u, method=method, tol=1e-8, seed=0)
        assert pairs.method == "lobpcg"
        expected = np.linalg.eigvalsh(dense_laplacian(G))[1:3]
        np.testing.assert_allclose(pairs.values.numpy(), expected, rtol=1e-7)


def arpack_forbidden(*args, **kwargs):
    raise AssertionError("ARPACK was called")


@pytest.mark.parametrize(("graph", "normalized"), [
    (lambda: nx.connected_watts_strogatz_graph(1500, 6, 0.1, seed=1), False),
    (lambda: nx.random_regular_graph(4, 1500, seed=1), False),
    (lambda: weighted(nx.barabasi_albert_graph(1500, 3, seed=1)), True),  # null vector ~ sqrt(d)
    (lambda: nx.circulant_graph(1500, [1, 2]), False),  # lambda_2 has multiplicity 2
])
def test_one_lanczos_pair_is_two_passes_without_arpack(graph, normalized, monkeypatch):
    """The Fiedler pair by Lanczos without reorthogonalisation: the dense eigenvalue, a
    residual within the tolerance, orthogonal to the null vector, and no ARPACK call; the
    eigenvalue alone (one pass, no vector) just as accurate."""
    import scipy.sparse.linalg as spla

    monkeypatch.setattr(spla, "eigsh", arpack_forbidden)
    G = nx.convert_node_labels_to_integers(graph())
    matrix, u = torch_laplacian(G, "cpu", normalized)
    dense = matrix.to_dense().numpy()
    expected = np.linalg.eigvalsh(dense)[1]
    alone = smallest_eigenpairs(matrix, 1, null_vector=u, method="lanczos", tol=1e-8, seed=0,
                                vectors=False)
    assert alone.vectors is None
    # atol: the dense eigenvalue's own error, eps * ||L|| (lambda_2 of the cycle is 8.8e-5).
    np.testing.assert_allclose(float(alone.values[0]), expected, rtol=1e-12, atol=1e-13)
    pairs = smallest_eigenpairs(matrix, 1, null_vector=u, method="lanczos", tol=1e-8, seed=0)
    assert pairs.method == "lanczos"
    value, vector = float(pairs.values[0]), pairs.vectors[:, 0].numpy()
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-13)
    assert np.linalg.norm(dense @ vector - value * vector) <= 10 * 1e-8 * value
    assert abs(np.linalg.norm(vector) - 1) < 1e-12 and abs(u.numpy() @ vector) < 1e-12


def test_two_pass_lanczos_on_an_invariant_krylov_space():
    """K_700: after the null vector, one eigenvalue (700), so the Krylov space is invariant
    after one step; the recurrence must stop there, not divide by a rounding-level beta."""
    G = nx.complete_graph(700)
    nx.set_edge_attributes(G, 1.0, "weight")
    matrix, u = torch_laplacian(G, "cpu")
    pairs = smallest_eigenpairs(matrix, 1, null_vector=u, method="lanczos", seed=0)
    np.testing.assert_allclose(pairs.values.numpy(), [700.0], rtol=1e-13)
    vector = pairs.vectors[:, 0].numpy()
    assert abs(vector.sum()) < 1e-10 and abs(np.linalg.norm(vector) - 1) < 1e-12


def test_two_pass_lanczos_out_of_steps_goes_to_arpack(monkeypatch):
    from nx_gradopt.core import eigensolvers

    calls = record_arpack_widths(monkeypatch)
    monkeypatch.setattr(eigensolvers, "TWO_PASS_MAX_STEPS", 20)
    G = nx.connected_watts_strogatz_graph(1500, 6, 0.1, seed=1)
    matrix, u = torch_laplacian(G, "cpu")
    pairs = smallest_eigenpairs(matrix, 1, null_vector=u, method="lanczos", tol=1e-8, seed=0)
    assert calls
    expected = np.linalg.eigvalsh(matrix.to_dense().numpy())[1]
    np.testing.assert_allclose(pairs.values.numpy(), [expected], rtol=1e-12)
