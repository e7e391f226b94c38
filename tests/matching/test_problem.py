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


def test_goat_tries_a_sharper_plan_before_the_assignment(monkeypatch):
    """P is the entropic plan at a quarter of the temperature GOAT picks, so GOAT's plan (a
    blurrier one) falls short of P and the 16 times sharper one ascends. With the retry, the
    direction is that plan; without it, the linear-assignment vertex."""
    from nx_gradopt.core.assignment import sinkhorn_transport
    from nx_gradopt.matching import frank_wolfe

    rng = np.random.default_rng(3)
    m = 40
    score = torch.tensor(rng.standard_normal((1, m, m)))
    spread = score.max() - score.min()
    lead = (score.amax(dim=2) - score.mean(dim=2)).median()
    reg = torch.minimum(spread / frank_wolfe.TRANSPORT_SHARPNESS,
                        lead / frank_wolfe.ROW_SHARPNESS).reshape(1)
    P, _ = sinkhorn_transport(score, reg / 4, tol=1e-9, max_iter=100_000)
    start = float((score * P).sum())

    monkeypatch.setattr(frank_wolfe, "SHARPER_PLAN_FROM", 1)
    Q, vertex, _ = frank_wolfe._transport_direction(score, P)
    assert not vertex[0]
    assert float((score * Q).sum()) > start
    np.testing.assert_allclose(Q.sum(dim=2).numpy(), 1.0, atol=1e-2)
    np.testing.assert_allclose(Q.sum(dim=1).numpy(), 1.0, atol=1e-2)

    monkeypatch.setattr(frank_wolfe, "SHARPER_PLAN_FROM", m + 1)
    Q, vertex, perms = frank_wolfe._transport_direction(score, P)
    assert vertex[0]
    np.testing.assert_array_equal(Q[0].argmax(dim=1).numpy(), perms[0])


def _reduced_objective(a, b, similarity, perm):
    value = sum(float((A * B[np.ix_(perm, perm)]).sum()) for A, B in zip(a, b))
    return value + float(similarity[np.arange(len(perm)), perm].sum())


def test_one_step_of_the_best_response_walk_is_the_assignment_of_numpys_gradient(device):
    """Directed weighted layers and a similarity term: from each start, one step moves to
    SciPy's assignment of the gradient computed in NumPy where that raises the objective,
    and stays otherwise."""
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(5)
    n = 12
    a = [_layer(n, 0.4, False, rng).toarray() for _ in range(2)]
    b = [_layer(n, 0.4, False, rng).toarray() for _ in range(2)]
    similarity = rng.random((n, n))
    problem = reduce([sp.csr_array(x) for x in a], [sp.csr_array(x) for x in b],
                     np.empty((0, 2), dtype=int), sp.csr_array(similarity),
                     device=torch.device(device), dtype=torch.float64)
    starts = np.stack([rng.permutation(n) for _ in range(6)])
    # Where a long walk ended, a step cannot improve.
    ended, _ = frank_wolfe_module.best_response_walk(problem, starts[:1], sign=1.0,
                                                    max_steps=100)
    starts = np.concatenate([starts, ended])
    walked, _ = frank_wolfe_module.best_response_walk(problem, starts, sign=1.0, max_steps=1)
    moves = 0
    for start, result in zip(starts, walked):
        X = np.eye(n)[start]
        gradient = sum(A @ X @ B.T + A.T @ X @ B for A, B in zip(a, b)) + similarity
        step = linear_sum_assignment(gradient, maximize=True)[1]
        before = _reduced_objective(a, b, similarity, start)
        if _reduced_objective(a, b, similarity, step) > before:
            np.testing.assert_array_equal(result, step)
            moves += 1
        else:
            np.testing.assert_array_equal(result, start)
    assert 0 < moves < len(starts)  # both branches were exercised


def _half_matched_pair(rng, n):
    """A dense correlated pair (node i of A is node truth[i] of B) and a start right on
    half the nodes."""
    parent = np.triu(rng.random((n, n)) < 0.3, 1)
    a, b0 = (np.triu(parent & (rng.random((n, n)) < 0.9), 1) for _ in range(2))
    a, b0 = (x + x.T for x in (a.astype(float), b0.astype(float)))
    truth = rng.permutation(n)
    b = np.empty_like(b0)
    b[np.ix_(truth, truth)] = b0
    start = truth.copy()
    shuffled = rng.choice(n, n // 2, replace=False)
    start[shuffled] = truth[rng.permutation(shuffled)]
    return a, b, truth, start


def test_ctrl_c_stops_the_best_response_walk_with_the_permutations_reached(monkeypatch):
    """Ctrl-C in the second step's assignment: the first step's permutation comes back,
    better than the start, with the walk marked interrupted."""
    a, b, truth, start = _half_matched_pair(np.random.default_rng(7), 80)
    problem = reduce([sp.csr_array(a)], [sp.csr_array(b)], np.empty((0, 2), dtype=int), None,
                     device=torch.device("cpu"), dtype=torch.float64)
    assignments = []
    solve = frank_wolfe_module.linear_assignment

    def interrupted_second(score, **options):
        assignments.append(1)
        if len(assignments) == 2:
            raise KeyboardInterrupt
        return solve(score, **options)

    monkeypatch.setattr(frank_wolfe_module, "linear_assignment", interrupted_second)
    walked, interrupted = frank_wolfe_module.best_response_walk(problem, start[None], sign=1.0,
                                                                max_steps=10)
    assert interrupted and len(assignments) == 2
    monkeypatch.setattr(frank_wolfe_module, "linear_assignment", solve)
    one_step, _ = frank_wolfe_module.best_response_walk(problem, start[None], sign=1.0,
                                                        max_steps=1)
    np.testing.assert_array_equal(walked, one_step)
    assert _reduced_objective([a], [b], np.zeros((80, 80)), walked[0]) > _reduced_objective(
        [a], [b], np.zeros((80, 80)), start)


def test_the_best_response_walk_recovers_a_correlated_pair_from_half_its_matches(device):
    """Half the nodes matched right is enough for a dense correlated pair: the walk ends at
    the true map (the pair's maximiser here, checked against it), and minimising the
    negated objective walks the same way."""
    a, b, truth, start = _half_matched_pair(np.random.default_rng(7), 80)
    for sign, layers in ((1.0, ([a], [b])), (-1.0, ([-a], [b]))):
        problem = reduce([sp.csr_array(x) for x in layers[0]], [sp.csr_array(layers[1][0])],
                         np.empty((0, 2), dtype=int), None, device=torch.device(device),
                         dtype=torch.float64)
        walked, interrupted = frank_wolfe_module.best_response_walk(
            problem, start[None], sign=sign, max_steps=10)
        np.testing.assert_array_equal(walked[0], truth)
        assert not interrupted
