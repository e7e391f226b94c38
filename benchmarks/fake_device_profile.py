"""Where the GPU path waits for the device and what it copies, measured on the fake CUDA device.

    python benchmarks/fake_device_profile.py

Runs each family's hot loop under ``nx_gradopt.testing.FakeCuda`` and prints host
synchronisations and bytes across the bus, in all and per call site (the busiest first), and
the float32 accuracy of the eigen-solver against float64 and exact references. These are the
figures behind the budgets in ``tests/test_device_budgets.py``. Runs on any machine in about
a minute; nothing is timed (the fake device's data live on the CPU).
"""

import math
import warnings

import networkx as nx
import numpy as np

import nx_gradopt  # noqa: F401
from nx_gradopt.core.results import ConvergenceWarning
from nx_gradopt.testing import FakeCuda


def report(title, fake, **figures):
    extra = ", ".join(f"{name} {value}" for name, value in figures.items())
    print(f"\n{title}: {fake.total_syncs()} syncs, {sum(fake.to_device.values())} bytes to the "
          f"device, {sum(fake.to_host.values())} to the host; {extra}")
    print("  syncs:  ", fake.syncs.most_common(6))
    print("  to host:", fake.to_host.most_common(4))


def geometric(n, radius, seed):
    G = nx.random_geometric_graph(n, radius, seed=seed)
    return nx.convert_node_labels_to_integers(G.subgraph(max(nx.connected_components(G), key=len)))


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    nx.config.warnings_to_ignore.add("cache")
    G = geometric(1500, 0.05, seed=5)
    with FakeCuda() as fake:
        H = nx.optimize_algebraic_connectivity(G, G.number_of_edges(), capacity=2.0, seed=0,
                                               max_iter=40, device="cuda")
    report(f"λ₂ optimisation, RGG n={len(G)} m={G.number_of_edges()}, capacity 2", fake,
           evaluations=H.graph["iterations"])

    G1 = nx.gnp_random_graph(300, 0.05, seed=1)
    G2 = nx.relabel_nodes(G1, {u: (u * 7) % 300 for u in G1})
    for method in ("faq", "goat"):
        with FakeCuda() as fake:
            result = nx.graph_match_result(G1, G2, method=method, n_init=4, seed=0,
                                           device="cuda")
        report(f"graph_match {method}, n=300, 4 starts", fake,
               iterations_of_best_start=result.iterations)

    with FakeCuda() as fake:
        result = nx.max_cut_sdp_result(nx.gnm_random_graph(800, 3000, seed=1), seed=0,
                                       max_moves=1000, device="cuda")
    report("max_cut_sdp, gnm(800, 3000)", fake, burer_monteiro_iterations=result.iterations)

    print("\nalgebraic_connectivity on the fake device (LOBPCG), relative error:")
    n = 1000
    exact = 2 * (1 - math.cos(math.pi / n))
    W = geometric(1500, 0.06, seed=1)
    rng = np.random.default_rng(0)
    for u, v in W.edges:
        W.edges[u, v]["weight"] = rng.uniform(0.1, 10)
    reference = nx.algebraic_connectivity(W, backend="gradopt", seed=0, device="cpu")
    for dtype in ("float64", "float32"):
        with warnings.catch_warnings(record=True) as caught, FakeCuda():
            warnings.simplefilter("always", ConvergenceWarning)
            path = nx.algebraic_connectivity(nx.path_graph(n), backend="gradopt", seed=0,
                                             device="cuda", dtype=dtype)
            weighted = nx.algebraic_connectivity(W, backend="gradopt", seed=0, device="cuda",
                                                 dtype=dtype)
        warned = "warned" if caught else "no warning"
        print(f"  {dtype}: path({n}) {abs(path / exact - 1):.1e} ({warned}); weighted "
              f"RGG({len(W)}) {abs(weighted / reference - 1):.1e}")


if __name__ == "__main__":
    main()
