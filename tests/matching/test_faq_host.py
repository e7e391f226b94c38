"""FAQ on the host (NumPy and a compiled kernel, for small problems on the CPU) against the
torch Frank–Wolfe it stands in for, and its time limit and Ctrl-C rule."""

import math
import warnings

import numpy as np
import pytest
import scipy.optimize
import torch

from nx_gradopt.core.results import ConvergenceWarning
from nx_gradopt.core.runtime import Runtime
from nx_gradopt.matching import faq_host, quadratic_assignment
from nx_gradopt.matching import solver as solver_module
from nx_gradopt.matching.faq_host import faq_on_host
from nx_gradopt.matching.frank_wolfe import frank_wolfe
from nx_gradopt.matching.problem import reduce
from nx_gradopt.matching.solver import _starts


def random_problem(n, seeds, symmetric, rng):
    """Continuous random weights (no ties in the linear assignments), a similarity, seeds."""
    A, B = rng.random((n, n)), rng.random((n, n))
    if symmetric:
        A, B = A + A.T, B + B.T
    similarity = rng.random((n, n))
    pairs = np.column_stack([rng.permutation(n)[:seeds], rng.permutation(n)[:seeds]])
    return A, B, similarity, pairs


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_faq_on_the_host_iterates_as_the_torch_frank_wolfe(symmetric, sign):
    rng = np.random.default_rng(7)
    A, B, similarity, seeds = random_problem(25, 3, symmetric, rng)
    kwargs = dict(device=torch.device("cpu"), dtype=torch.float64)
    on_torch = reduce([A], [B], seeds, similarity, **kwargs)
    on_host = reduce([A], [B], seeds, similarity, host=True, **kwargs)
    assert isinstance(on_host.a[0], np.ndarray) and isinstance(on_torch.a[0], torch.Tensor)
    starts = _starts(5, 22, Runtime.resolve("cpu", "float64", 1))
    settings = dict(sign=sign, max_iter=30, tol=0.01)
    P, iterations, converged, best_vertex, stopped = frank_wolfe(
        on_torch, starts.clone(), method="faq", **settings)
    P_host, iterations_host, converged_host, best_vertex_host, stopped_host = faq_on_host(
        on_host, starts.clone().numpy(), **settings)
    np.testing.assert_allclose(P_host.numpy(), P.numpy(), atol=1e-9)
    np.testing.assert_array_equal(iterations_host, iterations)
    np.testing.assert_array_equal(converged_host, converged)
    np.testing.assert_array_equal(best_vertex_host, best_vertex)
    assert stopped_host is stopped is None
    assert iterations.min() >= 2  # the comparison saw several steps


def test_small_faq_on_the_cpu_takes_the_host_path_and_agrees_with_scipy(monkeypatch):
    calls = []
    monkeypatch.setattr(faq_host, "linear_sum_assignment",
                        _counting(scipy.optimize.linear_sum_assignment, calls))
    rng = np.random.default_rng(2)
    A, B, _, _ = random_problem(30, 0, True, rng)
    ours = quadratic_assignment(A, B, method="faq", max_iter=30, local_search=False)
    theirs = scipy.optimize.quadratic_assignment(A, B, method="faq")
    assert calls  # the host path ran
    # SciPy's algorithm from the same start: the same permutation (no ties with these weights).
    np.testing.assert_array_equal(ours.col_ind, theirs.col_ind)
    assert ours.fun == pytest.approx(theirs.fun)
    calls.clear()
    monkeypatch.setattr(solver_module, "SMALL_PROBLEM", 10)  # now "large": torch's path
    large = quadratic_assignment(A, B, method="faq", max_iter=30, local_search=False)
    assert not calls
    np.testing.assert_array_equal(large.col_ind, ours.col_ind)


def _counting(function, calls):
    def counted(*args, **kwargs):
        calls.append(1)
        return function(*args, **kwargs)
    return counted


def test_the_host_path_keeps_the_time_limit():
    rng = np.random.default_rng(3)
    A, B, _, _ = random_problem(40, 0, False, rng)
    result = quadratic_assignment(A, B, method="faq", max_iter=10**6, tol=0.0,
                                  local_search=False, time_limit=1e-9)
    assert result.nit == 1 and not result.converged
    assert result.reason == "time limit 1e-09 s reached"
    assert sorted(result.col_ind) == list(range(40))
    assert result.fun == pytest.approx(np.sum(A * B[np.ix_(result.col_ind, result.col_ind)]))


def test_ctrl_c_on_the_host_path_returns_the_best_permutation_with_a_warning(monkeypatch):
    calls = []

    def interrupted_on_the_third_call(matrix, maximize):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return scipy.optimize.linear_sum_assignment(matrix, maximize=maximize)

    monkeypatch.setattr(faq_host, "linear_sum_assignment", interrupted_on_the_third_call)
    rng = np.random.default_rng(4)
    A, B, _, _ = random_problem(20, 0, True, rng)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = quadratic_assignment(A, B, method="faq", tol=0.0, local_search=False)
    assert any(issubclass(w.category, ConvergenceWarning) and "interrupted" in str(w.message)
               for w in caught)
    assert result.nit == 2 and not result.converged
    assert sorted(result.col_ind) == list(range(20))
    assert math.isclose(result.fun, np.sum(A * B[np.ix_(result.col_ind, result.col_ind)]))
