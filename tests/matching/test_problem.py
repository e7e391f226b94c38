import numpy as np
import pytest
import scipy.sparse as sp
import torch

from nx_gradopt.core.runtime import Runtime
from nx_gradopt.matching import frank_wolfe as frank_wolfe_module
from nx_gradopt.matching.problem import reduce
from nx_gradopt.matching.solver import _starts


def _layer(n, density, symmetric, rng):
    matrix = sp.random(n, n, density=density, format="csr", random_state=rng)
    matrix.data = rng.uniform(0.5, 2.0, len(matrix.data))
    return (matrix + matrix.T).tocsr() if symmetric else matrix


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("density", [0.03, 0.3])  # sparse and dense operators
@pytest.mark.parametrize("starts", [1, 3])
def test_the_gradient_products_are_numpys_and_contiguous(device, symmetric, density, starts):
    # Sum over layers of A X B^T and A^T X B against NumPy's dense products. The torch
    # products come back contiguous: a transposed view made every later operation that
    # mixed it with P read it across its rows (see problem._right_multiply).
    rng = np.random.default_rng(0)
    n = 60
    a = [_layer(n, density, symmetric, rng) for _ in range(2)]
    b = [_layer(n, density, symmetric, rng) for _ in range(2)]
    problem = reduce(a, b, np.empty((0, 2), dtype=int), None, device=torch.device(device),
                     dtype=torch.float64)
    assert problem.symmetric == symmetric
    x = rng.random((starts, n, n))
    product = problem.apply(torch.tensor(x, device=device))
    transposed = problem.apply_transposed(torch.tensor(x, device=device))
    dense_a, dense_b = [m.toarray() for m in a], [m.toarray() for m in b]
    expected = sum(A @ x @ B.T for A, B in zip(dense_a, dense_b))
    expected_t = sum(A.T @ x @ B for A, B in zip(dense_a, dense_b))
    np.testing.assert_allclose(product.cpu().numpy(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(transposed.cpu().numpy(), expected_t, rtol=1e-12, atol=1e-12)
    assert product.is_contiguous() and transposed.is_contiguous()


@pytest.mark.parametrize("symmetric", [True, False])
def test_goats_iterates_stay_doubly_stochastic_when_sinkhorn_stops_unfinished(
    device, symmetric, monkeypatch
):
    # Three Sinkhorn iterations per step leave every plan off its marginals (the steps that
    # cannot finish on real networks do the same after 1000); the plans are rounded, so the
    # iterates stay doubly stochastic and the reported objective is that of the final P.
    monkeypatch.setattr(frank_wolfe_module, "SINKHORN_MIN_ITER", 3)
    monkeypatch.setattr(frank_wolfe_module, "SINKHORN_MAX_ITER", 3)
    rng = np.random.default_rng(1)
    n = 40
    a = [_layer(n, 0.1, symmetric, rng).toarray()]
    b = [_layer(n, 0.1, symmetric, rng).toarray()]
    problem = reduce(a, b, np.empty((0, 2), dtype=int), None, device=torch.device(device),
                     dtype=torch.float64)
    starts = _starts(3, n, Runtime.resolve(device, "float64", 1))
    P, iterations, *_ = frank_wolfe_module.frank_wolfe(
        problem, starts.clone(), sign=1.0, method="goat", max_iter=15, tol=1e-6)
    P = P.cpu().numpy()
    assert iterations.min() >= 3  # several steps taken
    assert P.min() >= -1e-12
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-10)
    np.testing.assert_allclose(P.sum(axis=2), 1.0, atol=1e-10)
