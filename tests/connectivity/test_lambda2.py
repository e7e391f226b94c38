import csv
import pathlib

import networkx as nx
import pytest
import torch

from nx_gradopt.connectivity import certified_upper_bound, maximize_algebraic_connectivity

from ..oracles import grid_optimum_per_budget

REFERENCE = pathlib.Path(__file__).parents[3] / "shared" / "data" / "lambda2" / "reference.csv"


def edges(G):
    index = {node: i for i, node in enumerate(G)}
    u = torch.tensor([index[a] for a, b in G.edges()])
    v = torch.tensor([index[b] for a, b in G.edges()])
    return len(G), u, v


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (6, 6)])
def test_grid_analytic_optimum(shape):
    n, u, v = edges(nx.grid_2d_graph(*shape))
    optimum = grid_optimum_per_budget(*shape) * 2.0
    result = maximize_algebraic_connectivity(n, u, v, 2.0, max_iter=300, tol=1e-4, seed=0)
    assert result.fun <= optimum * (1 + 1e-9)
    assert result.upper_bound >= optimum * (1 - 1e-9)
    assert result.fun >= 0.999 * optimum
    assert float(result.x.sum()) == pytest.approx(2.0, rel=1e-12)
    assert bool((result.x >= 0).all())


def test_star_uniform_is_optimal():
    n, u, v = edges(nx.star_graph(6))
    result = maximize_algebraic_connectivity(n, u, v, 6.0, seed=0)
    assert result.converged
    assert result.fun == pytest.approx(1.0, rel=1e-9)


def test_bound_is_valid_for_arbitrary_vectors():
    n, u, v = edges(nx.grid_2d_graph(5, 5))
    optimum = grid_optimum_per_budget(5, 5)
    generator = torch.Generator().manual_seed(0)
    for k in (1, 3, 6):
        vectors = torch.randn(n, k, generator=generator, dtype=torch.float64)
        bound, z = certified_upper_bound(vectors, u, v, 1.0, iterations=50)
        assert bound >= optimum
        assert float(torch.trace(z)) == pytest.approx(1.0)
        assert float(torch.linalg.eigvalsh(z).min()) >= -1e-12


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
        n, u, v = edges(G)
        result = maximize_algebraic_connectivity(n, u, v, 1.0, max_iter=300, tol=1e-3, seed=0)
        assert result.fun <= float(row["lam2_per_W"]) * (1 + 1e-6)
        assert result.upper_bound >= float(row["lam2_per_W"]) * (1 - 1e-6)
        assert result.fun >= 0.99 * float(row["lam2_per_W"]), name
