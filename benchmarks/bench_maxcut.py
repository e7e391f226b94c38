"""Max-cut on Gset: nx-gradopt's max_cut_sdp against NetworkX's one_exchange, in one run.

    python benchmarks/bench_maxcut.py [FOLDER] [--time-limit 9.5|none] [--quick-time-limit 0.1]
        [--one-exchange-limit 120]
        [--seeds 0] [--instances G1,G11] [--output benchmarks/results/maxcut.json]

FOLDER holds Gset/rudy files (default ../shared/data/gset) and, optionally, a
``best_known.csv`` (columns ``instance`` and ``best_known``), so the full G1-G81 set can be run.
For each instance and seed it reports:

- ``max_cut_sdp`` with ``time_limit`` (the whole call, conversion included; ``none``: the
  default call, which stops when the search stagnates): cut / best known,
  certified upper bound / published SDP value (G1, G11, G14, G22, G43), certified upper
  bound / the SDP value at the returned factor (at most 1 + tol when the SDP was certified;
  empty when the cycle relaxation proved the cut maximum and no SDP was solved), whether the
  SDP was certified, what proves the bound (below the SDP value where the cycle relaxation
  proves it), wall time;
- a quick run (``time_limit=--quick-time-limit``, 0.1 s by default: a shorter SDP, no
  certificate, a short search) and its time;
- NetworkX's ``one_exchange(weight="weight")``, killed after ``--one-exchange-limit`` seconds:
  cut / best known and time, and the speed-up of the quick run over it when the quick run's
  cut is at least as good (a lower bound, "> ", when one_exchange did not finish).

The Numba local search is compiled once (on a tiny graph) before any timing.
"""

import argparse
import csv
import json
import math
import multiprocessing
import pathlib
import statistics
import time
import warnings

import networkx as nx

import nx_gradopt  # noqa: F401
from nx_gradopt.io import read_gset

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_FOLDER = HERE.parents[1] / "shared" / "data" / "gset"

# Optimal SDP values (the SDP bound on the max cut), as quoted in the issue from the literature
# (e.g. Burer & Monteiro 2003; Helmberg & Rendl 2000). Used only to report bound / SDP.
SDP_VALUES = {"G1": 12083.198, "G11": 629.165, "G14": 3191.567, "G22": 14135.946, "G43": 7032.222}


def instances(folder, names):
    found = sorted(
        (path for path in folder.iterdir() if path.is_file() and path.suffix == ""),
        key=lambda path: (len(path.name), path.name),
    )
    return [path for path in found if not names or path.name in names]


def best_known(folder):
    table = folder / "best_known.csv"
    if not table.exists():
        return {}
    return {row["instance"]: float(row["best_known"]) for row in csv.DictReader(table.open())}


def _one_exchange(path, seed, queue):
    G = read_gset(path)
    start = time.perf_counter()
    cut, _ = nx.approximation.one_exchange(G, weight="weight", seed=seed)
    queue.put((cut, time.perf_counter() - start))


def one_exchange(path, seed, limit):
    """(cut, seconds) or (None, limit) if it did not finish in time."""
    return within(_one_exchange, (path, seed), limit)


def within(target, args, limit):
    """What ``target(*args, queue)`` puts on the queue, run in a subprocess killed after
    ``limit`` seconds: then (None, limit)."""
    queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=target, args=(*args, queue))
    process.start()
    process.join(limit)
    if process.is_alive():
        process.terminate()
        process.join()
        return None, limit
    return queue.get()


def ours(G, seed, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        solution = nx.max_cut_sdp_result(G, seed=seed, **options)
        return solution, time.perf_counter() - start


# The table's columns, as ``--csv`` writes them (docs/results/maxcut.csv predates the proof
# and SDP-value columns).
COLUMNS = [
    "instance", "n", "m", "seed", "cut/best", "bound/published SDP", "bound/SDP value",
    "certified", "proof", "s",
    "quick cut/best",
    "quick s", "one_exchange cut/best", "one_exchange s", "speed-up",
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=pathlib.Path, default=DEFAULT_FOLDER)
    parser.add_argument(
        "--time-limit", type=lambda text: None if text == "none" else float(text), default=9.5,
        help="seconds per call, or 'none' for the default stopping rule",
    )
    parser.add_argument("--quick-time-limit", type=float, default=0.1)
    parser.add_argument("--one-exchange-limit", type=float, default=120.0)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--instances", default="")
    parser.add_argument("--output", type=pathlib.Path, default=HERE / "results" / "maxcut.json")
    parser.add_argument("--csv", type=pathlib.Path,
                        help="also write the table as docs/results/maxcut.csv does")
    args = parser.parse_args()
    names = {name for name in args.instances.split(",") if name}
    seeds = [int(seed) for seed in args.seeds.split(",")]
    known = best_known(args.folder)
    ours(nx.cycle_graph(5), 0)  # compile the local search outside the timings

    rows, table = [], []
    print("| " + " | ".join(COLUMNS) + " |")
    print("|---" * len(COLUMNS) + "|")
    for path in instances(args.folder, names):
        G = read_gset(path)
        best = known.get(path.name)
        for seed in seeds:
            solution, seconds = ours(G, seed, time_limit=args.time_limit)
            quick, quick_seconds = ours(G, seed, time_limit=args.quick_time_limit)
            theirs, theirs_seconds = (
                one_exchange(path, seed, args.one_exchange_limit) if seed == seeds[0]
                else (None, None)
            )
            sdp = SDP_VALUES.get(path.name)
            row = {
                "instance": path.name, "n": len(G), "m": G.number_of_edges(), "seed": seed,
                "cut": solution.cut_value, "best_known": best,
                "cut_ratio": solution.cut_value / best if best else None,
                "upper_bound": solution.upper_bound, "sdp_value": solution.sdp_value,
                "bound_ratio": solution.upper_bound / sdp if sdp else None,
                "certified": solution.sdp_certified, "proof": solution.bound_proof,
                "seconds": seconds,
                "sdp_seconds": solution.sdp_time, "moves": solution.moves,
                "quick_cut": quick.cut_value, "quick_seconds": quick_seconds,
                "one_exchange_cut": theirs, "one_exchange_seconds": theirs_seconds,
            }
            # Speed-up of the quick run at a cut at least as good; when one_exchange ran out of
            # time, the time box over our time is a lower bound on it.
            speedup = None
            if theirs_seconds is not None and (theirs is None or quick.cut_value >= theirs):
                speedup = theirs_seconds / quick_seconds
            row["speedup"] = speedup
            row["speedup_is_lower_bound"] = theirs is None
            rows.append(row)

            def ratio(value):
                return f"{value / best:.4f}" if best and value is not None else ""

            one_ex = "" if theirs_seconds is None else (
                f">{args.one_exchange_limit:.0f}" if theirs is None else f"{theirs_seconds:.1f}"
            )
            cells = [
                path.name, len(G), G.number_of_edges(), seed, ratio(solution.cut_value),
                f"{solution.upper_bound / sdp:.6f}" if sdp else "",
                "" if math.isnan(solution.sdp_value)
                else f"{solution.upper_bound / solution.sdp_value:.6f}",
                solution.sdp_certified,
                solution.bound_proof, f"{seconds:.2f}", ratio(quick.cut_value),
                f"{quick_seconds:.2f}", ratio(theirs), one_ex,
                f"{'>' if theirs is None else ''}{speedup:.0f}x" if speedup else "",
            ]
            table.append(cells)
            print("| " + " | ".join(str(cell) or "–" for cell in cells) + " |", flush=True)
    ratios = [row["cut_ratio"] for row in rows if row["cut_ratio"] is not None]
    if ratios:
        print(f"\ncut / best known: min {min(ratios):.4f}, mean {statistics.mean(ratios):.4f}; "
              f"max time {max(row['seconds'] for row in rows):.2f} s")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(rows, indent=1))
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows(table)


if __name__ == "__main__":
    main()
