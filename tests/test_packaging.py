"""Packaging: the license ships, and Numba's on-disk cache degrades gracefully."""

import pathlib
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_the_license_is_bsd_3_clause_and_declared_for_the_wheel():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License")
    project = (ROOT / "pyproject.toml").read_text()
    assert 'license = "BSD-3-Clause"' in project and 'license-files = ["LICENSE"]' in project


def test_searches_run_without_a_writable_numba_cache():
    """A read-only install with no writable home leaves Numba no cache locator, and
    ``njit(cache=True)`` then raises at import ("no locator available"). Emptying Numba's
    list of locators makes exactly that condition whatever the user (root writes anywhere,
    so a read-only copy of the package would not reproduce it here)."""
    script = textwrap.dedent("""
        import logging, sys
        import numba.core.caching
        numba.core.caching.CacheImpl._locator_classes = []
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
        import networkx as nx
        import nx_gradopt
        G = nx.petersen_graph()
        value, _ = nx.max_cut_sdp(G, seed=0)
        H = nx.relabel_nodes(G, {u: str(u) for u in G})
        mapping = nx.graph_match(G, H, seed=0)
        print(value, sum(H.has_edge(mapping[u], mapping[v]) for u, v in G.edges()))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["12", "15"]  # Petersen's max-cut; all 15 edges kept
    assert "Numba finds no writable cache location" in result.stderr
