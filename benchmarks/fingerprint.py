"""Answers of fixed, seeded calls of every family: a fingerprint to compare two checkouts.

    PYTHONPATH=/path/to/checkout python benchmarks/fingerprint.py > a.txt   # and again, diff

A change meant to leave results alone (a refactor, a GPU-only change) should print the same
lines on the CPU, digit for digit. Takes about 15 s.
"""

import warnings

import networkx as nx

import nx_gradopt

warnings.simplefilter("ignore")
print(nx_gradopt.__file__)
G = nx.grid_2d_graph(12, 12)
H = nx.optimize_algebraic_connectivity(G, 50.0, seed=0)
print("lambda2", H.graph["algebraic_connectivity"], H.graph["upper_bound"], H.graph["iterations"])
R = nx.random_geometric_graph(150, 0.2, seed=3)
H = nx.optimize_algebraic_connectivity(R, 40.0, seed=0, capacity=1.0)
print("capacitated", H.graph["algebraic_connectivity"], H.graph["upper_bound"],
      H.graph["iterations"])
H = nx.optimize_edge_weights(G, "total_effective_resistance", 50.0)
print("resistance", H.graph["objective"], H.graph["iterations"])
r = nx.max_cut_sdp_result(nx.gnm_random_graph(300, 1200, seed=2), seed=0, chains=1,
                          max_moves=30000)
print("cut", r.cut_value, r.upper_bound, r.iterations, r.moves)
G1 = nx.gnp_random_graph(200, 0.1, seed=1)
G2 = nx.relabel_nodes(G1, {u: (u * 7) % 200 for u in G1})
res = nx.graph_match_result(G1, G2, seed=0, n_init=3)
print("goat", res.objective, res.iterations, sum(res.mapping[u] == (u * 7) % 200 for u in G1))
res = nx.graph_match_result(G1, G2, seed=0, method="faq", n_init=3)
print("faq", res.objective, res.iterations)
print("fiedler", nx.algebraic_connectivity(nx.grid_2d_graph(40, 40), backend="gradopt", seed=0))
print("spectrum", nx.laplacian_spectrum(nx.karate_club_graph(), backend="gradopt")[:4])
