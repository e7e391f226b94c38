"""Cut a Gset graph with nx.max_cut_sdp and print the cut, the certified bound and the gap.

    python examples/maxcut_gset.py [PATH] [--time-limit 10]

PATH defaults to ../shared/data/gset/G11 (an 800-node toroidal grid with ±1 weights) when that
file is there, and otherwise to a graph built the same way.
"""

import argparse
import pathlib

import networkx as nx
import numpy as np

import nx_gradopt  # noqa: F401  (adds nx.max_cut_sdp_result)
from nx_gradopt.io import read_gset

DEFAULT = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "gset" / "G11"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=pathlib.Path, default=DEFAULT)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    if args.path.exists():
        G, name = read_gset(args.path), args.path.name
    else:
        G, name = toroidal_grid(), "a toroidal 8 x 100 grid with random ±1 weights (like G11)"
    result = nx.max_cut_sdp_result(G, time_limit=args.time_limit, seed=args.seed)
    S, T = result.partition
    print(f"{name}: {len(G)} nodes, {G.number_of_edges()} edges")
    print(f"cut            {result.cut_value}  ({len(S)} | {len(T)} nodes)")
    print(f"upper bound    {result.upper_bound:.3f}  (certified: no cut is larger)")
    print(f"certified gap  {result.relative_gap:.2%}  (the cut is at least "
          f"{1 - result.relative_gap:.2%} of the maximum)")
    print(f"SDP value      {result.sdp_value:.3f}  (solved to 1e-4: {result.sdp_certified})")
    print(f"time           {result.time:.2f} s  (SDP {result.sdp_time:.2f} s, "
          f"{result.moves} local-search moves)")


def toroidal_grid(rows=8, columns=100, seed=11):
    """G11's construction: a toroidal grid whose edges weigh +1 or -1 at random."""
    rng = np.random.default_rng(seed)
    G = nx.convert_node_labels_to_integers(nx.grid_2d_graph(rows, columns, periodic=True))
    for u, v in G.edges:
        G.edges[u, v]["weight"] = int(rng.choice([-1, 1]))
    return G


if __name__ == "__main__":
    main()
