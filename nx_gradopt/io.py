"""Readers and writers for the field's benchmark formats.

- Gset / rudy (max-cut): a header line ``n m``, then ``m`` lines ``i j w`` with 1-based
  node numbers; w is an integer or a real (Gset uses 1 and -1). Nodes are 0..n-1 here.
"""

import os

import networkx as nx
import numpy as np

__all__ = ["read_gset", "write_gset"]


def _open(path, mode):
    if hasattr(path, "read") or hasattr(path, "write"):
        return path, False
    return open(os.fspath(path), mode, encoding="ascii"), True


def read_gset(path):
    """Read a Gset (rudy) max-cut instance as an undirected weighted graph.

    Parameters
    ----------
    path : path or file object
        The instance file.

    Returns
    -------
    G : networkx.Graph
        Nodes ``0 .. n-1`` (the file's 1-based numbers minus one), ``weight`` on every edge
        (int when every weight in the file is integral, else float). Repeated edges are summed.

    Raises
    ------
    ValueError
        If the header or an edge line is malformed, a node number is out of range, or the
        number of edge lines differs from the header's.

    Examples
    --------
    >>> import io
    >>> G = read_gset(io.StringIO("3 2\\n1 2 1\\n2 3 -1\\n"))
    >>> sorted(G.edges(data="weight"))
    [(0, 1, 1), (1, 2, -1)]
    """
    handle, close = _open(path, "r")
    try:
        header = handle.readline().split()
        if len(header) < 2:
            raise ValueError(f"Gset header must be 'n m'; got {' '.join(header)!r}")
        try:
            n, m = int(header[0]), int(header[1])
        except ValueError:
            raise ValueError(f"Gset header must be 'n m'; got {' '.join(header)!r}") from None
        if n < 0 or m < 0:
            raise ValueError(f"Gset header must be non-negative; got n={n}, m={m}")
        rows = [line.split() for line in handle if line.strip()]
    finally:
        if close:
            handle.close()
    if len(rows) != m:
        raise ValueError(f"Gset header announces {m} edges; the file has {len(rows)}")
    if any(len(row) != 3 for row in rows):
        bad = next(row for row in rows if len(row) != 3)
        raise ValueError(f"Gset edge lines must be 'i j w'; got {' '.join(bad)!r}")
    ends = np.array([[int(i), int(j)] for i, j, _ in rows], dtype=np.int64).reshape(-1, 2)
    if ends.size and (ends.min() < 1 or ends.max() > n):
        raise ValueError(f"Gset node numbers must lie in 1..{n}")
    weights = np.array([float(w) for *_, w in rows], dtype=np.float64)
    if not np.isfinite(weights).all():
        raise ValueError("Gset weights must be finite")
    integral = bool(np.all(weights == np.round(weights)))
    G = nx.Graph()
    G.add_nodes_from(range(n))
    for (i, j), w in zip(ends.tolist(), weights.tolist()):
        w = int(w) if integral else w
        if G.has_edge(i - 1, j - 1):
            G.edges[i - 1, j - 1]["weight"] += w
        else:
            G.add_edge(i - 1, j - 1, weight=w)
    return G


def write_gset(G, path, weight="weight"):
    """Write an undirected graph in Gset (rudy) format.

    Nodes are numbered ``1 .. n`` in ``list(G)`` order; an edge without ``weight`` is
    written with weight 1 (NetworkX's default).

    Raises
    ------
    NetworkXNotImplemented
        If G is directed or a multigraph.

    Examples
    --------
    >>> import io, networkx as nx
    >>> out = io.StringIO()
    >>> write_gset(nx.path_graph(3), out)
    >>> print(out.getvalue(), end="")
    3 2
    1 2 1
    2 3 1
    """
    if G.is_directed() or G.is_multigraph():
        raise nx.NetworkXNotImplemented("write_gset needs an undirected simple graph.")
    index = {node: k + 1 for k, node in enumerate(G)}
    lines = [f"{len(index)} {G.number_of_edges()}"]
    for a, b, w in G.edges(data=weight, default=1):
        lines.append(f"{index[a]} {index[b]} {w!r}" if isinstance(w, float) else
                     f"{index[a]} {index[b]} {w}")
    handle, close = _open(path, "w")
    try:
        handle.write("\n".join(lines) + "\n")
    finally:
        if close:
            handle.close()
