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
