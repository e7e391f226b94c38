"""
Max-cut with a certificate: the cut over time and the proven bound
==================================================================

``nx.max_cut_sdp_result`` solves the Goemans–Williamson SDP relaxation (Burer–Monteiro), proves
an upper bound on every cut from its dual, rounds the SDP solution and improves the cut by
breakout local search. NetworkX's ``one_exchange`` is a greedy local search with no bound (here
through the backend, which runs NetworkX's exact moves compiled: 29 s in pure Python on this
graph).
Below, a random graph of Gset's kind (rudy's G(n, m)) is cut with a range of time limits;
the bound says how far any cut can still be from the best one.
"""

import matplotlib.pyplot as plt
import networkx as nx

import nx_gradopt  # noqa: F401

G = nx.gnm_random_graph(400, 2400, seed=1)
greedy, _ = nx.approximation.one_exchange(G, seed=0, backend="gradopt")
limits = [0.1, 0.2, 0.4, 0.8, 1.6]
cuts, bounds = [], []
for limit in limits:
    solution = nx.max_cut_sdp_result(G, time_limit=limit, seed=0)
    cuts.append(solution.cut_value)
    bounds.append(solution.upper_bound)
    print(f"time limit {limit:4.2f} s: cut {solution.cut_value}, bound {solution.upper_bound:.1f}"
          f" (gap to the bound {solution.relative_gap:.2%})")
print(f"NetworkX one_exchange: cut {greedy}")

# %%
# The cut against the time limit
# ------------------------------

figure, axis = plt.subplots(figsize=(7, 4.5))
axis.plot(limits, bounds, "k--", label="certified upper bound (SDP dual)")
axis.plot(limits, cuts, "o-", label="max_cut_sdp: best cut")
axis.axhline(greedy, color="tab:red", label="NetworkX one_exchange")
axis.set_xscale("log")
axis.set_xlabel("time limit (s)")
axis.set_ylabel("cut weight")
axis.set_title(f"max-cut of G(n = {len(G)}, m = {G.number_of_edges()})")
axis.legend()
plt.show()
