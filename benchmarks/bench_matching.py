"""Graph matching: nx-gradopt's FAQ/GOAT against SciPy's FAQ (and graspologic), side by side.

    python benchmarks/bench_matching.py [--qaplib FOLDER] [--starts 10] [--qaplib-max-n N]
        [--sizes 100,300,1000,2000]
        [--rhos 0.6,0.8,0.9,1.0] [--large] [--scipy-max-n 1000] [--repeats 5]
        [--graspologic-python PYTHON] [--output benchmarks/results/matching.json]

graspologic pins NumPy below 2, so it runs in its own environment: ``--graspologic-python``
names that environment's Python, which runs ``graspologic_worker.py`` beside this script (see
its docstring for the one-line setup). Its times are those of ``graph_match`` alone.

Two parts:

- **QAPLIB** (the instances of FOLDER, default ../shared/data/qaplib, that have an optimum in
  ``optima.csv``; the .dat files there or in ``data/`` below it, as in qaplib-all):
  ``nx_gradopt.quadratic_assignment(A, B, n_init=10)`` (FAQ) against the best of 10
  ``scipy.optimize.quadratic_assignment(A, B, method="faq", options={"P0": "randomized"})``
  runs; each of ``--repeats`` interleaved runs uses its own seed (0, 1, ...). With
  ``--starts 1``: one start each (SciPy's from the barycenter, its default), and also
  ``nx.graph_match(G1, G2, method="faq", maximize=False)`` on NetworkX graphs built from A and
  B, timed from the graphs. Per instance: the gap to the optimum averaged over the seeds, and the minimum time.
  With graspologic: its ``graph_match(A, B, maximize=False, n_init=10,
  init_perturbation=0.5)``, the same kind of starts as SciPy's.
- **Correlated Erdős–Rényi pairs** (edge correlation rho, B randomly relabelled) for
  n in ``--sizes`` (``--large`` adds 5000), p in {0.1, log n / n}, rho in ``--rhos``, with no
  seeds and with 10: match ratio, objective and time of GOAT (``nx_gradopt``, the default
  method) and of SciPy's FAQ. SciPy runs up to ``--scipy-max-n`` nodes on the whole grid, and
  beyond that only on the target row (p = 0.1, rho = 0.9, unseeded) up to
  ``--scipy-target-max-n`` (2000: its linear assignments alone take minutes at 5000).
  Per-iteration times are reported for both. graspologic's GOAT (``transport=True``, its
  defaults otherwise) runs on the rows SciPy runs on.
"""

import argparse
import csv
import json
import math
import pathlib
import statistics
import subprocess
import tempfile
import time
import warnings

import networkx as nx
import numpy as np
import scipy.optimize

from nx_gradopt.io import read_qaplib
from nx_gradopt.matching import quadratic_assignment

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_QAPLIB = HERE.parents[1] / "shared" / "data" / "qaplib"


def scipy_best_of(A, B, starts, seed):
    """SciPy's FAQ: one run from the barycenter (its default) for one start, else the best of
    ``starts`` randomized runs."""
    rng = np.random.default_rng(seed)
    P0 = "barycenter" if starts == 1 else "randomized"
    runs = [
        scipy.optimize.quadratic_assignment(A, B, method="faq", options={"P0": P0, "rng": rng})
        for _ in range(starts)
    ]
    return min(run.fun for run in runs)


def graph_match_objective(A, B, seed):
    """One start of ``nx.graph_match(..., maximize=False)`` on NetworkX graphs of A and B,
    timed from the graphs (conversion included) as a NetworkX user would call it."""
    kind = nx.Graph if (A == A.T).all() and (B == B.T).all() else nx.DiGraph
    G1, G2 = nx.from_numpy_array(A, create_using=kind), nx.from_numpy_array(B, create_using=kind)
    started = time.perf_counter()
    mapping = nx.graph_match(G1, G2, method="faq", maximize=False, seed=seed)
    seconds = time.perf_counter() - started
    perm = np.array([mapping[i] for i in range(len(A))])
    return qap_objective(A, B, perm), seconds


class Graspologic:
    """graspologic's ``graph_match`` in a worker process under another Python (its own
    environment), fed one problem at a time through .npy files."""

    def __init__(self, python):
        self._folder = tempfile.TemporaryDirectory()
        self._process = subprocess.Popen(
            [str(python), str(HERE / "graspologic_worker.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )

    def match(self, A, B, **options):
        """The permutation (row i of A to row perm[i] of B), seconds and iterations."""
        a, b = (str(pathlib.Path(self._folder.name) / name) for name in ("a.npy", "b.npy"))
        np.save(a, A)
        np.save(b, B)
        self._process.stdin.write(json.dumps({"a": a, "b": b, "options": options}) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the graspologic worker stopped; see its error output above")
        reply = json.loads(line)
        perm = np.empty(len(A), dtype=np.int64)
        perm[reply["indices_A"]] = reply["indices_B"]
        return perm, reply["time"], reply["n_iter"]

    def close(self):
        self._process.stdin.close()
        self._process.wait()
        self._folder.cleanup()


def qap_objective(A, B, perm):
    return float((A * B[np.ix_(perm, perm)]).sum())


def timed(function):
    started = time.perf_counter()
    value = function()
    return value, time.perf_counter() - started


def qaplib_rows(folder, repeats, starts=10, max_n=None, graspologic=None):
    """One row per instance. Repeat r runs every solver with seed r, interleaved so that all
    see the same machine load; the gap is the mean over the repeats (a median over 20
    instances from one seed moves by half a percent between seeds) and the time the
    minimum. With one start, ``nx.graph_match`` on NetworkX graphs runs too."""
    with open(folder / "optima.csv") as handle:
        instances = list(csv.DictReader(handle))
    rows = []
    for instance in instances:
        if max_n is not None and int(instance.get("n") or 0) > max_n:
            continue
        path = folder / f"{instance['name']}.dat"
        A, B = read_qaplib(path if path.exists() else folder / "data" / path.name)
        optimum = float(instance["optimum"])
        if optimum == 0:  # no relative gap (esc16f, whose flows are all zero)
            continue
        runs = {"ours": [], "scipy": []} | ({"graph_match": []} if starts == 1 else {})
        runs |= {"graspologic": []} if graspologic else {}
        for repeat in range(repeats):
            result, seconds = timed(
                lambda: quadratic_assignment(A, B, n_init=starts, seed=repeat)
            )
            runs["ours"].append((result.fun, seconds))
            runs["scipy"].append(timed(lambda: scipy_best_of(A, B, starts, repeat)))
            if starts == 1:
                runs["graph_match"].append(graph_match_objective(A, B, repeat))
            if graspologic:
                perm, seconds, _ = graspologic.match(
                    A, B, maximize=False, n_init=10, init_perturbation=0.5, rng=repeat)
                runs["graspologic"].append((qap_objective(A, B, perm), seconds))
        row = {"instance": instance["name"], "n": len(A), "optimum": optimum}
        for who, results in runs.items():
            gaps = [(value - optimum) / optimum for value, _ in results]
            row.update({
                f"{who}_gaps": gaps, f"{who}_gap": statistics.mean(gaps),
                f"{who}_s": min(seconds for _, seconds in results),
            })
        rows.append(row)
        print(
            f"{row['instance']:8s} n={row['n']:3d}  "
            + "   ".join(
                f"{who} gap {row[f'{who}_gap']:7.4f} {row[f'{who}_s']:.3f}s" for who in runs
            ),
            flush=True,
        )
    return rows


def qaplib_summary(rows):
    """Per solver: mean and median over the instances of the seed-averaged gaps, each seed's
    own mean and median, and the total time."""
    summary = {}
    for who in [key[:-len("_gaps")] for key in rows[0] if key.endswith("_gaps")]:
        per_seed = list(zip(*(row[f"{who}_gaps"] for row in rows)))
        summary[who] = {
            "mean_gap": statistics.mean(row[f"{who}_gap"] for row in rows),
            "median_gap": statistics.median(row[f"{who}_gap"] for row in rows),
            "seed_mean_gaps": [statistics.mean(gaps) for gaps in per_seed],
            "seed_median_gaps": [statistics.median(gaps) for gaps in per_seed],
            "total_s": sum(row[f"{who}_s"] for row in rows),
            # The geometric mean of the per-instance time ratios to SciPy's: every instance
            # counts alike, whatever its size.
            "geomean_time_over_scipy": math.exp(statistics.mean(
                math.log(row[f"{who}_s"] / row["scipy_s"]) for row in rows
            )),
        }
    return summary


def correlated_pair(n, p, rho, rng):
    """A ~ G(n, p); B keeps A's edges with probability p + rho(1 - p) and adds non-edges with
    probability p(1 - rho) (edge correlation rho, both G(n, p)); B randomly relabelled.
    Returns A, B and the true map (row i of A is row truth[i] of B)."""
    upper = np.triu(rng.random((n, n)) < p, 1)
    A = upper | upper.T
    noise = rng.random((n, n))
    keep = np.triu(np.where(A, noise < p + rho * (1 - p), noise < p * (1 - rho)), 1)
    B0 = keep | keep.T
    truth = rng.permutation(n)
    B = np.empty_like(B0)
    B[np.ix_(truth, truth)] = B0
    return A.astype(np.float64), B.astype(np.float64), truth


def er_rows(sizes, rhos, scipy_max_n, scipy_target_max_n, graspologic=None):
    rows = []
    for n in sizes:
        for p_name, p in (("0.1", 0.1), ("log n/n", math.log(n) / n)):
            for rho in rhos:
                for n_seeds in (0, 10):
                    rng = np.random.default_rng(n + int(rho * 100))
                    A, B, truth = correlated_pair(n, p, rho, rng)
                    seeds = np.column_stack([np.arange(n_seeds), truth[:n_seeds]])
                    ours, seconds = timed(lambda: quadratic_assignment(
                        A, B, method="goat", maximize=True, partial_match=seeds))
                    row = {
                        "n": n, "p": p_name, "rho": rho, "seeds": n_seeds,
                        "goat_match": float((ours.col_ind == truth).mean()),
                        "goat_objective": ours.fun, "goat_s": seconds, "goat_nit": ours.nit,
                        "goat_s_per_iter": seconds / max(ours.nit, 1),
                    }
                    target = p_name == "0.1" and rho == 0.9 and n_seeds == 0
                    if n <= scipy_max_n or (target and n <= scipy_target_max_n):
                        theirs, seconds = timed(lambda: scipy.optimize.quadratic_assignment(
                            A, B, method="faq",
                            options={"maximize": True, "partial_match": seeds}))
                        row.update(
                            scipy_match=float((theirs.col_ind == truth).mean()),
                            scipy_objective=float(theirs.fun), scipy_s=seconds,
                            scipy_nit=int(theirs.nit),
                            scipy_s_per_iter=seconds / max(int(theirs.nit), 1),
                        )
                        if graspologic:
                            perm, seconds, nit = graspologic.match(
                                A, B, transport=True, maximize=True, rng=0,
                                partial_match=seeds.tolist() if n_seeds else None)
                            row.update(
                                graspologic_goat_match=float((perm == truth).mean()),
                                graspologic_goat_objective=qap_objective(A, B, perm),
                                graspologic_goat_s=seconds, graspologic_goat_nit=nit,
                            )
                    rows.append(row)
                    scipy_part = (
                        f"scipy FAQ match {row['scipy_match']:.3f} {row['scipy_s']:.2f}s "
                        f"({row['scipy_s_per_iter']:.3f}s/it)  speed-up "
                        f"{row['scipy_s'] / row['goat_s']:.1f}x"
                        if "scipy_s" in row else "scipy FAQ not run"
                    )
                    if "graspologic_goat_s" in row:
                        scipy_part += (
                            f"   graspologic GOAT match {row['graspologic_goat_match']:.3f} "
                            f"{row['graspologic_goat_s']:.2f}s "
                            f"({row['graspologic_goat_nit']} it)"
                        )
                    print(
                        f"n={n:5d} p={p_name:7s} rho={rho:.1f} seeds={n_seeds:2d}  GOAT match "
                        f"{row['goat_match']:.3f} {row['goat_s']:.2f}s "
                        f"({row['goat_s_per_iter']:.3f}s/it)   {scipy_part}",
                        flush=True,
                    )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--qaplib", type=pathlib.Path, default=DEFAULT_QAPLIB)
    parser.add_argument("--sizes", default="100,300,1000,2000")
    parser.add_argument("--rhos", default="0.6,0.8,0.9,1.0")
    parser.add_argument("--large", action="store_true", help="add n = 5000")
    parser.add_argument("--scipy-max-n", type=int, default=1000)
    parser.add_argument("--scipy-target-max-n", type=int, default=2000,
                        help="largest n of SciPy's run on the target row")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--starts", type=int, default=10,
                        help="starts per solve (1: also nx.graph_match on NetworkX graphs)")
    parser.add_argument("--qaplib-max-n", type=int, help="only instances up to this size")
    parser.add_argument("--skip-qaplib", action="store_true")
    parser.add_argument("--skip-er", action="store_true")
    parser.add_argument("--graspologic-python", type=pathlib.Path,
                        help="Python of an environment with graspologic installed")
    parser.add_argument("--output", type=pathlib.Path,
                        default=HERE / "results" / "matching.json")
    args = parser.parse_args()
    warnings.simplefilter("ignore", FutureWarning)  # SciPy's rng transition notice
    quadratic_assignment(np.ones((5, 5)), np.ones((5, 5)), n_init=2)  # compile the 2-opt
    graspologic = Graspologic(args.graspologic_python) if args.graspologic_python else None
    results = {}
    if not args.skip_qaplib:
        rows = qaplib_rows(args.qaplib, args.repeats, args.starts, args.qaplib_max_n,
                           graspologic)
        summary = qaplib_summary(rows)
        print(f"QAPLIB ({len(rows)} instances, {args.repeats} seeds):", flush=True)
        for who, line in summary.items():
            print(
                f"  {who:11s} mean gap {line['mean_gap']:.4f} median {line['median_gap']:.4f} "
                f"in {line['total_s']:.2f}s (time / scipy's "
                f"{line['total_s'] / summary['scipy']['total_s']:.2f}, geometric mean of "
                f"the ratios {line['geomean_time_over_scipy']:.2f}); per seed: mean gaps "
                + " ".join(f"{gap:.4f}" for gap in line["seed_mean_gaps"])
                + "; median gaps "
                + " ".join(f"{gap:.4f}" for gap in line["seed_median_gaps"]),
                flush=True,
            )
        results["qaplib"] = {"rows": rows, "summary": summary}
    if not args.skip_er:
        sizes = [int(n) for n in args.sizes.split(",")] + ([5000] if args.large else [])
        rhos = [float(r) for r in args.rhos.split(",")]
        results["correlated_er"] = er_rows(sizes, rhos, args.scipy_max_n,
                                           args.scipy_target_max_n, graspologic)
    if graspologic:
        graspologic.close()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1))
    print(f"written {args.output}")


if __name__ == "__main__":
    main()
