import dataclasses
import itertools
import random

import networkx as nx
import numpy as np
import pytest
import torch

from nx_gradopt.connectivity import certified_upper_bound, maximize_algebraic_connectivity
from nx_gradopt.connectivity.twins import _twin_classes, twins_of
from nx_gradopt.connectivity import unfolding
from nx_gradopt.connectivity.unfolding import unfolding_iterates
from nx_gradopt.connectivity.problem import EdgeBudget
from nx_gradopt.core.eigensolvers import smallest_eigenpairs
from nx_gradopt.core.runtime import Runtime, single_threaded_blas, torch_generator

from .test_lambda2 import problem_of


def twinned_graph(seed, core=20):
    """A small-world core with groups of leaves on one hub (false twins), nodes sharing
    two or three neighbours (false twins too) and adjacent pairs on the same neighbours
    (true twins)."""
    rng = random.Random(seed)
    G = nx.connected_watts_strogatz_graph(core, 4, 0.3, seed=seed)
    label = itertools.count(core)
    for _ in range(4):
        hub = rng.randrange(core)
        G.add_edges_from((hub, next(label)) for _ in range(rng.randint(2, 5)))
    for _ in range(3):
        shared = rng.sample(range(core), rng.randint(2, 3))
        for _ in range(rng.randint(2, 3)):
            new = next(label)
            G.add_edges_from((new, s) for s in shared)
    for _ in range(2):
        shared = rng.sample(range(core), 2)
        a, b = next(label), next(label)
        G.add_edge(a, b)
        G.add_edges_from((t, s) for t in (a, b) for s in shared)
    return nx.convert_node_labels_to_integers(G)


def brute_force_classes(G):
    """Twins by definition: u and v are twins when N(u) - {v} = N(v) - {u}."""
    classes = nx.utils.UnionFind(G)
    for a, b in itertools.combinations(G, 2):
        if set(G[a]) - {b} == set(G[b]) - {a}:
            classes.union(a, b)
    return {frozenset(c) for c in classes.to_sets()}


def labels_to_sets(labels):
    sets = {}
    for node, label in enumerate(labels):
        sets.setdefault(label, set()).add(node)
    return {frozenset(s) for s in sets.values()}


@pytest.mark.parametrize("seed", range(4))
def test_twin_classes_are_the_twins_by_definition(seed):
    G = twinned_graph(seed)
    problem = problem_of(G)
    labels = _twin_classes(problem.n, problem.u.numpy(), problem.v.numpy())
    assert labels_to_sets(labels) == brute_force_classes(G)
    assert any(len(c) > 1 for c in brute_force_classes(G))


def test_problems_the_symmetry_does_not_fit_have_no_twins():
    G = twinned_graph(0)
    m = G.number_of_edges()
    assert twins_of(problem_of(G)) is not None
    capped = problem_of(G, capacity=torch.ones(m, dtype=torch.float64))
    assert twins_of(capped) is None
    assert twins_of(problem_of(nx.cycle_graph(7))) is None  # no twins at all


@pytest.mark.parametrize("seed", range(3))
def test_the_spectrum_splits_into_the_classes_and_the_rest(seed):
    # For symmetric weights the Laplacian's spectrum is the twin Laplacian's smallest
    # eigenvalues (those on vectors constant on every class) plus each class's tau_c,
    # k_c - 1 times; checked against NumPy's dense spectrum.
    G = twinned_graph(seed)
    problem = problem_of(G)
    twins = twins_of(problem)
    generator = torch.Generator().manual_seed(seed)
    weights = twins.symmetrize(torch.rand(problem.m, generator=generator, dtype=torch.float64))
    full = np.linalg.eigvalsh(problem.dense_laplacian(weights).numpy())
    reduced = np.linalg.eigvalsh(twins.laplacian(weights).to_dense().numpy())
    sizes = twins.sizes.numpy()
    quotient = problem.n - int((sizes - 1).sum())
    assert reduced[quotient - 1] < reduced[quotient]  # the gap alpha opens
    own = np.repeat(twins.eigenvalues(weights).numpy(), sizes - 1)
    np.testing.assert_allclose(np.sort(np.concatenate([reduced[:quotient], own])), full,
                               atol=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_symmetrizing_never_lowers_lambda2(seed):
    G = twinned_graph(seed)
    problem = problem_of(G)
    twins = twins_of(problem)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(5):
        weights = torch.rand(problem.m, generator=generator, dtype=torch.float64)
        symmetric = twins.symmetrize(weights)
        assert float(symmetric.sum()) == pytest.approx(float(weights.sum()), rel=1e-12)
        before = np.linalg.eigvalsh(problem.dense_laplacian(weights).numpy())[1]
        after = np.linalg.eigvalsh(problem.dense_laplacian(symmetric).numpy())[1]
        assert after >= before - 1e-12


def test_bounds_with_the_twin_part_hold():
    # Any split of X between eigenvectors and the classes' projectors is a certificate:
    # never below the interior-point method's certified optimum (an independent solver).
    G = twinned_graph(1)
    problem = problem_of(G, budget=2.0)
    twins = twins_of(problem)
    reference = maximize_algebraic_connectivity(problem, method="interior_point", tol=1e-8)
    assert reference.gap <= 1e-7
    generator = torch.Generator().manual_seed(0)
    for share in (0.0, 0.3, 0.9):
        vectors = torch.randn(problem.n, 5, generator=generator, dtype=torch.float64)
        shares = torch.rand(twins.count, generator=generator, dtype=torch.float64)
        shares = share * shares / shares.sum()
        bound, _ = certified_upper_bound(vectors, problem, refine=False,
                                         extra=(twins.gains(shares), float(shares.sum())))
        assert bound >= reference.fun * (1 - 1e-9)
    with pytest.raises(ValueError, match="refine"):
        certified_upper_bound(vectors, problem, extra=(twins.gains(shares), 0.5))
    based = dataclasses.replace(problem, base_u=problem.u[:1], base_v=problem.v[:1],
                                base_w=torch.ones(1, dtype=torch.float64))
    with pytest.raises(ValueError, match="base network"):
        certified_upper_bound(vectors, based, refine=False, extra=(twins.gains(shares), 0.5))


def test_the_unfolding_with_twin_spreads_closes_on_the_optimum():
    # The dual's embedding spreads each class by one number: valid bounds at every step,
    # closing onto the interior-point optimum, with feasible multipliers.
    G = twinned_graph(2)
    G.add_edges_from((0, leaf) for leaf in range(len(G), len(G) + 12))
    problem = problem_of(G, budget=1.0)
    twins = twins_of(problem)
    reference = maximize_algebraic_connectivity(problem, method="interior_point", tol=1e-8)
    optimum, n = reference.fun, problem.n
    weights = problem.uniform_weights()
    null = torch.full((n,), n**-0.5, dtype=torch.float64)
    pairs = smallest_eigenpairs(twins.laplacian(weights), 4, null_vector=null)
    value = min(float(pairs.values[0]), float(twins.eigenvalues(weights).min()))
    mixing = torch.full((4 + twins.count,), 1.0 / (4 + twins.count), dtype=torch.float64)
    steps = unfolding_iterates(problem, weights, value, pairs.vectors, mixing, twins=twins)
    with single_threaded_blas():
        iterates = list(itertools.islice(steps, 20))
    for candidate, bound in iterates:
        assert bound >= optimum * (1 - 1e-9)
        assert float(candidate.sum()) == pytest.approx(1.0, rel=1e-12)
        assert bool((candidate >= 0).all())
    assert min(bound for _, bound in iterates) <= optimum * (1 + 1e-3)


def test_the_solver_certifies_a_graph_of_twins():
    # First-order method alone (the twin reduction is its, not the interior point's),
    # against the interior-point method's certified optimum.
    G = twinned_graph(3)
    problem = problem_of(G, budget=3.0)
    reference = maximize_algebraic_connectivity(problem, method="interior_point", tol=1e-8)
    result = maximize_algebraic_connectivity(problem, method="first_order", tol=1e-4,
                                             max_iter=2000)
    assert result.converged
    assert result.fun <= reference.fun * (1 + 1e-9) <= result.upper_bound * (1 + 2e-9)
    assert result.fun >= reference.fun * (1 - 1e-4)
    exact = np.linalg.eigvalsh(problem.dense_laplacian(result.x).numpy())[1]
    assert exact == pytest.approx(result.fun, rel=1e-8)
    assert float(result.x.sum()) == pytest.approx(3.0, rel=1e-12)


def test_the_lagrangian_gradient_with_spreads_is_its_derivative(monkeypatch):
    # The spreads' gradient is written by hand; autograd on the Lagrangian's value is the
    # reference, at the start and at a point with multipliers and spreads of all sizes.
    G = twinned_graph(0)
    problem = problem_of(G, budget=1.0)
    twins = twins_of(problem)
    seen = []

    def capture(lagrangian, x, deadline=None, iterations=None):
        seen.append((lagrangian, x.clone()))
        return x + 0.01 * torch.randn(x.shape, generator=generator, dtype=x.dtype)

    generator = torch.Generator().manual_seed(0)
    monkeypatch.setattr(unfolding, "_minimize_with_scipy", capture)
    monkeypatch.setattr(unfolding, "_minimize_with_torch", capture)
    weights = problem.uniform_weights()
    n = problem.n
    pairs = smallest_eigenpairs(twins.laplacian(weights), 4,
                                null_vector=torch.full((n,), n**-0.5, dtype=torch.float64))
    mixing = torch.rand(4 + twins.count, generator=generator, dtype=torch.float64)
    steps = unfolding_iterates(problem, weights, float(pairs.values[0]), pairs.vectors,
                               mixing / mixing.sum(), twins=twins)
    list(itertools.islice(steps, 3))
    for lagrangian, x in seen:
        point = x.clone().requires_grad_(True)
        value, gradient = lagrangian(point)
        (reference,) = torch.autograd.grad(value, point)
        torch.testing.assert_close(gradient, reference, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_the_twin_path_on_every_device(device, dtype):
    # The first-order method with twins on the device (fake CUDA checks that every tensor
    # stays there), against the CPU interior-point optimum.
    G = twinned_graph(0)
    cpu = problem_of(G, budget=2.0)
    reference = maximize_algebraic_connectivity(cpu, method="interior_point", tol=1e-8)
    problem = EdgeBudget(cpu.n, cpu.u.to(device), cpu.v.to(device), 2.0)
    runtime = Runtime(torch.device(device), dtype, torch_generator(0))
    result = maximize_algebraic_connectivity(problem, method="first_order", tol=1e-3,
                                             max_iter=400, runtime=runtime)
    assert result.x.device.type == torch.device(device).type
    weights = result.x.cpu().double()
    exact = np.linalg.eigvalsh(cpu.dense_laplacian(weights).numpy())[1]
    assert exact == pytest.approx(result.fun, rel=1e-6 if dtype == torch.float64 else 1e-3)
    assert result.upper_bound >= reference.fun * (1 - 1e-6)
    assert exact >= reference.fun * (1 - 2e-3)
