"""
λ₂ on a grid: the optimised weights against Fiedler's exact optimum
====================================================================

The algebraic connectivity λ₂ of a graph measures how well connected it is (how fast diffusion
mixes, how robust consensus is). Given a total edge weight to spend, which weighting makes λ₂
largest? On a path, and on a grid where every row is a path, the answer is known exactly: the
weight between columns x − 1 and x is proportional to x (R − x).
``nx.optimize_algebraic_connectivity`` finds it without being told, and certifies how close it
got.
"""

import matplotlib.pyplot as plt
import networkx as nx

import nx_gradopt  # noqa: F401  (adds nx.optimize_algebraic_connectivity)

R = 12
G = nx.grid_2d_graph(R, R)
budget = float(G.number_of_edges())  # a mean weight of 1: uniform weights are feasible
H = nx.optimize_algebraic_connectivity(G, budget, seed=0)

uniform = nx.algebraic_connectivity(G, method="tracemin_lu")
optimum = 6.0 / (R * R * (R * R - 1)) * budget
print(f"uniform weights   lambda_2 = {uniform:.5f}")
print(f"optimised         lambda_2 = {H.graph['algebraic_connectivity']:.5f}")
print(f"certified bound   lambda_2 <= {H.graph['upper_bound']:.5f}")
print(f"exact optimum     lambda_2 = {optimum:.5f}")

# %%
# The weighted grid, and the horizontal weights against x (R − x)
# -----------------------------------------------------------------

weights = [w for *_, w in H.edges(data="weight")]
figure, (grid, profile) = plt.subplots(1, 2, figsize=(11, 5))
nx.draw_networkx_edges(H, {node: node for node in H}, ax=grid, edge_color=weights,
                       width=[0.5 + 4 * w / max(weights) for w in weights])
grid.set_title("edge width and colour: optimised weight")
grid.set_axis_off()
columns = range(1, R)
mean = [sum(H.edges[(x - 1, y), (x, y)]["weight"] for y in range(R)) / R for x in columns]
exact = [x * (R - x) for x in columns]
scale = sum(mean) / sum(exact)
profile.plot(columns, mean, "o", label="optimised (mean over rows)")
profile.plot(columns, [scale * e for e in exact], "-", label="x (R − x), scaled")
profile.set_xlabel("column x of the edge ((x − 1, y), (x, y))")
profile.set_ylabel("horizontal edge weight")
profile.legend()
plt.show()
