"""The error contract: bad input gets NetworkX's exception (and wording, where NetworkX has
one) or a ValueError/TypeError from our code naming the argument and the value; no call
leaves process-global state changed."""

import decimal
import gc
import itertools
import os
import subprocess
import sys
import threading
import warnings

import networkx as nx
import numpy as np
import pytest
import threadpoolctl
import torch

import nx_gradopt  # noqa: F401  (installs the new functions)

SPECTRAL = (
    "algebraic_connectivity", "fiedler_vector", "spectral_ordering", "laplacian_spectrum",
    "normalized_laplacian_spectrum", "effective_graph_resistance", "kemeny_constant",
)


def weighted_cycle(bad):
    G = nx.cycle_graph(5)
    nx.set_edge_attributes(G, 1.0, "weight")
    G[0][1]["weight"] = bad
    return G


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("name", SPECTRAL)
def test_non_finite_weights_in_networkx_words(name, bad):
    if name == "kemeny_constant" and bad < 0:  # NetworkX checks the sign first
        with pytest.raises(nx.NetworkXError, match="weights of graph G must be nonnegative"):
            nx.kemeny_constant(weighted_cycle(bad), weight="weight", backend="gradopt")
        return
    with pytest.raises(ValueError, match="array must not contain infs or NaNs"):
        getattr(nx, name)(weighted_cycle(bad), weight="weight", backend="gradopt")


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_weights_of_new_functions_name_the_edge(bad):
    G = weighted_cycle(bad)
    with pytest.raises(ValueError, match=r"`weight` 'weight' of edge \(0, 1\) must be finite"):
        nx.max_cut_sdp(G)
    of_g1 = r"`weight` 'weight' of edge \(0, 1\) of G1 must be finite"
    with pytest.raises(ValueError, match=of_g1):
        nx.graph_match(G, nx.cycle_graph(5))


def test_weights_whose_sums_overflow_are_named():
    G = weighted_cycle(1e308)
    G[2][3]["weight"] = 1e308
    with pytest.raises(ValueError, match="`weight` 'weight': the weights are too large"):
        nx.max_cut_sdp(G)
    with pytest.raises(ValueError, match="`weight` 'weight' of G1: the weights are too large"):
        nx.graph_match(G, G)


@pytest.mark.parametrize("name", ["laplacian_spectrum", "normalized_laplacian_spectrum",
                                  "kemeny_constant"])
def test_huge_finite_weights_answer_as_networkx(name):
    """1e308 overflows the degrees; the backend rescales by a power of two."""
    G = weighted_cycle(1e308)
    expected = getattr(nx, name)(G, weight="weight", backend="networkx")
    np.testing.assert_allclose(getattr(nx, name)(G, weight="weight", backend="gradopt"), expected)


@pytest.mark.parametrize("bad", ["heavy", None, 1 + 2j])
@pytest.mark.parametrize("name", SPECTRAL + ("laplacian_matrix", "max_cut_sdp", "graph_match"))
def test_non_numeric_weights_are_a_type_error_naming_the_edge(name, bad):
    G = weighted_cycle(bad)
    args = (G, G) if name == "graph_match" else (G,)
    with pytest.raises(TypeError, match=r"attribute 'weight' of edge \(0, 1\) must be a real"):
        getattr(nx, name)(*args, weight="weight", backend="gradopt")


@pytest.mark.parametrize("value", [True, decimal.Decimal("2.5"), np.float32(2.5), np.int64(3)])
def test_real_numbers_of_any_type_are_accepted(value):
    """Bools count 0 and 1 as in NetworkX; decimals (which SciPy refuses) count as floats."""
    expected = nx.laplacian_spectrum(weighted_cycle(float(value)), weight="weight")
    got = nx.laplacian_spectrum(weighted_cycle(value), weight="weight", backend="gradopt")
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_multigraphs_count_parallel_edges_as_networkx_does():
    G = nx.MultiGraph([(0, 1), (0, 1), (1, 2), (2, 0), (2, 3)])
    assert nx.effective_graph_resistance(G, backend="gradopt") == pytest.approx(
        nx.effective_graph_resistance(G, backend="networkx")
    )  # 5.8: the parallel pair is two unit resistors
    for name in ("laplacian_spectrum", "normalized_laplacian_spectrum"):
        np.testing.assert_allclose(
            getattr(nx, name)(G, weight=None, backend="gradopt"),
            getattr(nx, name)(G, weight=None, backend="networkx"), atol=1e-12,
        )
    assert nx.algebraic_connectivity(G, weight=None, backend="gradopt") == pytest.approx(
        nx.algebraic_connectivity(G, weight=None, backend="networkx")
    )
    expected = nx.laplacian_matrix(G, weight=None, backend="networkx").toarray()
    np.testing.assert_array_equal(
        nx.laplacian_matrix(G, weight=None, backend="gradopt").toarray(), expected
    )


@pytest.mark.parametrize("name", ["laplacian_spectrum", "normalized_laplacian_spectrum"])
def test_empty_graph_spectrum_raises_as_networkx(name):
    with pytest.raises(nx.NetworkXError, match="Graph has no nodes or edges"):
        getattr(nx, name)(nx.Graph(), backend="networkx")
    with pytest.raises(nx.NetworkXError, match="Graph has no nodes or edges"):
        getattr(nx, name)(nx.Graph(), backend="gradopt")


@pytest.mark.parametrize("device", ["meta", "mps", "tpu", 3])
def test_devices_the_kernels_do_not_support_are_refused(device):
    with pytest.raises(ValueError, match=f"`device` must be 'auto', 'cpu', 'cuda'.*got {device!r}"):
        nx.algebraic_connectivity(nx.path_graph(4), backend="gradopt", device=device)
    with pytest.raises(ValueError, match="`device` must be"):
        nx.max_cut_sdp(nx.path_graph(4), device=device)


def test_maximize_must_be_a_bool():
    G = nx.path_graph(4)
    with pytest.raises(ValueError, match="`maximize` must be True or False; got 'yes'"):
        nx.graph_match(G, G, maximize="yes")
    with pytest.raises(ValueError, match="`maximize` must be True or False; got 'yes'"):
        nx.optimize_edge_weights(G, lambda w, p: w.sum(), 1.0, maximize="yes")


@pytest.mark.parametrize(("variable", "value"), [("NX_GRADOPT_DEVICE", "gpu"),
                                                 ("NX_GRADOPT_DTYPE", "float16")])
def test_invalid_environment_variable_is_an_error_on_use_not_a_missing_function(variable, value):
    code = (
        "import warnings, networkx as nx\n"
        "warnings.simplefilter('error')\n"
        "print(hasattr(nx, 'graph_match'), hasattr(nx, 'max_cut_sdp'))\n"
        "try:\n"
        "    nx.max_cut_sdp(nx.path_graph(3))\n"
        "except ValueError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={**os.environ, variable: value},
    )
    assert result.returncode == 0, result.stderr
    available, message = result.stdout.strip().splitlines()
    assert available == "True True"
    assert message.startswith(f"environment variable {variable} must be")
    assert message.endswith(f"got {value!r}")


def brute_force_max_cut(G, weight="weight"):
    nodes = list(G)
    best = 0
    for bits in itertools.product((0, 1), repeat=len(nodes) - 1):
        S = {nodes[0]} | {node for node, bit in zip(nodes[1:], bits) if bit}
        best = max(best, nx.cut_size(G, S, weight=weight))
    return best


def test_stale_conversion_cache_never_gives_a_false_bound():
    """Edited in place, the graph keeps NetworkX's cached conversion; the certificate must
    still describe the graph passed."""
    G = nx.cycle_graph(8)
    nx.set_edge_attributes(G, 1, "weight")
    first = nx.max_cut_sdp_result(G, seed=0, backend="gradopt")
    assert first.upper_bound >= brute_force_max_cut(G) == 8
    for u, v in [(0, 1), (2, 3), (4, 5)]:
        G.edges[u, v]["weight"] = 20
    second = nx.max_cut_sdp_result(G, seed=0, backend="gradopt")
    truth = brute_force_max_cut(G)
    assert second.upper_bound >= truth
    assert second.cut_value == nx.cut_size(G, *second.partition, weight="weight")
    H = nx.optimize_algebraic_connectivity(G, 8.0, backend="gradopt", seed=0)
    G.add_edge(0, 4, weight=1)  # clears the cache; then edit in place again
    nx.optimize_algebraic_connectivity(G, 8.0, backend="gradopt", seed=0)
    G.edges[0, 4]["label"] = "new"
    H = nx.optimize_algebraic_connectivity(G, 8.0, backend="gradopt", seed=0)
    assert H.edges[0, 4]["label"] == "new"


def global_state():
    return (
        [(pool["internal_api"], pool["num_threads"]) for pool in threadpoolctl.threadpool_info()],
        list(warnings.filters),
        torch.get_num_threads(),
        torch.random.get_rng_state(),
        np.random.get_state()[1].copy(),
        gc.isenabled(),
    )


@pytest.mark.filterwarnings("ignore::nx_gradopt.ConvergenceWarning")  # short runs on purpose
def test_no_global_state_changes_also_with_concurrent_calls():
    before = global_state()
    G = nx.grid_2d_graph(6, 6)
    errors = []

    def work(k):
        try:
            nx.optimize_algebraic_connectivity(G, 10.0, seed=k, tol=1e-2)
            nx.optimize_edge_weights(G, "total_effective_resistance", 10.0, max_iter=20)
            nx.max_cut_sdp(G, seed=k, max_moves=1000)
            nx.graph_match(G, G, seed=k)
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    after = global_state()
    assert after[0] == before[0]  # BLAS and OpenMP thread limits
    assert after[1] == before[1]  # warning filters
    assert after[2] == before[2]  # torch threads
    assert torch.equal(after[3], before[3])  # torch's global RNG
    assert np.array_equal(after[4], before[4])  # NumPy's global RNG (seeds were given)
    assert after[5] == before[5]  # the garbage collector (paused while graphs are read)
