"""
Spectral functions: NetworkX's methods against the gradopt backend
==================================================================

``nx.algebraic_connectivity(G, backend="gradopt")`` computes the same λ₂ as NetworkX (to about
1e-12 relative), with a different eigen-solver. Each call below is timed once after a warm-up,
so read the trend rather than the digits; ``benchmarks/bench_spectral.py`` measures larger
graphs side by side.
"""

import time

import matplotlib.pyplot as plt
import networkx as nx

import nx_gradopt  # noqa: F401


def seconds(function):
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


nx.algebraic_connectivity(nx.grid_2d_graph(20, 20), backend="gradopt")  # warm-up
sides = [20, 40, 60, 80]
methods = ["tracemin_pcg", "lobpcg"]
times = {method: [] for method in [*methods, "gradopt"]}
for side in sides:
    G = nx.grid_2d_graph(side, side)
    ours, value = seconds(lambda: nx.algebraic_connectivity(G, backend="gradopt"))
    times["gradopt"].append(ours)
    for method in methods:
        theirs, reference = seconds(
            lambda: nx.algebraic_connectivity(G, method=method, tol=1e-10, seed=0)
        )
        times[method].append(theirs)
        assert abs(value - reference) <= 1e-6 * reference
    print(f"grid {side}x{side}: gradopt {ours:.3f} s, "
          + ", ".join(f"{m} {times[m][-1]:.3f} s" for m in methods))

# %%
# Time against graph size
# -----------------------

figure, axis = plt.subplots(figsize=(7, 4.5))
for method, label in (("tracemin_pcg", "NetworkX tracemin_pcg (default)"),
                      ("lobpcg", "NetworkX lobpcg"), ("gradopt", "backend='gradopt'")):
    axis.plot([s * s for s in sides], times[method], "o-", label=label)
axis.set_xscale("log")
axis.set_yscale("log")
axis.set_xlabel("nodes (square grid)")
axis.set_ylabel("seconds per call")
axis.set_title("nx.algebraic_connectivity")
axis.legend()
plt.show()
