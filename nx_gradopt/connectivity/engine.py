r"""Maximise a differentiable function of edge weights over a budget: the shared engine.

The feasible set :math:`\{0 \le w \le c,\ \sum_e w_e = B\}` is reached through box-constrained
variables :math:`x \in [0, c\,m/B]` with

.. math::

    w(x) = \frac{B}{m}\,\frac{x}{\max(\bar x, 1)}, \qquad \bar x = \tfrac1m \textstyle\sum_e x_e,

so SciPy's L-BFGS-B (Byrd, Lu, Nocedal & Zhu 1995) handles the capacities as plain bounds and
the budget by scaling. Every feasible :math:`w` is some :math:`w(x)` (take
:math:`x = w\,m/B`), and :math:`w(x)` never exceeds a capacity; points with
:math:`\bar x < 1` spend less than the budget, which the objectives here (nondecreasing in
every weight) never prefer. Quasi-Newton curvature matters: on grids it reaches the optimum
in tens of evaluations where projected (super)gradient methods take hundreds.
"""

import math
import time

import numpy as np
import scipy.optimize
import torch

from ..core.projections import spend_remainder
from ..core.progress import Progress
from ..core.results import INTERRUPTED, ConvergenceWarning, OptimizationResult
from ..core.runtime import TimeLimit, single_threaded_blas

__all__ = ["ConvergenceWarning", "maximize_over_budget", "optimize_edge_weights"]


class StopOptimization(Exception):
    """Raised from an evaluation to end the run (tolerance met, limits reached)."""


def _weights(x, problem):
    mean = max(float(x.mean()), 1.0)
    return problem.budget * x / (problem.m * mean)


def _chain_rule(x, gradient, problem):
    """Gradient in x of f(w(x)) from the gradient in w."""
    total = float(x.sum())
    if total <= problem.m:
        return gradient * (problem.budget / problem.m)
    return (problem.budget / total) * (gradient - float(gradient @ x) / total)


def maximize_over_budget(problem, value_and_gradient, start, *, max_evaluations, scale=1.0):
    """Run L-BFGS-B on ``value_and_gradient(w) -> (float, (m,) numpy gradient)`` from ``start``.

    Returns the last point's weights (a feasible (m,) numpy array) and SciPy's message; the
    caller records the best point itself. ``StopOptimization`` raised by the callable
    propagates to the caller.
    """
    caps = problem.caps.cpu().numpy() * (problem.m / problem.budget)
    x0 = np.asarray(start, dtype=float) * (problem.m / problem.budget)

    def negated(x):
        value, gradient = value_and_gradient(_weights(x, problem))
        return -scale * value, -scale * _chain_rule(x, np.asarray(gradient, dtype=float), problem)

    result = scipy.optimize.minimize(
        negated,
        np.minimum(x0, caps),
        jac=True,
        method="L-BFGS-B",
        bounds=scipy.optimize.Bounds(np.zeros_like(caps), caps),
        # Evaluations, not iterations, are the cost (one eigen-solve each); the tolerances
        # are left to the caller's certificate, so SciPy's own tests are made inactive.
        options={"maxfun": max_evaluations, "maxiter": max_evaluations, "maxcor": 20,
                 "ftol": 1e-15, "gtol": 1e-14},
    )
    return _weights(result.x, problem), result.message


def fill_budget(weights, problem):
    """Spend any budget left over (at most rounding) on edges with room, proportionally."""
    return spend_remainder(weights, problem.caps.to(weights.dtype), problem.budget)


def optimize_edge_weights(
    problem, objective, *, maximize=True, max_iter=500, ftol=1e-9, time_limit=None,
    runtime=None, started=None,
):
    """Optimise ``objective(weights, problem)`` (a differentiable torch scalar) over the budget.

    Parameters
    ----------
    problem : EdgeBudget
    objective : callable
        ``objective(weights, problem) -> torch scalar``; ``weights`` is an (m,) tensor that
        requires grad. The engine maximises it (``maximize=True``) or minimises it. For a
        maximisation the objective should not decrease when a weight grows (true of the
        connectivity objectives); otherwise the budget may be left partly unspent.
    max_iter : int
        Maximum number of objective evaluations.
    ftol : float
        Stop when an L-BFGS-B step changes the objective by less than this, relatively.
    time_limit : float, optional
        A cap in seconds: an evaluation that would end past it does not start
        (:class:`~nx_gradopt.core.runtime.TimeLimit`); the first always runs.
    runtime : Runtime, optional
        Working precision (the device is the problem's; the method draws nothing at
        random); float64 by default.
    started : float, optional
        The :func:`time.perf_counter` reading that ``time_limit`` counts from; by default
        this call's start. The NetworkX functions pass their own start, so that checking
        and converting the input count against the limit too.

    Returns
    -------
    OptimizationResult
        With ``upper_bound=None`` (general objectives carry no certificate).
    """
    start_time = time.perf_counter()
    started = start_time if started is None else started
    device = problem.u.device
    dtype = torch.float64 if runtime is None else runtime.dtype
    sign = 1.0 if maximize else -1.0
    best = {"value": -math.inf, "weights": None, "count": 0, "previous": None}
    limit = TimeLimit(time_limit, started)
    reason, converged = "", False

    def value_and_gradient(w):
        # The first evaluation (the uniform start) always runs: however short the time
        # limit, there are feasible weights to return.
        if best["count"] > 0 and not limit.next_step_fits():
            raise StopOptimization(f"time limit {time_limit:g} s reached")
        if best["count"] >= max_iter:
            raise StopOptimization(f"max_iter={max_iter} evaluations reached")
        best["count"] += 1
        weights = torch.as_tensor(w, device=device, dtype=dtype).requires_grad_(True)
        with limit.step():
            value = objective(weights, problem)
            if value.dim() != 0:
                raise ValueError(
                    f"`objective` must return a scalar; got shape {tuple(value.shape)}"
                )
            (gradient,) = torch.autograd.grad(value, weights)
        signed = sign * float(value.detach())
        if not math.isfinite(signed):
            raise ValueError(f"`objective` returned {float(value)!r}")
        if signed > best["value"]:
            best["value"], best["weights"] = signed, weights.detach().clone()
        progress("evaluation %d: best objective %.6g", best["count"], sign * best["value"])
        return signed, sign * gradient.detach().cpu().double().numpy()

    progress = Progress("optimize_edge_weights")
    start = problem.uniform_weights(dtype).cpu().numpy()
    with single_threaded_blas():  # see core.runtime
        scale = 1.0
        try:
            first, _ = value_and_gradient(start)
            scale = 1.0 / max(abs(first), 1e-300)
            previous = first
            while True:
                w, message = maximize_over_budget(
                    problem, value_and_gradient, best["weights"].cpu().numpy(),
                    max_evaluations=max(1, min(50, max_iter - best["count"])), scale=scale,
                )
                if abs(best["value"] - previous) <= ftol * max(abs(best["value"]), 1e-300):
                    converged, reason = True, f"relative change below ftol={ftol:g} ({message})"
                    break
                previous = best["value"]
        except StopOptimization as stop:
            reason = str(stop)
        except KeyboardInterrupt:
            if best["weights"] is None:  # interrupted before the first evaluation
                raise
            reason = INTERRUPTED
    progress("stopped after %d evaluations: %s", best["count"], reason, force=True)
    weights = fill_budget(best["weights"], problem)
    return OptimizationResult(
        x=weights, fun=sign * best["value"], nit=best["count"], converged=converged,
        reason=reason, time=time.perf_counter() - start_time,
    )
