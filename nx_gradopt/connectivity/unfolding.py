r"""The dual of the algebraic-connectivity problem as a graph embedding, solved low-rank.

Without capacities or a base network, the optimum is :math:`\lambda_2^* = B / T^*` with

.. math::

    T^* = \max_{V \in \mathbb R^{n \times r}} \ \|PV\|_F^2 \quad \text{s.t.} \quad
    \|V_u - V_v\|^2 \le 1 \ \text{for every candidate edge } (u, v),

:math:`P = I - \mathbf 1\mathbf 1^\top/n`: the maximum variance unfolding of the graph (Sun,
Boyd, Xiao & Diaconis 2006), here in Burer–Monteiro form (:math:`X = VV^\top`). Its edge
multipliers :math:`y` are the optimal weights up to scale: stationarity reads
:math:`L(y)\,V = PV`, i.e. :math:`\lambda_2(L(y)) = 1` on the embedding's span.

We run the augmented Lagrangian method (Hestenes–Powell; Burer & Monteiro 2003 for SDPs),

.. math::

    V_{k+1} = \arg\min_V -\|PV\|_F^2 + \frac{1}{2\sigma}\sum_e
        \big[\max(0, y_e + \sigma(g_e(V) - 1))^2 - y_e^2\big], \qquad
    y_{k+1} = \max(0, y_k + \sigma(g(V_{k+1}) - 1)),

inner problems by L-BFGS. Every iterate is useful whatever its accuracy: any :math:`V` gives
the valid bound :math:`\lambda_2^* \le B \max_e g_e(V) / \|PV\|_F^2` (weak duality), and
:math:`B\,y / \sum_e y_e` is a feasible weighting whose :math:`\lambda_2` the caller measures.
Where the optimal weights vanish on many edges (random geometric graphs: three quarters of
them) this closes the gap that a primal method, which must drive those weights to zero one
bound at a time, leaves open.
"""

import scipy.optimize
import torch

# sigma relative to the mean multiplier. Measured on a 2 000-node random geometric graph:
# 30 and 100 left a gap of 1-2% after 15 and 10 outer steps, 1 000 reached 6e-4 after 4.
PENALTY = 1000.0
# L-BFGS iterations per inner problem. Certifying that graph to 1e-3 took 6.5 s with 250
# and 6.8 s with 500 (fewer outer steps), 10.1 s with 1 000.
INNER_ITERATIONS = 500


def _incidence(problem, dtype):
    """(m, n) signed incidence matrix D, so that ``D @ V`` holds the edge differences."""
    m, device = problem.m, problem.u.device
    rows = torch.arange(m, device=device).repeat_interleave(2)
    cols = torch.stack([problem.u, problem.v], dim=1).reshape(-1)
    values = torch.tensor([1.0, -1.0], device=device, dtype=dtype).repeat(m)
    coo = torch.sparse_coo_tensor(
        torch.stack([rows, cols]), values, (m, problem.n), check_invariants=False
    )
    return coo.coalesce().to_sparse_csr(), coo.t().coalesce().to_sparse_csr()


# Embedding entries (n x rank) from which a GPU runs the inner problems itself. SciPy's
# L-BFGS-B copies the embedding and its gradient across the bus at every evaluation (690 MB
# on a 1 500-node graph, fake device) with 2 waits; torch's L-BFGS copies nothing but waits
# about 4 times as often (35 862 against 9 138 waits there). At ~25 GB/s and ~15 us a wait
# the copies cost more from about 1.4e5 entries: a model, not yet a GPU measurement.
DEVICE_INNER_MIN_ENTRIES = 100_000


def inner_problems_on_host(embedding):
    """Whether the inner problems go to SciPy's L-BFGS-B rather than torch's on the device.

    On the CPU both certified random geometric graphs of 800 and 2 000 nodes in the same
    86 and 71 evaluations (gaps 9.4e-4 both; 7.8e-4 and 8.2e-4), torch's in 1.1-1.4x the
    time: SciPy's stays the CPU method.
    """
    return embedding.device.type == "cpu" or embedding.numel() < DEVICE_INNER_MIN_ENTRIES


def _minimize_on_host(lagrangian, embedding):
    shape, device = embedding.shape, embedding.device

    def value_and_gradient(x):
        value, gradient = lagrangian(torch.from_numpy(x).to(device).view(shape))
        return float(value), gradient.cpu().numpy().ravel()

    result = scipy.optimize.minimize(
        value_and_gradient, embedding.cpu().numpy().ravel(), jac=True, method="L-BFGS-B",
        options={"maxiter": INNER_ITERATIONS, "maxfun": 2 * INNER_ITERATIONS, "maxcor": 10,
                 "ftol": 1e-13, "gtol": 1e-12},
    )
    return torch.from_numpy(result.x).to(device).view(shape)


def _minimize_on_device(lagrangian, embedding):
    # torch's L-BFGS with a strong Wolfe line search, set to SciPy's limits above (its
    # change tolerance is absolute: SciPy's relative ftol times the starting value).
    x = embedding.clone()

    def closure():
        value, x.grad = lagrangian(x)
        return value

    start, _ = lagrangian(x)
    optimizer = torch.optim.LBFGS(
        [x], lr=1.0, max_iter=INNER_ITERATIONS, max_eval=2 * INNER_ITERATIONS,
        tolerance_grad=1e-12, tolerance_change=1e-13 * max(abs(float(start)), 1.0),
        history_size=10, line_search_fn="strong_wolfe",
    )
    optimizer.step(closure)
    return x.detach()


def unfolding_iterates(problem, weights, value, vectors, mixing):
    """Augmented Lagrangian steps from a primal point; yields ``(weights, upper_bound)``.

    In float64 whatever the working precision: in float32 the Lagrangian is quantised, and
    383 of 404 inner L-BFGS-B runs on one graph stopped at their first step (gap 1.3e-2
    where float64 certified 2.3e-4). Its data are only n x rank.

    Parameters
    ----------
    problem : EdgeBudget
        Without capacities or base network.
    weights, value : torch.Tensor, float
        A feasible weighting and its lambda_2 (> 0): the starting multipliers.
    vectors, mixing : torch.Tensor
        (n, k) eigenvectors of that weighting's smallest nontrivial eigenvalues and (k,)
        nonnegative weights for them: the starting embedding.

    Yields
    ------
    (torch.Tensor, float)
        A feasible weighting (float64, the whole budget spent) and a certified upper bound
        on the optimum, once per outer step; the caller stops the generator.
    """
    dtype = torch.float64
    if problem.capacity is not None or problem.base_w is not None:
        raise ValueError("the unfolding dual has no capacities or base network")
    budget = problem.budget
    incidence, transpose = _incidence(problem, dtype)
    multipliers = weights.to(dtype) / value
    embedding = vectors.to(dtype) * (mixing.to(dtype) + 1e-2 / mixing.numel()).sqrt()

    def geometry(v):
        """Edge differences, squared edge lengths and the centred embedding."""
        differences = incidence @ v
        return differences, (differences * differences).sum(dim=1), v - v.mean(dim=0)

    _, lengths, embedding = geometry(embedding)
    embedding = embedding / lengths.max().sqrt()
    sigma = PENALTY * float(multipliers.mean())

    def lagrangian(v):
        """The augmented Lagrangian and its gradient at the embedding v, on its device."""
        differences, lengths, centred = geometry(v)
        shifted = (multipliers + sigma * (lengths - 1.0)).clamp_min(0.0)
        value = -(centred * centred).sum() + (
            (shifted * shifted).sum() - (multipliers * multipliers).sum()) / (2.0 * sigma)
        gradient = 2.0 * (transpose @ (differences * shifted[:, None]) - centred)
        return value, gradient

    on_host = inner_problems_on_host(embedding)
    minimize = _minimize_on_host if on_host else _minimize_on_device
    while True:
        embedding = minimize(lagrangian, embedding)
        _, lengths, centred = geometry(embedding)
        multipliers = (multipliers + sigma * (lengths - 1.0)).clamp_min(0.0)
        bound = budget * float(lengths.max()) / float((centred * centred).sum())
        total = float(multipliers.sum())
        candidate = budget * multipliers / total if total > 0 else weights
        yield candidate, bound
