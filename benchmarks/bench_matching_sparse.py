"""GOAT on large sparse correlated pairs, the issue's model, each case in its own process.

    python benchmarks/bench_matching_sparse.py [--sizes 2000,5000,10000] [--ps log,0.005]
        [--rho 0.9] [--draws 1] [--output benchmarks/results/matching_sparse.json]

A parent graph G(n, p / rho); each of the two children keeps each parent edge with
probability rho (so each is G(n, p), and an edge of one is in the other with probability rho);
the second child is relabelled at random. Drawn in O(n + m) memory, passed as SciPy sparse
matrices to ``quadratic_assignment(A, B, method="goat", maximize=True)`` (``nx.graph_match``'s
method and defaults). Reports the fraction matched, the share of nodes that any method can
identify (those with an edge in both graphs), the Frank–Wolfe iterations, seconds and
the process's peak resident memory (graph generation included, a few MB here). SciPy's FAQ is
not run: its dense linear assignments alone take minutes at these sizes.
"""

import argparse
import json
import math
import pathlib
import resource
import subprocess
import sys
import time

import numpy as np
import scipy.sparse as sp

HERE = pathlib.Path(__file__).resolve().parent


def sparse_pair(n, p, rho, rng):
    """Two children of a G(n, p / rho) parent, each keeping each edge with probability rho;
    the second relabelled by ``truth`` (node i of the first is node truth[i] of the second)."""
    q = min(1.0, p / rho)
    m = rng.binomial(n * (n - 1) // 2, q)
    edges = np.empty((0, 2), dtype=np.int64)
    while len(edges) < m:  # rejection: distinct pairs i < j, uniformly
        draw = rng.integers(0, n, size=(2 * (m - len(edges)) + 16, 2))
        draw = np.sort(draw[draw[:, 0] != draw[:, 1]], axis=1)
        edges = np.unique(np.concatenate([edges, draw]), axis=0)
    edges = edges[rng.permutation(len(edges))[:m]]

    def child():
        kept = edges[rng.random(len(edges)) < rho]
        upper = sp.coo_array((np.ones(len(kept)), (kept[:, 0], kept[:, 1])), shape=(n, n))
        return (upper + upper.T).tocsr()

    A, B0 = child(), child()
    truth = rng.permutation(n)
    inverse = np.argsort(truth)
    return A, B0[inverse][:, inverse].tocsr(), truth


def identifiable_share(A, B, truth):
    """The share of nodes with at least one edge in both graphs (under the true map). For
    the others no edge ties a node to its true match, so any method matches them by chance
    at best: the match not owed to luck is at most this."""
    common = A.multiply(B[truth][:, truth])
    return float(np.mean(np.diff(common.tocsr().indptr) > 0))


def one_case(n, p_name, rho, draw):
    from nx_gradopt import quadratic_assignment

    p = math.log(n) / n if p_name == "log" else float(p_name)
    A, B, truth = sparse_pair(n, p, rho, np.random.default_rng([n, draw]))
    started = time.perf_counter()
    result = quadratic_assignment(A, B, method="goat", maximize=True, seed=0)
    seconds = time.perf_counter() - started
    return dict(n=n, p=p_name, rho=rho, draw=draw, edges=int(A.nnz // 2),
                match=float(np.mean(result.col_ind == truth)),
                identifiable=identifiable_share(A, B, truth), iterations=int(result.nit),
                seconds=seconds,
                peak_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2000,5000,10000")
    parser.add_argument("--ps", default="log,0.005", help="'log' is log(n)/n")
    parser.add_argument("--rho", type=float, default=0.9)
    parser.add_argument("--draws", type=int, default=1)
    parser.add_argument("--output", type=pathlib.Path,
                        default=HERE / "results" / "matching_sparse.json")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # n,p,rho,draw: run one, print JSON
    args = parser.parse_args()
    if args.case:
        n, p_name, rho, draw = args.case.split(",")
        print(json.dumps(one_case(int(n), p_name, float(rho), int(draw))))
        return
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        for p_name in args.ps.split(","):
            for draw in range(args.draws):
                case = f"{n},{p_name},{args.rho},{draw}"
                output = subprocess.run([sys.executable, __file__, "--case", case],
                                        check=True, capture_output=True, text=True).stdout
                row = json.loads(output.strip().splitlines()[-1])
                rows.append(row)
                print(f"n={n:6d} p={p_name:6s} rho={args.rho} draw={draw} edges={row['edges']:7d}"
                      f"  match {row['match']:.4f} (identifiable {row['identifiable']:.4f})"
                      f"  iterations {row['iterations']:3d}"
                      f"  {row['seconds']:7.1f} s  peak {row['peak_gb']:.2f} GB", flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
