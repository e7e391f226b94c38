import math

import numpy as np
import ot
import pytest
import torch

from nx_gradopt.core import assignment
from nx_gradopt.core.assignment import sinkhorn_transport


def _plans(scores, reg, device, dtype, tol):
    plans, _ = sinkhorn_transport(
        torch.tensor(scores, dtype=dtype, device=device),
        torch.tensor(reg, dtype=dtype, device=device),
        tol=tol,
        max_iter=100_000,
    )
    assert plans.dtype == dtype and plans.device.type == torch.device(device).type
    return plans.cpu().double().numpy()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_sinkhorn_matches_pot(device, dtype):
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((2, 40, 40))
    reg = np.ptp(scores, axis=(1, 2)) / 20
    ones = np.ones(40)
    for score, eps, plan in zip(scores, reg, _plans(scores, reg, device, dtype, 1e-6)):
        reference = ot.sinkhorn(ones, ones, -score, eps, method="sinkhorn_log", stopThr=1e-10)
        assert np.abs(plan - reference).sum() / 40 < 1e-5


def assert_entropic_plan(score, eps, plan, tol):
    """The entropic plan is the unique one with unit marginals of the form
    exp(S / eps + a_i + b_j): check both."""
    n = len(score)
    assert np.all(plan >= 0)
    np.testing.assert_allclose(plan.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(plan.sum(axis=0), 1.0, atol=tol)
    weighty = plan > 1e-6
    log_ratio = np.where(weighty, np.log(np.where(weighty, plan, 1.0)) - score / eps, 0.0)
    for i in range(n):
        for l in range(i):
            common = weighty[i] & weighty[l]
            if common.sum() > 1:
                assert np.ptp(log_ratio[i, common] - log_ratio[l, common]) < 1e-3


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_sharp_sinkhorn_plans_satisfy_the_optimality_conditions(device, dtype):
    # Scores spanning 150 temperatures put kernel entries below float32's range (e^-87): the
    # kernel exp((S - max S) / reg) of the float64-only solver had whole columns of zeros in
    # float32. POT's log-domain solver needs minutes here, hence the optimality conditions.
    # Sharp plans converge slowly: this seed and size take 2 530 iterations.
    scores = np.random.default_rng(0).standard_normal((1, 30, 30))
    reg = np.ptp(scores, axis=(1, 2)) / 150
    for score, eps, plan in zip(scores, reg, _plans(scores, reg, device, dtype, 1e-4)):
        assert_entropic_plan(score, eps, plan, 1e-4)


def test_sinkhorn_recovers_from_float32_overflow(monkeypatch):
    # Never seen in GOAT (absorption keeps the scalings within e^+-30), so forced: without
    # absorption, scores spanning 5 000 temperatures overflow float32's scalings (e^88).
    monkeypatch.setattr(assignment, "ABSORB_EFOLDS", math.inf)
    scores = np.random.default_rng(0).standard_normal((1, 12, 12))
    reg = np.ptp(scores, axis=(1, 2)) / 5000
    plan = _plans(scores, reg, "cpu", torch.float32, 1e-4)[0]
    assert_entropic_plan(scores[0], reg[0], plan, 1e-4)


def test_sinkhorn_stops_at_its_tolerance():
    scores = torch.tensor(np.random.default_rng(1).standard_normal((1, 30, 30)))
    loose, loose_iterations = sinkhorn_transport(scores, torch.tensor([0.1]), tol=1e-2)
    tight, tight_iterations = sinkhorn_transport(
        scores, torch.tensor([0.1]), tol=1e-8, max_iter=100_000
    )
    assert loose_iterations < tight_iterations
    assert float((loose.sum(dim=1) - 1).abs().max()) < 1e-2
    assert float((tight.sum(dim=1) - 1).abs().max()) < 1e-8


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_sinkhorn_groups_stop_and_absorb_as_they_would_alone(device, dtype, monkeypatch):
    # Three groups unlike each other: a sharp one that absorbs its scalings and runs for
    # thousands of iterations (in float32 with absorption off, one whose scalings overflow
    # and recover: test_sinkhorn_recovers_from_float32_overflow's matrix), a soft one that
    # stops within ten, and one of two matrices.
    scores = np.random.default_rng(0).standard_normal((4, 12, 12))
    reg = np.ptp(scores, axis=(1, 2)) / np.array([150.0, 2.0, 20.0, 25.0])
    segments = [1, 1, 2]
    if dtype == torch.float32 and device == "cpu":  # 12 000 iterations: 30 s on a fake GPU
        monkeypatch.setattr(assignment, "ABSORB_EFOLDS", math.inf)
        reg[0] = np.ptp(scores[0]) / 5000

    def solve(rows, **options):
        return sinkhorn_transport(
            torch.tensor(scores[rows], dtype=dtype, device=device),
            torch.tensor(reg[rows], dtype=dtype, device=device), tol=1e-4, max_iter=20_000,
            **options,
        )

    together, longest = solve(slice(0, 4), segments=segments)
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5
    bounds = np.cumsum([0] + segments)
    iterations = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        alone, count = solve(slice(lo, hi))
        iterations.append(count)
        # The same iterations, checks, absorptions and recoveries: equal but for rounding
        # (torch's batched matrix-vector products round unlike a single one's). A group that
        # ran on after its stop, or stopped early, would be off by far more than this.
        np.testing.assert_allclose(together[lo:hi].cpu().double().numpy(),
                                   alone.cpu().double().numpy(), rtol=0, atol=tolerance)
    assert longest == max(iterations) and min(iterations) <= 10 < longest
    # And every plan is the entropic one.
    for score, eps, plan in zip(scores, reg, together.cpu().double().numpy()):
        assert_entropic_plan(score, eps, plan, 1e-4)


def _without_a_perfect_matching(n=8):
    """Scores whose sharp kernel has no perfect matching: rows 0-2 score high only in
    columns 0-1, so at a small temperature their other entries underflow to zero and
    Sinkhorn's rows 0-2 cannot all reach 1 (Hall's condition fails)."""
    scores = np.random.default_rng(3).standard_normal((n, n))
    scores[:3, 2:] = -1e6
    return scores


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_sinkhorn_rounds_a_plan_it_could_not_finish_onto_the_doubly_stochastic(device, dtype):
    stuck = _without_a_perfect_matching()
    easy = np.random.default_rng(4).standard_normal((8, 8))
    scores = torch.tensor(np.stack([stuck, easy]), dtype=dtype, device=device)
    reg = torch.tensor([1.0, 1.0], dtype=dtype, device=device)
    plans, iterations = sinkhorn_transport(scores, reg, tol=1e-6, max_iter=300,
                                           segments=[1, 1])
    assert iterations == 300
    stuck_plan, easy_plan = plans.cpu().double().numpy()
    # The stuck group's plan is exactly doubly stochastic (and no longer entropic: rows 0-2
    # got mass in columns the kernel had zeroed).
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5
    assert stuck_plan.min() >= 0
    np.testing.assert_allclose(stuck_plan.sum(axis=0), 1.0, atol=tolerance)
    np.testing.assert_allclose(stuck_plan.sum(axis=1), 1.0, atol=tolerance)
    assert stuck_plan[:3, 2:].sum() > 0.5
    # The group that converged is left as it was, and as it would be alone.
    alone, _ = sinkhorn_transport(scores[1:], reg[1:], tol=1e-6, max_iter=300)
    np.testing.assert_allclose(easy_plan, alone[0].cpu().double().numpy(), rtol=0,
                               atol=tolerance)
    assert_entropic_plan(easy, 1.0, easy_plan, 1e-6)


def test_sinkhorns_rounding_moves_the_plan_by_at_most_twice_its_marginal_error():
    # Altschuler, Weed & Rigollet (2017), Lemma 7: the rounded plan is within
    # 2 (||r(F) - 1||_1 + ||c(F) - 1||_1) of F in l1.
    rng = np.random.default_rng(5)
    plans = torch.tensor(rng.random((3, 20, 20)) / 10)
    error = ((plans.sum(dim=2) - 1).abs().sum(dim=1) + (plans.sum(dim=1) - 1).abs().sum(dim=1))
    rounded = assignment._rounded_to_doubly_stochastic(plans.clone())
    assert float(rounded.min()) >= 0
    np.testing.assert_allclose(rounded.sum(dim=1).numpy(), 1.0, atol=1e-12)
    np.testing.assert_allclose(rounded.sum(dim=2).numpy(), 1.0, atol=1e-12)
    moved = (rounded - plans).abs().sum(dim=(1, 2))
    assert torch.all(moved <= 2 * error + 1e-12)


def _assignment_value(score, perm):
    return float(score[np.arange(len(perm)), perm].sum())


@pytest.mark.parametrize("maximize", [True, False])
def test_linear_assignment_is_optimal_with_and_without_distinct_row_bests(device, maximize):
    """Scores near a permutation (every row's best column a different one: no solver call)
    and random scores (the solver): the value of SciPy's assignment either way."""
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(1)
    n = 30
    sign = 1.0 if maximize else -1.0
    near = sign * 5.0 * np.eye(n)[rng.permutation(n)] + rng.random((n, n))
    scores = np.stack([near, rng.random((n, n)), np.round(3 * rng.random((n, n)))])
    perms = assignment.linear_assignment(torch.tensor(scores, device=device),
                                         maximize=maximize).numpy()
    for score, perm in zip(scores, perms):
        assert sorted(perm) == list(range(n))
        reference = linear_sum_assignment(score, maximize=maximize)[1]
        assert _assignment_value(score, perm) == pytest.approx(
            _assignment_value(score, reference), abs=1e-9)
    assert perms[0].tolist() == list(np.argmax(sign * near, axis=1))


def test_linear_assignment_of_empty_scores():
    assert assignment.linear_assignment(torch.zeros((2, 0, 0))).shape == (2, 0)
