"""
Many problems at once: a significance test for an alignment
===========================================================

How surprising is it that two networks align well? Align the network with many randomised
copies of itself (the same degrees, edges rewired) and compare. ``nx_gradopt.solve_many``
runs the whole batch with one call, each problem with its own seed drawn from one: here in
this process; with ``n_jobs=-1`` on every core; with ``client=`` on a Dask cluster, with the
same answers. The problems all have 15 nodes, so ``batch_size`` groups them: their
Frank–Wolfe iterations run as one batch, with the answers of one problem at a time.
"""

import matplotlib.pyplot as plt
import networkx as nx

import nx_gradopt

G = nx.florentine_families_graph()
H = nx.relabel_nodes(G, {u: u.upper() for u in G})  # the same network, renamed


def conserved(mapping, G1, G2):
    """How many of G1's edges the mapping sends onto edges of G2."""
    return sum(G2.has_edge(mapping[u], mapping[v]) for u, v in G1.edges())


rewired = [
    nx.relabel_nodes(nx.double_edge_swap(G.copy(), nswap=40, max_tries=10_000, seed=k),
                     {u: u.upper() for u in G})
    for k in range(60)
]
problems = [(G, H)] + [(G, R) for R in rewired]
mappings = nx_gradopt.solve_many(nx.graph_match, problems, seed=0, options={"n_init": 4},
                                 batch_size=len(problems))
scores = [conserved(m, *problem) for m, problem in zip(mappings, problems)]
print(f"the renamed copy: {scores[0]} of {G.number_of_edges()} edges conserved")
print(f"rewired copies: {min(scores[1:])} to {max(scores[1:])}")

# %%
# The real alignment against the rewired ones
# -------------------------------------------

figure, axis = plt.subplots(figsize=(7, 4))
axis.hist(scores[1:], bins=range(min(scores[1:]), G.number_of_edges() + 2), color="tab:blue",
          label="60 degree-preserving rewirings")
axis.axvline(scores[0], color="tab:red", label="the renamed network itself")
axis.set_xlabel("edges conserved by the alignment")
axis.set_ylabel("copies")
axis.set_title("Florentine families: alignment against randomised copies")
axis.legend()
plt.show()
