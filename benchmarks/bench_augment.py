"""Add k edges to maximise lambda_2: nx.augment_algebraic_connectivity against the greedy
Fiedler heuristic, side by side in one run.

    python benchmarks/bench_augment.py [--real ../shared/data/realdata/networks]
        [--ks 1,5,20] [--time-limit 60] [--only karate ...]

Every case adds k of the graph's non-edges (unit weights). Columns: lambda_2 of the graph;
of Ghosh and Boyd's greedy heuristic (k times, add the non-edge that stretches the current
Fiedler vector most), written here on NetworkX's ``fiedler_vector`` (``tracemin_lu``,
tol 1e-10); of ``augment_algebraic_connectivity`` (default tol 1e-2, ``--time-limit``); its
certified upper bound, relative gap and the relaxation's own gap; for k = 1 on graphs of at
most 100 nodes, the exact best edge by brute force (every non-edge, SciPy's ``eigvalsh``).
``--real FOLDER`` adds the real networks of at most 500 nodes (largest component).
"""

import argparse
import pathlib
import sys
import time
import warnings

import networkx as nx
import numpy as np
import scipy.linalg

import nx_gradopt  # noqa: F401

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from bench_lambda2 import real_networks  # noqa: E402

BRUTE_FORCE_MAX_NODES = 100


def cases(folder):
    yield "karate", nx.karate_club_graph()
    yield "davis_women", nx.davis_southern_women_graph()
    yield "les_miserables", nx.les_miserables_graph()
    yield "random_tree_100", nx.random_labeled_tree(100, seed=1)
    yield "watts_strogatz_200", nx.connected_watts_strogatz_graph(200, 4, 0.1, seed=1)
    if folder is not None:
        for name, G in real_networks(folder):
            if len(G) <= 500:
                yield name, G


def unweighted(G):
    H = nx.Graph()
    H.add_nodes_from(G)
    H.add_edges_from(G.edges())
    return H


def greedy_fiedler(G, k):
    """Ghosh and Boyd's heuristic on NetworkX: k times, add the non-edge (u, v) of largest
    (v_u - v_v)^2, v the current Fiedler vector. Returns lambda_2 of the result."""
    H = G.copy()
    nodes = list(H)
    for _ in range(k):
        fiedler = dict(zip(nodes, nx.fiedler_vector(H, weight=None, tol=1e-10, seed=0)))
        best = max(nx.non_edges(H), key=lambda e: (fiedler[e[0]] - fiedler[e[1]]) ** 2)
        H.add_edge(*best)
    return nx.algebraic_connectivity(H, weight=None, tol=1e-10, seed=0)


def best_single_edge(G):
    """The exact best non-edge to add, by trying each one (dense Laplacians)."""
    nodes = list(G)
    index = {node: i for i, node in enumerate(nodes)}
    laplacian = nx.laplacian_matrix(G, nodelist=nodes, weight=None).toarray().astype(float)
    best = -np.inf
    for a, b in nx.non_edges(G):
        i, j = index[a], index[b]
        trial = laplacian.copy()
        trial[i, i] += 1
        trial[j, j] += 1
        trial[i, j] -= 1
        trial[j, i] -= 1
        best = max(best, scipy.linalg.eigvalsh(trial, subset_by_index=[1, 1])[0])
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=pathlib.Path, default=None)
    parser.add_argument("--ks", default="1,5,20")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    ks = [int(k) for k in args.ks.split(",")]
    print(f"{'graph':20s} {'n':>4s} {'m':>5s} {'k':>3s} {'lambda2':>9s} {'greedy':>9s} "
          f"{'s':>5s} {'ours':>9s} {'bound':>9s} {'gap':>7s} {'relax':>7s} {'s':>5s} "
          f"{'exact':>9s}")
    for name, G in cases(args.real):
        if args.only and name not in args.only:
            continue
        G = unweighted(G)
        base = nx.algebraic_connectivity(G, weight=None, tol=1e-10, seed=0)
        for k in ks:
            start = time.perf_counter()
            greedy = greedy_fiedler(G, k)
            greedy_time = time.perf_counter() - start
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the relaxation's gap is reported below
                H = nx.augment_algebraic_connectivity(
                    G, k, weight=None, time_limit=args.time_limit, seed=0
                )
            ours = H.graph
            exact = ""
            if k == 1 and len(G) <= BRUTE_FORCE_MAX_NODES:
                exact = f"{best_single_edge(G):9.5f}"
            print(f"{name:20s} {len(G):4d} {G.number_of_edges():5d} {k:3d} {base:9.5f} "
                  f"{greedy:9.5f} {greedy_time:5.1f} {ours['algebraic_connectivity']:9.5f} "
                  f"{ours['upper_bound']:9.5f} {ours['relative_gap']:7.1e} "
                  f"{ours['relaxation_gap']:7.1e} {ours['time']:5.1f} {exact}", flush=True)


if __name__ == "__main__":
    main()
