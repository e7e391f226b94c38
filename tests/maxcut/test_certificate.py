"""The positive-definiteness proof behind every max-cut bound, against NumPy's eigvalsh."""

import numpy as np
import pytest
import scipy.sparse as sp

from nx_gradopt.maxcut import certificate


def symmetric(n, seed):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    return (M + M.T) / 2


@pytest.mark.parametrize("n", [5, 40, certificate.DENSE_LIMIT + 1])
def test_positive_definite_test_agrees_with_the_spectrum(n):
    if n > certificate.DENSE_LIMIT:
        # A sparse path Laplacian minus 1 (eigenvalues in [-1, 3)) for the LDLᵀ route.
        M = sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1]).tocsc()
        M = M - sp.identity(n, format="csc")
    else:
        M = sp.csc_matrix(symmetric(n, n))
    if n <= 2000:
        lowest = np.linalg.eigvalsh(M.toarray())[0]
    else:  # path Laplacian: 2 - 2 cos(pi / (n + 1)), minus the identity
        lowest = 1 - 2 * np.cos(np.pi / (n + 1))
    assert certificate.is_positive_definite(M, -lowest + 1e-6)
    assert not certificate.is_positive_definite(M, -lowest - 1e-6)


def test_rounding_margin_grows_with_size_and_trace():
    assert 0 < certificate.rounding_margin(np.ones(10), 10) < certificate.rounding_margin(
        np.ones(1000), 1000
    ) < 1e-9


def test_gershgorin_and_certified_shifts_are_valid():
    M = sp.csc_matrix(symmetric(30, 1))
    lowest = np.linalg.eigvalsh(M.toarray())[0]
    assert certificate.gershgorin_shift(M) >= -lowest
    estimate, vector = certificate.smallest_eigenpair(M)
    assert estimate == pytest.approx(lowest)
    shift = certificate.certified_shift(M, -estimate + 1e-6)
    assert -lowest <= shift <= -lowest + 1e-5
    # A wrong (too optimistic) start still ends in a valid shift.
    assert -lowest <= certificate.certified_shift(M, -estimate - 0.5) <= 8 * -lowest


def test_eigen_estimates_follow_the_users_seed(monkeypatch):
    """The Lanczos start of the certificate's eigen-estimate comes from the call's seed."""
    import networkx as nx

    import nx_gradopt  # noqa: F401

    seeds = []
    original = certificate.smallest_eigenpair

    def recording(S, *, seed=0):
        seeds.append(seed)
        return original(S, seed=seed)

    monkeypatch.setattr(certificate, "smallest_eigenpair", recording)
    G = nx.gnm_random_graph(100, 400, seed=1)
    for seed in (3, 4):
        with pytest.warns(nx_gradopt.ConvergenceWarning):  # max_iter=2: not certified
            nx.max_cut_sdp(G, seed=seed, max_iter=2, tol=1e-12, max_moves=10)
    assert seeds[0] != seeds[-1] and seeds[0] == 3 and seeds[-1] == 4


def laplacian_slack(G, seed):
    """An S = A - Diag(λ) as the SDP produces: adjacency minus a diagonal near the degrees."""
    import networkx as nx

    A = nx.to_scipy_sparse_array(G, format="csr", dtype=float)
    degrees = np.asarray(A.sum(axis=1)).ravel()
    noise = np.random.default_rng(seed).uniform(0.5, 1.0, len(degrees))
    return sp.csr_array(A - sp.diags(-degrees * noise))


@pytest.mark.parametrize("seed", range(6))
def test_randomized_shift_bounds_the_smallest_eigenvalue(seed):
    import networkx as nx

    G = nx.gnm_random_graph(400, 1000, seed=seed)
    for S in (laplacian_slack(G, seed), sp.csr_array(symmetric(400, seed))):
        lowest = np.linalg.eigvalsh(S.toarray())[0]
        top, bottom = certificate._gershgorin_interval(S)
        accuracy = 1e-3 * (top - bottom)
        shift, estimate = certificate.randomized_shift(S, accuracy, seed=seed)
        # Valid (failure probability 1e-9), and as close as asked.
        assert -lowest <= shift <= max(0.0, -lowest) + accuracy
        assert estimate <= -lowest + 1e-9  # a Ritz value never passes the spectrum
        # Asking for a looser accuracy takes fewer steps and still bounds.
        assert certificate._lanczos_steps(S, 10 * accuracy) < certificate._lanczos_steps(
            S, accuracy)
        assert certificate.randomized_shift(S, 10 * accuracy, seed=seed)[0] >= -lowest


def test_randomized_shift_gives_up_early_above_what_it_could_certify():
    S = sp.csr_array(symmetric(300, 9))
    lowest = np.linalg.eigvalsh(S.toarray())[0]
    shift, estimate = certificate.randomized_shift(S, 1e-6, seed=0, stop_above=1.0)
    assert shift == np.inf and 1.0 < estimate <= -lowest + 1e-9


def test_which_graphs_get_the_randomized_certificate():
    import networkx as nx

    def uses(G, kind="auto", device="cpu"):
        A = nx.to_scipy_sparse_array(G, format="csr", dtype=float)
        return certificate.uses_randomized_certificate(A, device, kind)

    expander = nx.random_regular_graph(4, certificate.RANDOMIZED_MIN_NODES, seed=0)
    assert uses(expander)
    assert not uses(expander, "factorisation")
    assert not uses(nx.random_regular_graph(4, 1000, seed=0))  # a factorisation is cheap
    assert not uses(nx.grid_2d_graph(100, 100))  # small separators: the LDLᵀ does not fill
    assert uses(nx.grid_2d_graph(10, 10), "randomized")


def test_max_cut_with_a_randomized_bound_agrees_with_the_proven_one():
    import networkx as nx

    G = nx.gnm_random_graph(500, 2000, seed=3)
    proven = nx.max_cut_sdp_result(G, seed=0, certificate="factorisation", max_moves=1000)
    randomized = nx.max_cut_sdp_result(G, seed=0, certificate="randomized", max_moves=1000)
    assert (proven.bound_proof, randomized.bound_proof) == ("Cholesky", "randomized")
    assert proven.sdp_certified and randomized.sdp_certified
    # Both bound the same SDP: each is above both SDP values, within tol of its own.
    for result in (proven, randomized):
        assert result.upper_bound >= max(proven.sdp_value, randomized.sdp_value)
        assert result.upper_bound <= result.sdp_value * (1 + 1e-4)
    assert randomized.cut_value == nx.cut_size(G, *randomized.partition)


def test_a_certificate_kind_that_does_not_exist_is_named():
    import networkx as nx

    with pytest.raises(ValueError, match="`certificate` must be one of .*; got 'exact'"):
        nx.max_cut_sdp(nx.cycle_graph(4), certificate="exact")


def test_a_factor_of_too_small_a_rank_grows_along_negative_curvature(monkeypatch):
    """Failed factorisation checks whose -λ_min(S) stops halving add columns along the
    slack's negative-curvature directions (G58 and G63 at the default rank 24 ran 2 000
    iterations uncertified). With the rule off, only the numerical-stall escape adds them."""
    import networkx as nx

    from nx_gradopt.maxcut import solver

    G = nx.random_regular_graph(3, 600, seed=1)
    grown = nx.max_cut_sdp_result(G, rank=4, max_moves=0, seed=0)
    monkeypatch.setattr(solver, "RANK_CHECKS_FROM", 10**9)
    escape_only = nx.max_cut_sdp_result(G, rank=4, max_moves=0, seed=0)
    assert grown.sdp_certified and grown.bound_proof == "Cholesky"
    assert grown.factor.shape[1] > escape_only.factor.shape[1] > 4
    assert grown.iterations < escape_only.iterations / 2  # measured 398 against 1349
    # Both bound the same SDP: each bound is above both SDP values and the cut.
    for result in (grown, escape_only):
        assert result.upper_bound >= max(grown.sdp_value, escape_only.sdp_value)
        assert result.upper_bound >= nx.cut_size(G, *grown.partition)
