import csv
import dataclasses
import pathlib
import random
import time

import networkx as nx
import pytest
import torch

from nx_gradopt.connectivity import (
    EdgeBudget,
    certified_upper_bound,
    maximize_algebraic_connectivity,
)
from nx_gradopt.connectivity import lambda2 as lambda2_module
from nx_gradopt.connectivity import problem as problem_module
from nx_gradopt.connectivity.certificate import knapsack_value

from ..oracles import grid_optimum_per_budget

REFERENCE = pathlib.Path(__file__).parents[3] / "shared" / "data" / "lambda2" / "reference.csv"


def problem_of(G, budget=1.0, **options):
    index = {node: i for i, node in enumerate(G)}
    u = torch.tensor([index[a] for a, b in G.edges()])
    v = torch.tensor([index[b] for a, b in G.edges()])
    return EdgeBudget(len(G), u, v, budget, **options)


def square_grid_optimal_weights(size):
    """Fiedler's optimum on a square grid: x (size - x) on the edges between lines x - 1 and
    x, in both directions; lambda_2 = lambda_3 = 2 (the weighted path's spectrum)."""
    G = nx.grid_2d_graph(size, size)
    x = [max(a, c) if a != c else max(b, d) for (a, b), (c, d) in G.edges()]
    return G, torch.tensor([i * (size - i) for i in x], dtype=torch.float64)


@pytest.mark.parametrize("method", ["interior_point", "first_order"])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (6, 6), (5, 8)])
def test_grid_analytic_optimum(shape, method):
    problem = problem_of(nx.grid_2d_graph(*shape), 2.0)
    optimum = grid_optimum_per_budget(*shape) * 2.0
    result = maximize_algebraic_connectivity(problem, tol=1e-4, method=method)
    assert result.converged
    assert result.fun <= optimum * (1 + 1e-9)
    assert result.upper_bound >= optimum * (1 - 1e-9)
    assert result.fun >= (1 - 1e-4) * optimum
    assert float(result.x.sum()) == pytest.approx(2.0, rel=1e-12)
    assert bool((result.x >= 0).all())


@pytest.mark.parametrize("method", ["interior_point", "first_order"])
def test_star_uniform_is_optimal(method):
    problem = problem_of(nx.star_graph(6), 6.0)
    result = maximize_algebraic_connectivity(problem, tol=1e-6, method=method)
    assert result.converged
    assert result.fun == pytest.approx(1.0, rel=1e-6)
    assert result.upper_bound == pytest.approx(1.0, rel=1e-6)


def test_bound_is_valid_for_arbitrary_vectors():
    G = nx.grid_2d_graph(5, 5)
    optimum = grid_optimum_per_budget(5, 5)
    generator = torch.Generator().manual_seed(0)
    for k in (1, 3, 6):
        vectors = torch.randn(len(G), k, generator=generator, dtype=torch.float64)
        bound, z = certified_upper_bound(vectors, problem_of(G))
        assert bound >= optimum
        # With the ones vector and a repeated column among them (QR of the centred
        # vectors then left 1's complement: a bound of 0.58 times the optimum was seen).
        degenerate = torch.cat([torch.ones(len(G), 1, dtype=torch.float64), vectors,
                                vectors[:, :1]], dim=1)
        for start in (None, torch.ones(k + 2, dtype=torch.float64)):
            assert certified_upper_bound(degenerate, problem_of(G), start=start)[0] >= optimum
        assert float(torch.trace(z)) == pytest.approx(1.0)
        assert float(torch.linalg.eigvalsh(z).min()) >= -1e-12


def test_bound_is_tight_at_the_analytic_optimum():
    # At Fiedler's optimum the dual optimum lies in the span of the cluster {lambda_2,
    # lambda_3}; the small SDP over four vectors must find it.
    G, weights = square_grid_optimal_weights(6)
    problem = problem_of(G, float(weights.sum()))
    laplacian = problem.laplacian(weights).to_dense()
    _, vectors = torch.linalg.eigh(laplacian)
    bound, _ = certified_upper_bound(vectors[:, 1:5], problem)
    assert bound == pytest.approx(2.0, rel=1e-7)


@pytest.mark.parametrize("capped", [False, True])
def test_the_barrier_on_the_edges_of_largest_gain_matches_it_on_every_edge(
    capped, monkeypatch
):
    # 1 104 edges: beyond twice certificate.ACTIVE_EDGES, so the barrier runs on a subset.
    from nx_gradopt.connectivity import certificate

    G, optimal = square_grid_optimal_weights(24)
    assert G.number_of_edges() > 2 * certificate.ACTIVE_EDGES
    # Capacities of a hundredth of the budget: the knapsack spreads over 100 edges, so
    # the subset is still the 512 largest gains.
    budget = float(optimal.sum())
    options = {"capacity": torch.full_like(optimal, budget / 100)} if capped else {}
    problem = problem_of(G, budget, **options)
    # The eigenvectors of the uniform weighting: the bound of their first alone is well
    # above what the barrier finds.
    pairs = torch.linalg.eigh(problem.laplacian(problem.uniform_weights()).to_dense())
    vectors = pairs.eigenvectors[:, 1:13]
    start, _ = certified_upper_bound(vectors, problem, refine=False)
    subset, _ = certified_upper_bound(vectors, problem)
    monkeypatch.setattr(certificate, "ACTIVE_EDGES", 10**9)
    every, _ = certified_upper_bound(vectors, problem)
    assert every >= 2.0 * (1 - 1e-9)  # weak duality: the optimum is 2
    assert every < start * (1 - 1e-2)
    assert subset == pytest.approx(every, rel=1e-4)


def test_knapsack_against_linear_programming():
    scipy_optimize = pytest.importorskip("scipy.optimize")
    generator = torch.Generator().manual_seed(3)
    for _ in range(20):
        gains = torch.rand(7, generator=generator, dtype=torch.float64)
        caps = torch.rand(7, generator=generator, dtype=torch.float64)
        budget = float(caps.sum()) * 0.6
        reference = scipy_optimize.linprog(
            -gains.numpy(), A_eq=[[1.0] * 7], b_eq=[budget], bounds=list(zip([0] * 7, caps.numpy()))
        )
        assert knapsack_value(gains, caps, budget) == pytest.approx(-reference.fun, rel=1e-9)


@pytest.mark.skipif(not REFERENCE.exists(), reason="shared/data not beside the checkout")
def test_reference_values_small_tier():
    rows = [r for r in csv.DictReader(REFERENCE.open()) if r["tier"] == "small"]
    graphs = {
        "er_40": nx.gnp_random_graph(40, 0.15, seed=7),
        "barbell_10_5": nx.barbell_graph(10, 5),
    }
    for row in rows:
        name = row["case"]
        G = graphs.get(name) or nx.grid_2d_graph(*map(int, name[5:].split("x")))
        reference = float(row["lam2_per_W"])
        for method in ("first_order", "interior_point"):
            result = maximize_algebraic_connectivity(
                problem_of(G), tol=1e-3, max_iter=2000, method=method
            )
            assert result.converged, (name, method)
            assert result.fun <= reference * (1 + 1e-6), (name, method)
            assert result.upper_bound >= reference * (1 - 1e-6), (name, method)
            assert result.fun >= 0.999 * reference, (name, method)
        # The interior-point method (last) goes on to a gap of 1e-6, whatever tol.
        assert result.fun >= (1 - 1e-6) * result.upper_bound, name
        assert result.fun >= (1 - 1e-6) * reference, name


def shuffled(G, seed):
    """G with its nodes inserted in a seeded random order (its numbering scattered)."""
    nodes = list(G)
    random.Random(seed).shuffle(nodes)
    H = nx.Graph()
    H.add_nodes_from(nodes)
    H.add_edges_from(G.edges())
    return H


def laplacian_spectrum(n, u, v, weights):
    laplacian = torch.zeros(n, n, dtype=torch.float64)
    laplacian.index_put_((u, v), -weights, accumulate=True)
    laplacian.index_put_((v, u), -weights, accumulate=True)
    laplacian -= torch.diag(laplacian.sum(dim=1))
    return torch.linalg.eigvalsh(laplacian)


def test_the_local_order_renumbers_the_same_problem(monkeypatch):
    monkeypatch.setattr(problem_module, "LOCAL_ORDER_MIN_NODES", 0)
    G = shuffled(nx.grid_2d_graph(7, 7), seed=1)
    half = G.number_of_edges() // 2
    full = problem_of(G, 3.0, capacity=torch.linspace(0.1, 1.0, G.number_of_edges(),
                                                      dtype=torch.float64))
    # The second half of the edges as a base network with weights of their own.
    problem = dataclasses.replace(
        full, u=full.u[:half], v=full.v[:half], capacity=full.capacity[:half],
        base_u=full.u[half:], base_v=full.v[half:],
        base_w=torch.linspace(1.0, 2.0, full.m - half, dtype=torch.float64),
    )
    local, order, rank = problem.in_local_order()
    assert sorted(order.tolist()) == list(range(half))
    assert sorted(rank.tolist()) == list(range(49))
    # Edge k of the new problem joins the new numbers of edge order[k]'s ends.
    ends = torch.stack([rank[problem.u[order]], rank[problem.v[order]]])
    assert torch.equal(ends.min(dim=0).values, local.u)
    assert torch.equal(ends.max(dim=0).values, local.v)
    assert torch.equal(local.capacity, problem.capacity[order])
    weights = torch.linspace(0.5, 1.5, half, dtype=torch.float64)
    # Renumbering the nodes conjugates the Laplacian by a permutation: the spectrum stays.
    for (u, v, w), (lu, lv, lw) in [
        ((problem.u, problem.v, weights), (local.u, local.v, weights[order])),
        ((problem.base_u, problem.base_v, problem.base_w),
         (local.base_u, local.base_v, local.base_w)),
    ]:
        assert torch.allclose(laplacian_spectrum(49, u, v, w),
                              laplacian_spectrum(49, lu, lv, lw), atol=1e-12)
    span = lambda p: float((p.u - p.v).abs().double().mean())  # noqa: E731
    assert 2 * span(local) <= span(problem)
    # Numbered along the grid's rows already: kept as it is.
    assert problem_of(nx.grid_2d_graph(7, 7)).in_local_order() is None


def test_a_renumbered_problem_answers_on_the_callers_edges(monkeypatch, device):
    monkeypatch.setattr(problem_module, "LOCAL_ORDER_MIN_NODES", 0)
    cpu = problem_of(shuffled(nx.grid_2d_graph(6, 6), seed=2), 2.0)
    problem = EdgeBudget(cpu.n, cpu.u.to(device), cpu.v.to(device), 2.0)
    assert problem.in_local_order() is not None
    result = maximize_algebraic_connectivity(problem, tol=1e-4, method="first_order")
    assert result.converged
    assert result.x.device.type == torch.device(device).type
    # lambda_2 of the returned weights on the caller's own edges, recomputed densely.
    assert float(laplacian_spectrum(36, cpu.u, cpu.v, result.x.cpu())[1]) == pytest.approx(
        result.fun, rel=1e-9)
    # The eigenvectors come back on the caller's nodes: eigenvectors of its Laplacian there.
    laplacian = cpu.laplacian(result.x.cpu()).to_dense()
    vectors = result.vectors.cpu().double()
    values = (vectors * (laplacian @ vectors)).sum(dim=0)
    assert torch.linalg.norm(laplacian @ vectors - vectors * values) < 1e-6
    assert float(values.min()) == pytest.approx(result.fun, rel=1e-8)
    assert result.fun >= (1 - 1e-4) * grid_optimum_per_budget(6, 6) * 2.0


def record_eigen_solvers(monkeypatch, slowed=None):
    """The methods of the optimiser's eigen-solves, in order; ``slowed`` takes 0.5 s more."""
    solve, used = lambda2_module.smallest_eigenpairs, []

    def recorded(matrix, k, *, method, **options):
        used.append(method)
        if method == slowed:
            time.sleep(0.5)
        return solve(matrix, k, method=method, **options)

    monkeypatch.setattr(lambda2_module, "smallest_eigenpairs", recorded)
    return used


@pytest.mark.parametrize(("slowed", "winner"), [("shift_invert", "lanczos"),
                                                ("lanczos", "shift_invert")])
def test_where_the_factorisation_fills_in_the_faster_eigen_solver_serves(
    monkeypatch, slowed, winner
):
    """A homogeneous small world (the factorisation fills in): Lanczos and shift-invert race
    at the first two evaluations, one of them slowed here, and the other serves the rest."""
    G = nx.random_regular_graph(4, 700, seed=1)
    assert G.number_of_nodes() > lambda2_module.DENSE_MAX_NODES
    used = record_eigen_solvers(monkeypatch, slowed=slowed)
    problem = problem_of(G, float(G.number_of_edges()))
    result = maximize_algebraic_connectivity(problem, max_iter=15, method="first_order")
    assert used[:2] == ["lanczos", "shift_invert"]
    assert len(used) > 4 and set(used[2:]) == {winner}
    # The reported lambda_2 is that of the weights returned, and under the bound.
    spectrum = laplacian_spectrum(problem.n, problem.u, problem.v, result.x)
    assert float(spectrum[1]) == pytest.approx(result.fun, rel=1e-8)
    assert result.fun <= result.upper_bound


def test_where_the_factorisation_is_cheap_shift_invert_serves_alone(monkeypatch):
    G = nx.grid_2d_graph(26, 27)  # a long way across
    assert G.number_of_nodes() > lambda2_module.DENSE_MAX_NODES
    used = record_eigen_solvers(monkeypatch)
    maximize_algebraic_connectivity(problem_of(G, 1.0), max_iter=5, method="first_order")
    assert len(used) > 1 and set(used) == {"shift_invert"}


def test_an_eigen_solver_asked_for_serves_every_evaluation(monkeypatch):
    used = record_eigen_solvers(monkeypatch)
    G = nx.random_regular_graph(4, 700, seed=1)
    maximize_algebraic_connectivity(problem_of(G, 1.0), max_iter=5, method="first_order",
                                    eigen_method="lobpcg")
    assert len(used) > 1 and set(used) == {"lobpcg"}


def test_the_reported_lambda2_is_checked_from_the_solvers_eigenvectors(monkeypatch):
    """The wrapper's float64 check of lambda_2 starts from the solver's eigenvectors (cold, it
    took 4.7 s past a 60 s limit on a 20 000-node Watts-Strogatz graph) and agrees with a
    dense eigen-solve of the weights returned."""
    from nx_gradopt.core import eigensolvers

    solve, starts = eigensolvers.smallest_eigenpairs, []

    def recorded(matrix, k, **options):
        starts.append(options.get("x0"))
        return solve(matrix, k, **options)

    # The solver holds its own reference: only the wrapper's check comes through here.
    monkeypatch.setattr(eigensolvers, "smallest_eigenpairs", recorded)
    G = nx.grid_2d_graph(35, 35)  # above the sizes the interior-point method takes
    H = nx.optimize_algebraic_connectivity(G, float(G.number_of_edges()))
    assert len(starts) == 1 and starts[0] is not None
    assert starts[0].shape[0] == G.number_of_nodes()
    reference = nx.laplacian_spectrum(H, weight="weight")[1]
    assert H.graph["algebraic_connectivity"] == pytest.approx(reference, rel=1e-9)
