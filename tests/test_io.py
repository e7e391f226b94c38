"""Gset/rudy and QAPLIB readers and writers: round trips, and headers that are not trusted."""

import fractions
import io
import pathlib
import time

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nx_gradopt.io import (
    read_gset, read_qaplib, read_qaplib_solution, write_gset, write_qaplib_solution,
)

GSET = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "gset"


def test_round_trip_keeps_weights_and_order():
    G = nx.Graph()
    G.add_nodes_from(["a", "b", "c", "d"])
    G.add_edge("a", "c", weight=-1)
    G.add_edge("b", "d", weight=2.5)
    G.add_edge("c", "d")
    out = io.StringIO()
    write_gset(G, out)
    H = read_gset(io.StringIO(out.getvalue()))
    assert sorted(H.edges(data="weight")) == [(0, 2, -1.0), (1, 3, 2.5), (2, 3, 1.0)]
    assert list(H) == [0, 1, 2, 3]


def test_integer_weights_stay_integers_and_repeats_add():
    H = read_gset(io.StringIO("3 3\n1 2 1\n2 1 1\n2 3 -1\n"))
    assert sorted(H.edges(data="weight")) == [(0, 1, 2), (1, 2, -1)]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "line 1: Gset header must be 'n m'"),
        ("3 x\n", "line 1: the header's m must be an integer; got 'x'"),
        ("\n3 2 7\n", "line 2: Gset header must be 'n m'"),
        ("3 -1\n", "header must be non-negative"),
        ("3 2\n1 2 1\n", "announces 2 edges; the file has 1"),
        ("3 1\n1 2 1\n2 3 1\n", "line 3: the header announces 1 edges; the file has more"),
        ("3 1\n1 4 1\n", r"line 2: Gset node numbers must lie in 1..3; got 1 4"),
        ("3 1\n1 2\n", "line 2: Gset edge lines must be 'i j w'"),
        ("3 2\n1 2 1\n\n2 x 1\n", "line 4: a node number must be an integer; got 'x'"),
        ("3 1\n1 2 nan\n", "line 2: a weight must be finite; got 'nan'"),
        ("3 1\n1 2 1e400\n", "line 2: a weight must be finite"),
        ("3 1\n1 2 one\n", "line 2: a weight must be a number; got 'one'"),
    ],
)
def test_malformed_files(text, match):
    with pytest.raises(ValueError, match=match):
        read_gset(io.StringIO(text))


def test_a_huge_header_is_refused_before_allocating():
    """The issue's 17-byte file: a MemoryError after 20 s before."""
    start = time.perf_counter()
    with pytest.raises(ValueError, match="n=1000000000000 nodes.*max_isolated_nodes"):
        read_gset(io.StringIO("1000000000000 0\n"))
    assert time.perf_counter() - start < 1.0
    with pytest.raises(ValueError, match=r"2 n\^2 = 2000000000000000000000000 numbers; it has 8"):
        read_qaplib(io.StringIO("1000000000000\n1 2 3 4 5 6 7 8\n"))
    G = read_gset(io.StringIO("5 1\n1 2 1\n"), max_isolated_nodes=3)  # 3 isolated: allowed
    assert (len(G), G.number_of_edges()) == (5, 1)


def test_the_file_name_is_in_the_message(tmp_path):
    path = tmp_path / "broken.txt"
    path.write_text("2 1\n1 2 x\n")
    with pytest.raises(ValueError, match=r"broken.txt: line 2: a weight must be a number"):
        read_gset(path)
    path.write_bytes("2 1\n1 2 1\n".encode("utf-8").replace(b"1 2", "1 \u0662".encode("utf-8")))
    with pytest.raises(ValueError, match="broken.txt: line 2: a node number must be an integer"):
        read_gset(path)  # an Arabic-Indic two: int() alone would accept it from a text stream
    with pytest.raises(ValueError, match="line 2: a node number must be an integer"):
        read_gset(io.StringIO("2 1\n1 \u0662 1\n"))


finite_weights = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.fractions(),
    st.floats(-1e6, 1e6).map(np.float64),
    st.integers(-1000, 1000).map(np.int32),
)


@given(n=st.integers(1, 8), data=st.data())
def test_write_then_read_gives_the_same_graph_for_any_finite_real_weights(n, data):
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    edges = data.draw(st.lists(st.sampled_from(pairs), unique=True) if pairs else st.just([]))
    G = nx.Graph()
    G.add_nodes_from(range(n))
    for u, v in edges:
        G.add_edge(u, v, weight=data.draw(finite_weights))
    out = io.StringIO()
    write_gset(G, out)
    H = read_gset(io.StringIO(out.getvalue()))
    assert list(H) == list(G)
    assert {frozenset(e) for e in H.edges()} == {frozenset(e) for e in G.edges()}
    for u, v, w in G.edges(data="weight"):
        assert float(H[u][v]["weight"]) == float(w)


def test_the_writer_writes_canonical_numbers():
    G = nx.Graph()
    G.add_edge(0, 1, weight=np.float64(2.5))
    G.add_edge(1, 2, weight=True)
    G.add_edge(2, 3, weight=fractions.Fraction(1, 2))
    G.add_edge(3, 4, weight=np.int64(-7))
    out = io.StringIO()
    write_gset(G, out)
    assert out.getvalue() == "5 4\n1 2 2.5\n2 3 1\n3 4 0.5\n4 5 -7\n"


@pytest.mark.parametrize("weight", [1 + 2j, None, "2", float("nan"), float("inf"), 10**400])
def test_the_writer_refuses_weights_its_reader_rejects(weight):
    G = nx.Graph()
    G.add_edge("a", "b", weight=weight)
    out = io.StringIO()
    with pytest.raises(ValueError, match=r"weight of edge \('a', 'b'\) must be a finite real"):
        write_gset(G, out)
    assert out.getvalue() == ""


def test_write_refuses_directed_graphs():
    with pytest.raises(nx.NetworkXNotImplemented, match="undirected"):
        write_gset(nx.DiGraph([(0, 1)]), io.StringIO())


@pytest.mark.skipif(not GSET.is_dir(), reason="needs ../shared/data/gset")
def test_reads_gset_g14_from_disk(tmp_path):
    G = read_gset(GSET / "G14")
    assert (G.number_of_nodes(), G.number_of_edges()) == (800, 4694)
    write_gset(G, tmp_path / "copy")
    H = read_gset(tmp_path / "copy")
    assert nx.utils.edges_equal(G.edges(data="weight"), H.edges(data="weight"))


QAPLIB = GSET.parent / "qaplib"


@pytest.mark.skipif(not QAPLIB.is_dir(), reason="needs ../shared/data/qaplib")
def test_qaplib_solutions_reach_the_published_optima():
    import csv

    optima = {row["name"]: float(row["optimum"]) for row in csv.DictReader(
        open(QAPLIB / "optima.csv"))}
    solutions = sorted(QAPLIB.glob("*.sln"))
    assert solutions
    for path in solutions:
        A, B = read_qaplib(path.with_suffix(".dat"))
        objective, p = read_qaplib_solution(path)
        assert A.shape == B.shape == (len(p), len(p))
        q = np.argsort(p)  # a few files list the inverse permutation
        values = {(A * B[np.ix_(p, p)]).sum(), (A * B[np.ix_(q, q)]).sum()}
        assert objective == optima[path.stem]
        assert objective in values


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty; it must start with n"),
        ("2\n1 2 3 4\n5 6 7\n", r"announces n=2, so 2 n\^2 = 8 numbers; it has 7"),
        ("2\n1 2 3 4\n5 6 7 8 9\n", r"line 3: the file announces n=2, .* it has more"),
        ("2\n1 x 3 4 5 6 7 8\n", "line 2: a matrix entry must be a number; got 'x'"),
        ("2\n1 2 3 4\n5 nan 7 8\n", "line 3: a matrix entry must be finite; got 'nan'"),
        ("2\n1 2 3 4\n5 6 7 inf\n", "line 3: a matrix entry must be finite; got 'inf'"),
        ("-2\n1 2 3 4 5 6 7 8\n", "line 1: n must be a positive integer; got -2"),
        ("2.5\n1 2 3 4 5 6 7 8\n", "line 1: n must be an integer; got '2.5'"),
    ],
)
def test_malformed_qaplib_files(text, match):
    with pytest.raises(ValueError, match=match):
        read_qaplib(io.StringIO(text))


@pytest.mark.parametrize(
    ("text", "match"),
    [("3 10\n1 2\n", r"permutation of 1..3; it lists 2"),
     ("3 10\n1 1 2\n", r"permutation of 1..3"),
     ("3\n", "the objective is missing"),
     ("3 nan\n1 2 3\n", "line 1: the objective must be finite; got 'nan'"),
     ("3 1e400\n1 2 3\n", "line 1: the objective must be finite; got '1e400'"),
     ("3 10\n1 2 x\n", "line 2: a permutation entry must be an integer; got 'x'"),
     ("0 10\n", "line 1: n must be a positive integer; got 0")],
)
def test_malformed_qaplib_solutions(text, match):
    with pytest.raises(ValueError, match=match):
        read_qaplib_solution(io.StringIO(text))


def test_a_solution_numbered_from_zero_is_read_as_such():
    """QAPLIB's tai40a.sln lists 0..n-1; a list holding 0 cannot be 1-based."""
    assert read_qaplib_solution(io.StringIO("3 10\n1 2 0\n"))[1].tolist() == [1, 2, 0]


@given(st.permutations(range(7)), st.one_of(st.integers(-(10**12), 10**12),
                                            st.floats(-1e9, 1e9)))
def test_qaplib_solutions_round_trip(permutation, objective):
    out = io.StringIO()
    write_qaplib_solution(objective, permutation, out)
    value, read = read_qaplib_solution(io.StringIO(out.getvalue()))
    assert value == objective and read.tolist() == list(permutation)


@pytest.mark.parametrize(("objective", "permutation", "match"), [
    (float("nan"), [0, 1], "objective must be finite"),
    (1.0, [0, 0], "permutation must be a permutation of 0..n-1"),
    (1.0, [1.0, 0.0], "permutation must be a permutation of 0..n-1"),
])
def test_the_solution_writer_refuses_what_it_cannot_write(objective, permutation, match):
    with pytest.raises(ValueError, match=match):
        write_qaplib_solution(objective, permutation, io.StringIO())
