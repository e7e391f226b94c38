"""Hypothesis strategies: graphs built by NetworkX generators from drawn seeds."""

import networkx as nx
from hypothesis import strategies as st

LABELINGS = ("int", "str", "tuple")


def relabel(G, labeling):
    if labeling == "str":
        return nx.relabel_nodes(G, {u: f"node-{u}" for u in G})
    if labeling == "tuple":
        return nx.relabel_nodes(G, {u: (u % 3, str(u)) for u in G})
    return G


@st.composite
def weighted_graphs(draw, min_nodes=1, max_nodes=14, connected=None, negative=False):
    """Random G(n, p) graphs with random positive (or signed) weights and mixed labels."""
    n = draw(st.integers(min_nodes, max_nodes))
    p = draw(st.floats(0.1, 1.0))
    seed = draw(st.integers(0, 2**31 - 1))
    G = nx.gnp_random_graph(n, p, seed=seed)
    if connected is True:
        G = nx.compose(G, nx.path_graph(n)) if n > 1 else G
    elif connected is False and n > 2:
        G.remove_edges_from(list(G.edges(0)))
    low = -3.0 if negative else 0.1
    weights = draw(st.lists(st.floats(low, 3.0).filter(lambda w: abs(w) > 1e-3),
                            min_size=G.number_of_edges(), max_size=G.number_of_edges()))
    for (u, v), w in zip(G.edges(), weights):
        G[u][v]["weight"] = w
    return relabel(G, draw(st.sampled_from(LABELINGS)))
