"""The nx-gradopt command, each subcommand run in a subprocess on small files made here;
answers checked against brute force, NetworkX and the certificates."""

import csv
import itertools
import json
import re
import signal
import subprocess
import sys
import time

import networkx as nx
import numpy as np
import pytest

import nx_gradopt
from nx_gradopt.io import read_qaplib_solution, write_gset


def run(*arguments, check=True, **kwargs):
    result = subprocess.run(
        [sys.executable, "-m", "nx_gradopt", *map(str, arguments)],
        capture_output=True, text=True, timeout=300, **kwargs,
    )
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def brute_force_max_cut(G):
    nodes = list(G)
    best = 0
    for sides in itertools.product((0, 1), repeat=len(nodes) - 1):
        S = {node for node, side in zip(nodes[1:], sides) if side}
        best = max(best, nx.cut_size(G, S, weight="weight"))
    return best


@pytest.fixture(scope="module")
def small_graph():
    G = nx.gnp_random_graph(11, 0.4, seed=3)
    for k, (u, v) in enumerate(G.edges()):
        G[u][v]["weight"] = 1 + k % 3
    return G


def test_version_through_python_dash_m():
    result = run("--version")
    assert result.stdout.strip() == f"nx-gradopt {nx_gradopt.__version__}"
    assert "``" not in run("--help").stdout  # plain text, not reStructuredText


@pytest.mark.parametrize("file_format", ["gset", "edgelist", "graphml", "gml"])
def test_maxcut_reads_each_format_and_finds_the_brute_force_optimum(
    tmp_path, small_graph, file_format
):
    path = tmp_path / f"graph.{file_format}"
    if file_format == "gset":
        write_gset(small_graph, path)
    elif file_format == "edgelist":
        nx.write_edgelist(small_graph, path, data=["weight"])
    elif file_format == "graphml":
        nx.write_graphml(small_graph, path)
    else:
        nx.write_gml(small_graph, path)
    output = tmp_path / "partition.csv"
    result = json.loads(run("maxcut", path, "--json", "-o", output, "-q").stdout)
    optimum = brute_force_max_cut(small_graph)
    assert result["cut_value"] == optimum
    assert result["upper_bound"] >= optimum - 1e-9
    with open(output, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(small_graph)
    side = {row["node"]: row["side"] for row in rows}
    # Gset numbers nodes from 1 in list(G) order and the reader from 0: the same labels here.
    labels = {str(node): node for node in small_graph}
    S = {labels[node] for node, s in side.items() if s == "0"}
    assert nx.cut_size(small_graph, S, weight="weight") == optimum


def test_qap_finds_the_brute_force_optimum_and_writes_a_solution(tmp_path):
    rng = np.random.default_rng(1)
    A, B = rng.integers(0, 10, (6, 6)), rng.integers(0, 10, (6, 6))
    path = tmp_path / "tiny6.dat"
    path.write_text("6\n\n" + "\n".join(" ".join(map(str, row)) for row in A) + "\n\n"
                    + "\n".join(" ".join(map(str, row)) for row in B) + "\n")
    optimum = min(int(np.sum(A * B[np.ix_(p, p)]))
                  for p in map(list, itertools.permutations(range(6))))
    solution = tmp_path / "tiny6.sln"
    result = json.loads(run("qap", path, "--json", "-o", solution, "-q").stdout)
    assert result["objective"] == optimum
    objective, permutation = read_qaplib_solution(solution)
    assert objective == optimum == int(np.sum(A * B[np.ix_(permutation, permutation)]))
    assert (permutation + 1).tolist() == result["permutation"]


def test_match_recovers_a_relabelled_copy_and_writes_the_mapping(tmp_path):
    G1 = nx.karate_club_graph()
    truth = {u: f"v{(7 * u) % 34}" for u in G1}
    # Karate's weights break the automorphisms of its unweighted graph (14, 15, 18, ...).
    nx.write_edgelist(G1, tmp_path / "g1.edgelist", data=["weight"])
    nx.write_graphml(nx.relabel_nodes(G1, truth), tmp_path / "g2.graphml")
    run("match", tmp_path / "g1.edgelist", tmp_path / "g2.graphml", "-o", tmp_path / "m.csv",
        "-q")
    with open(tmp_path / "m.csv", newline="") as handle:
        mapping = {row["node1"]: row["node2"] for row in csv.DictReader(handle)}
    assert mapping == {str(u): v for u, v in truth.items()}
    result = json.loads(run("match", tmp_path / "g1.edgelist", tmp_path / "g2.graphml",
                            "--json", "-q").stdout)
    assert result["edge_correctness"] == 1.0 and result["mapping"] == mapping


def test_match_takes_seed_pairs_from_a_csv_file(tmp_path):
    G1 = nx.karate_club_graph()
    truth = {u: f"v{(7 * u) % 34}" for u in G1}
    nx.write_edgelist(G1, tmp_path / "g1.edgelist", data=False)
    nx.write_edgelist(nx.relabel_nodes(G1, truth), tmp_path / "g2.edgelist", data=False)
    (tmp_path / "seeds.csv").write_text("node1,node2\n0,v1\n")  # a wrong pair, kept as given
    result = json.loads(run("match", tmp_path / "g1.edgelist", tmp_path / "g2.edgelist",
                            "--seeds", tmp_path / "seeds.csv", "--json", "-q").stdout)
    assert result["mapping"]["0"] == "v1"


def test_lambda2_writes_the_weighted_graph_and_its_certificate_holds(tmp_path):
    G = nx.convert_node_labels_to_integers(nx.grid_2d_graph(4, 5))
    nx.write_edgelist(G, tmp_path / "grid.edgelist", data=False)
    for output in ("weighted.graphml", "weighted.edgelist"):
        result = json.loads(run("lambda2", tmp_path / "grid.edgelist", "--budget", 31,
                                "-o", tmp_path / output, "--json", "-q").stdout)
        if output.endswith(".graphml"):
            H = nx.read_graphml(tmp_path / output)
        else:
            H = nx.read_weighted_edgelist(tmp_path / output)
        assert sum(w for *_, w in H.edges(data="weight")) == pytest.approx(31.0)
        reference = nx.algebraic_connectivity(H, weight="weight", method="tracemin_lu",
                                              tol=1e-12)
        assert result["algebraic_connectivity"] == pytest.approx(reference, rel=1e-6)
        assert reference <= result["upper_bound"] * (1 + 1e-9)
        assert result["relative_gap"] <= 1e-3


@pytest.mark.parametrize(("arguments", "message"), [
    (["maxcut", "missing.txt"], "missing.txt: no such file"),
    (["maxcut", "huge.gset"], "line 1|n=1000000000000 nodes"),
    (["qap", "bad.dat"], "bad.dat: line 3: a matrix entry must be a number; got 'x'"),
    (["qap", "missing.dat"], "missing.dat: No such file or directory"),
    (["maxcut", "bad.edgelist", "--format", "edgelist"],
     "line 2: the weight must be a finite number; got 'nan'"),
    (["lambda2", "bad.edgelist", "--budget", "1", "--format", "gset"], "not a valid gset file"),
    (["maxcut", "directed.graphml"], "not implemented for directed type"),
    (["maxcut", "huge.gset", "--format", "edgelist", "--device", "tpu"], "`device` must be"),
])
def test_bad_input_gives_one_line_and_exit_code_1(tmp_path, arguments, message):
    (tmp_path / "huge.gset").write_text("1000000000000 0\n")
    (tmp_path / "bad.dat").write_text("2\n1 2 3 4\n5 x 7 8\n")
    (tmp_path / "bad.edgelist").write_text("a b 1\nb c nan\n")
    nx.write_graphml(nx.DiGraph([(0, 1)]), tmp_path / "directed.graphml")
    result = run(*arguments, "-q", check=False, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"nx-gradopt {arguments[0]}: error: ")
    assert any(part in lines[0] for part in message.split("|")), lines[0]


def test_usage_errors_exit_with_2(tmp_path):
    for arguments in (["lambda2", "g.txt"], ["lambda2", "g.txt", "--budget", "-1"],
                      ["qap", "x.dat", "--n-init", "0"], ["nonsense"]):
        result = run(*arguments, check=False, cwd=tmp_path)
        assert result.returncode == 2, arguments
        assert "Traceback" not in result.stderr


def test_progress_goes_to_stderr_as_plain_lines_and_quiet_silences_it(tmp_path, small_graph):
    write_gset(small_graph, tmp_path / "g")
    loud = run("maxcut", tmp_path / "g")
    assert "max_cut_sdp:" in loud.stderr and "SDP: value" in loud.stderr
    assert "\r" not in loud.stderr  # not a terminal: no status line rewritten in place
    assert loud.stdout.startswith("cut value")
    assert run("maxcut", tmp_path / "g", "-q").stderr == ""


def test_ctrl_c_prints_the_best_cut_found_so_far(tmp_path):
    write_gset(nx.random_regular_graph(3, 2000, seed=1), tmp_path / "g")
    child = subprocess.Popen(
        [sys.executable, "-m", "nx_gradopt", "maxcut", str(tmp_path / "g"), "-t", "300",
         "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        for line in child.stderr:
            if "local search: best cut" in line:
                break
        time.sleep(1.0)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=60)
    finally:
        child.kill()
    assert time.monotonic() - sent < 5.0
    assert child.returncode == 0, stderr
    assert "ConvergenceWarning: max_cut_sdp was interrupted" in stderr
    result = json.loads(stdout)
    assert 1500 < result["cut_value"] <= result["upper_bound"]


def test_demo_without_matplotlib_prints_its_results_and_says_what_the_plot_needs(tmp_path):
    blocked = ("import sys; sys.modules['matplotlib'] = None; "
               "from nx_gradopt.cli import main; sys.exit(main(['demo', '--size', '4']))")
    result = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True,
                            cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "optimised weights" in result.stdout
    assert "needs matplotlib, the demo extra" in result.stdout
    assert not (tmp_path / "demo_output").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_on_a_terminal_progress_is_one_status_line_with_a_bar_of_the_time_limit(tmp_path):
    import os
    import pty

    write_gset(nx.random_regular_graph(3, 400, seed=1), tmp_path / "g")
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "nx_gradopt", "maxcut", str(tmp_path / "g"), "-t", "3"],
        stdout=subprocess.PIPE, stderr=terminal, text=True,
    )
    os.close(terminal)
    stdout, _ = child.communicate(timeout=120)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    assert child.returncode == 0 and stdout.startswith("cut value")
    text = output.decode()
    assert text.count("\r[") >= 2  # the status line, rewritten in place
    # A bar of 20 that fills as the 3 s go by: some progress lines come a second or more in.
    assert re.search(r"\r\[#{5,20}\.{0,15}\] max_cut_sdp: ", text), text[-500:]
