"""Throughput of nx_gradopt.solve_many: a serial loop, local processes and a Dask LocalCluster,
side by side in one run.

    python benchmarks/bench_batch.py [--workers 2] [--quick] [--batch-size 32]

Workloads (the issue's): 200 alignments of QAPLIB size (correlated G(30, 0.3) pairs, rho = 0.9,
nx.graph_match with its defaults), 50 max-cuts of Gset size (gnm(800, 4000), time_limit 0.5 s)
and 100 lambda_2 problems on small real networks (karate, Les Miserables, Florentine families
and Davis's women, a sweep of 25 budgets each). Per-task overhead: 200 calls of nx.density on a
small graph, whose own cost is microseconds. Each mode runs every workload once, after a
warm-up batch (worker start, compiled code loaded), so the times are the batches' own. The
``batch_size`` modes group the alignments (``solve_many``'s grouped Frank–Wolfe batches); the
other workloads do not group and show "–".
"""

import argparse
import warnings
import logging
import random
import time

import networkx as nx

import nx_gradopt  # noqa: F401
from nx_gradopt import Problem, solve_many


def alignments(count):
    problems = []
    for k in range(count):
        rng = random.Random(k)
        parent = nx.gnp_random_graph(30, 0.3 / 0.9, seed=k)
        first = nx.Graph([e for e in parent.edges if rng.random() < 0.9])
        second = nx.Graph([(f"v{u}", f"v{v}") for u, v in parent.edges if rng.random() < 0.9])
        first.add_nodes_from(parent)
        second.add_nodes_from(f"v{u}" for u in parent)
        problems.append((first, second))
    return problems


def max_cuts(count):
    return [Problem(nx.gnm_random_graph(800, 4000, seed=k), time_limit=0.5)
            for k in range(count)]


def connectivity(count):
    networks = [nx.karate_club_graph(), nx.les_miserables_graph(),
                nx.florentine_families_graph(), nx.davis_southern_women_graph()]
    per_network = count // len(networks)
    return [Problem(G, G.number_of_edges() * (1 + k / per_network), weight="optimised")
            for G in networks for k in range(per_network)]


WORKLOADS = {
    "alignments (graph_match)": (nx.graph_match, alignments),
    "max-cuts (max_cut_sdp_result)": (nx.max_cut_sdp_result, max_cuts),
    "lambda_2 (optimize_algebraic_connectivity)": (nx.optimize_algebraic_connectivity,
                                                   connectivity),
    "overhead (density)": (nx.density, lambda count: [nx.path_graph(10)] * count),
}
SIZES = {"alignments (graph_match)": 200, "max-cuts (max_cut_sdp_result)": 50,
         "lambda_2 (optimize_algebraic_connectivity)": 100, "overhead (density)": 200}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="a tenth of every workload")
    parser.add_argument("--batch-size", type=int, default=32,
                        help="alignments grouped per task in the batch_size modes")
    arguments = parser.parse_args()
    # Max-cuts at 0.5 s often stop the SDP before tol (the bound stays valid): not news here.
    warnings.simplefilter("ignore", nx_gradopt.ConvergenceWarning)
    import distributed

    cluster = distributed.LocalCluster(
        n_workers=arguments.workers, threads_per_worker=1, processes=True,
        dashboard_address=None, silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster)
    grouped = {"batch_size": arguments.batch_size}
    modes = {
        "serial": {},
        f"{arguments.workers} processes": {"n_jobs": arguments.workers},
        f"LocalCluster, {arguments.workers} workers": {"client": client},
        f"serial, batch_size {arguments.batch_size}": grouped,
        f"{arguments.workers} processes, batch_size {arguments.batch_size}":
            {"n_jobs": arguments.workers, **grouped},
        f"LocalCluster, batch_size {arguments.batch_size}": {"client": client, **grouped},
    }
    print(f"{'workload':44} {'problems':>8} " + " ".join(f"{mode:>30}" for mode in modes))
    for name, (function, make) in WORKLOADS.items():
        count = SIZES[name] // (10 if arguments.quick else 1)
        problems = make(count)
        cells, serial_rate = [], None
        for mode, where in modes.items():
            if "batch_size" in where and function is not nx.graph_match:
                cells.append("–")  # grouping is for the matching functions
                continue
            solve_many(function, problems[:2], seed=0, **where)  # warm-up
            start = time.perf_counter()
            results = solve_many(function, problems, seed=0, **where)
            seconds = time.perf_counter() - start
            failed = sum(isinstance(r, nx_gradopt.ProblemError) for r in results)
            rate = count / seconds
            serial_rate = serial_rate or rate
            note = f"{rate:8.1f}/s {seconds:6.1f} s {rate / serial_rate:4.2f}x"
            if name.startswith("overhead"):
                note = f"{1e3 * seconds / count:8.2f} ms/task {seconds:6.1f} s"
            cells.append(note + (f" {failed} failed" if failed else ""))
        print(f"{name:44} {count:>8} " + " ".join(f"{cell:>30}" for cell in cells), flush=True)
    client.close()
    cluster.close()


if __name__ == "__main__":
    main()
