"""Every family on a CUDA device, checked against the CPU, and timed: one script, no arguments.

    python benchmarks/gpu_check.py [--skip-timings]

For float64 and float32 it runs each family's public functions with ``device="cuda"`` and
checks the answers against CPU float64 runs and references that do not share our numerics:

- λ₂ optimisation (plain, capacities, base network): every bound is at least every run's λ₂
  (certificates checked across devices), λ₂ of the returned weights recomputed by NumPy;
- the edge-weight engine: the known optimum of a cycle (uniform weights);
- graph matching, FAQ and GOAT, with seeds and padding: the planted alignment is recovered;
  the same seed gives the same mapping twice;
- max-cut: the cut equals NetworkX's ``cut_size`` of the partition, bounds across devices;
- the spectral functions: NetworkX's answers.

Each check reports its wall time, the host synchronisations it made and, on a real GPU, the
peak device memory. Synchronisations are counted by torch's sync debug mode on a GPU
(``torch.cuda.set_sync_debug_mode``), by the fake device otherwise.

Then it times CPU against CUDA at 10⁴ and 10⁵ nodes (λ₂ of a grid, the certified λ₂
optimisation and max-cut on a torus, each under a time limit; graph matching at 2 000
nodes). The whole run is sized to finish within 10 minutes on one GPU.

Without CUDA it runs the same checks on nx_gradopt's fake CUDA device (CPU data under CUDA's
device rules) and says so; the timings are then skipped (they would time the CPU twice).
"""

import argparse
import contextlib
import math
import time
import warnings

import networkx as nx
import numpy as np
import torch

import nx_gradopt  # noqa: F401
from nx_gradopt.core.results import ConvergenceWarning
from nx_gradopt.testing import FakeCuda

REAL_GPU = torch.cuda.is_available()


class SyncCounter:
    """Host synchronisations on a real GPU, from torch's sync debug mode (it warns on each)."""

    def __enter__(self):
        self.count = 0
        self._catcher = warnings.catch_warnings(record=True)
        self._records = self._catcher.__enter__()
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        return self

    def __exit__(self, *exc):
        torch.cuda.set_sync_debug_mode("default")
        self.count = sum("synchroniz" in str(r.message) for r in self._records)
        self._catcher.__exit__(*exc)


@contextlib.contextmanager
def on_device():
    """(the context, a function giving its synchronisations and peak memory in MB)."""
    if REAL_GPU:
        torch.cuda.reset_peak_memory_stats()
        counter = SyncCounter()
        with counter:
            yield lambda: (counter.count, torch.cuda.max_memory_allocated() / 2**20)
    else:
        with FakeCuda() as fake:
            yield lambda: (fake.total_syncs(), float("nan"))


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return function(*args, **kwargs)


def half_weight_grid(rows=8, cols=9):
    G = nx.grid_2d_graph(rows, cols)
    nx.set_edge_attributes(G, 0.5, "weight")
    return G


def weighted_geometric(n, radius, seed=1):
    G = nx.random_geometric_graph(n, radius, seed=seed)
    G = nx.convert_node_labels_to_integers(G.subgraph(max(nx.connected_components(G), key=len)))
    rng = np.random.default_rng(seed)
    for u, v in G.edges:
        G.edges[u, v]["weight"] = rng.uniform(0.5, 2.0)
    return G


# Checks: each returns a list of failed conditions (empty when it passed). --------------------

def check_lambda2(dtype, options):
    G = half_weight_grid()
    reference = quiet(nx.optimize_algebraic_connectivity, G, 20.0, seed=0, **options).graph
    with on_device() as measured:
        H = quiet(nx.optimize_algebraic_connectivity, G, 20.0, seed=0, device="cuda",
                  dtype=dtype, **options)
        counts = measured()
    lambda2 = np.linalg.eigvalsh(nx.laplacian_matrix(H).toarray())[1]
    failures = []
    if not math.isclose(H.graph["algebraic_connectivity"], lambda2, rel_tol=1e-6):
        failures.append(f"reported λ₂ {H.graph['algebraic_connectivity']} != {lambda2}")
    if H.graph["upper_bound"] < reference["algebraic_connectivity"] * (1 - 1e-9):
        failures.append("bound below the CPU's λ₂: not a valid certificate")
    if reference["upper_bound"] < lambda2 * (1 - 1e-9):
        failures.append("λ₂ above the CPU's bound")
    if not H.graph["converged"]:
        failures.append(f"not certified (gap {H.graph['relative_gap']:.1e})")
    return failures, counts


def check_engine(dtype):
    with on_device() as measured:
        H = quiet(nx.optimize_edge_weights, nx.cycle_graph(8), "total_effective_resistance",
                  8.0, device="cuda", dtype=dtype, max_iter=60)
        counts = measured()
    weights = np.array([w for *_, w in H.edges(data="weight")])
    failures = [] if np.allclose(weights, 1.0, rtol=1e-3) else [f"weights {weights}"]
    return failures, counts


def check_matching(dtype, method):
    rng = np.random.default_rng(2)
    G1 = nx.gnp_random_graph(60, 0.15, seed=3)
    for u, v in G1.edges:
        G1.edges[u, v]["weight"] = float(rng.integers(1, 5))
    truth = {u: f"v{(7 * u) % 60}" for u in G1}
    G2 = nx.relabel_nodes(G1, truth)
    G2.add_edge("extra", "v0", weight=1.0)
    seeds = [(u, truth[u]) for u in range(3)]
    kwargs = dict(method=method, seeds=seeds, n_init=3, seed=0, device="cuda", dtype=dtype)
    with on_device() as measured:
        first = nx.graph_match(G1, G2, **kwargs)
        counts = measured()
        second = nx.graph_match(G1, G2, **kwargs)
    failures = []
    if first != truth:
        failures.append(f"{sum(first[u] != truth[u] for u in G1)} nodes mismatched")
    if first != second:
        failures.append("the same seed gave two mappings")
    return failures, counts


def check_max_cut(dtype):
    G = weighted_geometric(120, 0.2)
    reference = nx.max_cut_sdp_result(G, seed=1, max_moves=5000)
    with on_device() as measured:
        result = nx.max_cut_sdp_result(G, seed=0, max_moves=5000, device="cuda", dtype=dtype)
        counts = measured()
    S, T = result.partition
    failures = []
    if not math.isclose(result.cut_value, nx.cut_size(G, S, T, weight="weight"), rel_tol=1e-12):
        failures.append("cut value is not the partition's")
    if result.upper_bound < reference.cut_value * (1 - 1e-12):
        failures.append("bound below the CPU's cut: not a valid certificate")
    if reference.upper_bound < result.cut_value * (1 - 1e-12):
        failures.append("cut above the CPU's bound")
    if not result.sdp_certified:
        failures.append("SDP not certified")
    return failures, counts


def check_spectral(dtype):
    G = weighted_geometric(300, 0.12)
    rtol = 1e-7 if dtype == "float64" else 1e-4
    failures = []
    expected = np.linalg.eigvalsh(nx.laplacian_matrix(G).toarray())[1]
    with on_device() as measured:
        for method in ("tracemin_pcg", "lobpcg"):
            ours = nx.algebraic_connectivity(G, method=method, backend="gradopt",
                                             device="cuda", dtype=dtype)
            if not math.isclose(ours, expected, rel_tol=rtol):
                failures.append(f"algebraic_connectivity({method}) {ours} != {expected}")
        spectrum = nx.laplacian_spectrum(G, backend="gradopt", device="cuda", dtype=dtype)
        if not np.allclose(spectrum, nx.laplacian_spectrum(G), atol=rtol * spectrum.max()):
            failures.append("laplacian_spectrum")
        for function in (nx.kemeny_constant, nx.effective_graph_resistance):
            ours = function(G, weight="weight", backend="gradopt", device="cuda", dtype=dtype)
            if not math.isclose(ours, function(G, weight="weight"), rel_tol=10 * rtol):
                failures.append(function.__name__)
        counts = measured()
    return failures, counts


CHECKS = [
    ("λ₂ optimisation", lambda dtype: check_lambda2(dtype, {})),
    ("λ₂ with capacities", lambda dtype: check_lambda2(dtype, {"capacity": 1.0})),
    ("λ₂ with a base network", lambda dtype: check_lambda2(dtype, {"base_weight": "weight"})),
    ("edge-weight engine", check_engine),
    ("graph_match FAQ", lambda dtype: check_matching(dtype, "faq")),
    ("graph_match GOAT", lambda dtype: check_matching(dtype, "goat")),
    ("max_cut_sdp", check_max_cut),
    ("spectral functions", check_spectral),
]


def run_checks():
    failed = 0
    print(f"{'check':26} {'dtype':8} {'result':8} {'s':>6} {'syncs':>7} {'peak MB':>8}")
    for name, check in CHECKS:
        for dtype in ("float64", "float32"):
            started = time.perf_counter()
            try:
                failures, (syncs, peak) = check(dtype)
            except Exception as error:  # report and go on: one crash must not hide the rest
                failures, syncs, peak = [f"{type(error).__name__}: {error}"], 0, float("nan")
            seconds = time.perf_counter() - started
            status = "ok" if not failures else "FAILED"
            failed += bool(failures)
            print(f"{name:26} {dtype:8} {status:8} {seconds:6.1f} {syncs:7d} {peak:8.1f}")
            for failure in failures:
                print(f"    {failure}")
    return failed


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def run_timings():
    """CPU against CUDA, float64, on graphs of 10⁴ and 10⁵ nodes (time limits keep the run
    within budget; quality is reported beside each time)."""
    rows = []
    for side in (100, 316):
        G = nx.grid_2d_graph(side, side)
        for device in ("cpu", "cuda"):
            value, seconds = timed(lambda: nx.algebraic_connectivity(
                G, backend="gradopt", device=device))
            rows.append((f"algebraic_connectivity grid {side}²", device, seconds, f"{value:.6g}"))
    for side, limit in ((100, 30), (316, 60)):
        G = nx.grid_2d_graph(side, side)
        for device in ("cpu", "cuda"):
            H, seconds = timed(lambda: quiet(nx.optimize_algebraic_connectivity,
                                             G, G.number_of_edges(), seed=0,
                                             time_limit=limit, device=device))
            rows.append((f"optimize λ₂ grid {side}² ({limit} s limit)", device, seconds,
                         f"gap {H.graph['relative_gap']:.1e}"))
    for side, limit in ((100, 20), (316, 40)):
        G = nx.grid_2d_graph(side, side, periodic=True)
        rng = np.random.default_rng(0)
        for u, v in G.edges:
            G.edges[u, v]["weight"] = float(rng.choice([-1, 1]))
        for device in ("cpu", "cuda"):
            r, seconds = timed(lambda: quiet(nx.max_cut_sdp_result, G, seed=0,
                                             time_limit=limit, device=device))
            rows.append((f"max_cut_sdp ±1 torus {side}² ({limit} s limit)", device, seconds,
                         f"cut {r.cut_value}, gap {r.relative_gap:.1e}"))
    G1 = nx.gnp_random_graph(2000, 0.01, seed=1)
    G2 = nx.relabel_nodes(G1, {u: (7 * u) % 2000 for u in G1})
    for device in ("cpu", "cuda"):
        mapping, seconds = timed(lambda: nx.graph_match(G1, G2, seed=0, device=device))
        recovered = sum(mapping[u] == (7 * u) % 2000 for u in G1) / 2000
        rows.append(("graph_match GOAT n=2000", device, seconds, f"{recovered:.3f} matched"))
    print(f"\n{'timing':48} {'device':6} {'s':>8}  answer")
    for name, device, seconds, answer in rows:
        print(f"{name:48} {device:6} {seconds:8.2f}  {answer}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-timings", action="store_true")
    args = parser.parse_args()
    if REAL_GPU:
        print(f"CUDA device: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    else:
        print("No CUDA device: running the checks on nx_gradopt's FAKE CUDA device (CPU data "
              "under CUDA's device rules); peak memory is not measured and timings are skipped.")
    nx.config.warnings_to_ignore.add("cache")  # the checks reuse graphs, unmodified
    # Compile the Numba code once, outside every timing.
    nx.max_cut_sdp(nx.cycle_graph(5), seed=0)
    nx.graph_match(nx.path_graph(4), nx.path_graph(4), seed=0)
    failed = run_checks()
    if REAL_GPU and not args.skip_timings:
        run_timings()
    print(f"\n{failed} check(s) failed" if failed else "\nall checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
