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
