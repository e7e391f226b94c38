"""Gset/rudy reader and writer."""

import io
import pathlib

import networkx as nx
import pytest

from nx_gradopt.io import read_gset, write_gset

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
        ("", "header must be 'n m'"),
        ("3 x\n", "header must be 'n m'"),
        ("3 2\n1 2 1\n", "announces 2 edges; the file has 1"),
        ("3 1\n1 4 1\n", r"node numbers must lie in 1..3"),
        ("3 1\n1 2\n", "edge lines must be 'i j w'"),
        ("3 1\n1 2 nan\n", "weights must be finite"),
    ],
)
def test_malformed_files(text, match):
    with pytest.raises(ValueError, match=match):
        read_gset(io.StringIO(text))


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

    import numpy as np

    from nx_gradopt.io import read_qaplib, read_qaplib_solution

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
        ("", "must hold n and then two"),
        ("2\n1 2 3 4\n5 6 7\n", r"announces n=2, so 2 n\^2 = 8 numbers; it has 7"),
        ("2\n1 x 3 4 5 6 7 8\n", "must hold n and then two"),
    ],
)
def test_malformed_qaplib_files(text, match):
    from nx_gradopt.io import read_qaplib

    with pytest.raises(ValueError, match=match):
        read_qaplib(io.StringIO(text))


@pytest.mark.parametrize(
    ("text", "match"),
    [("3 10\n1 2\n", r"permutation of 1..3"), ("3 10\n1 1 2\n", r"permutation of 1..3"),
     ("3\n", "must hold n, the objective")],
)
def test_malformed_qaplib_solutions(text, match):
    from nx_gradopt.io import read_qaplib_solution

    with pytest.raises(ValueError, match=match):
        read_qaplib_solution(io.StringIO(text))
