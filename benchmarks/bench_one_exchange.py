"""NetworkX's one_exchange against the gradopt backend's, same seed, in one run.

    python benchmarks/bench_one_exchange.py [--limit 120] [--gset ../shared/data/gset]

Both run NetworkX's algorithm (greedy single flips from the empty cut, ties broken by the
seed's shuffle), so they must return the same cut; the table says whether they did and the
speed-up. NetworkX's runs in a subprocess killed after ``--limit`` seconds; a speed-up over
a killed run is a lower bound ("> "). Gset instances (G11, G14) are used where the folder has
them; the random graphs are generated.
"""

import argparse
import pathlib
import time
import warnings

import networkx as nx

import nx_gradopt  # noqa: F401
from nx_gradopt.io import read_gset

from bench_maxcut import within  # run as a script: benchmarks/ is on the path

HERE = pathlib.Path(__file__).resolve().parent


def graphs(gset):
    for n, m in ((200, 1000), (500, 2500), (1000, 5000)):
        yield f"gnm({n}, {m})", nx.gnm_random_graph(n, m, seed=0)
    for name in ("G11", "G14"):
        if (gset / name).exists():
            yield name, read_gset(gset / name)


def run(G, backend):
    start = time.perf_counter()
    cut = nx.approximation.one_exchange(G, weight="weight", seed=0, backend=backend)
    return cut, time.perf_counter() - start


def _networkx(G, queue):
    queue.put(run(G, "networkx"))


def networkx_within(G, limit):
    """NetworkX's (result, seconds), or (None, limit) when it did not finish."""
    return within(_networkx, (G,), limit)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=120.0)
    parser.add_argument("--gset", type=pathlib.Path, default=HERE.parents[1] / "shared" / "data" / "gset")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    run(nx.cycle_graph(5), "gradopt")  # compile outside the timings
    print("| graph | n | m | cut | same cut as NetworkX | gradopt s | NetworkX s | speed-up |")
    print("|---" * 8 + "|")
    for name, G in graphs(args.gset):
        ours, seconds = run(G, "gradopt")
        theirs, theirs_seconds = networkx_within(G, args.limit)
        same = "–" if theirs is None else ("yes" if theirs == ours else "NO")
        bound = "> " if theirs is None else ""
        print(
            f"| {name} | {len(G)} | {G.number_of_edges()} | {ours[0]} | {same} | {seconds:.3f} "
            f"| {bound}{theirs_seconds:.1f} | {bound}{theirs_seconds / seconds:.0f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
