"""Readers and writers for the field's benchmark formats.

- Gset / rudy (max-cut): a header line ``n m``, then ``m`` lines ``i j w`` with 1-based
  node numbers; w is an integer or a real (Gset uses 1 and -1). Nodes are 0..n-1 here.
- QAPLIB (quadratic assignment): ``n``, then the n x n matrices A and B, numbers separated by
  any whitespace; a solution file holds ``n`` and the objective, then a 1-based permutation.
"""

import os

import networkx as nx
import numpy as np

__all__ = ["read_gset", "read_qaplib", "read_qaplib_solution", "write_gset"]


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


def _numbers(path):
    handle, close = _open(path, "r")
    try:
        return handle.read().replace(",", " ").split()  # some files separate by commas
    finally:
        if close:
            handle.close()


def read_qaplib(path):
    """Read a QAPLIB instance: the matrices A and B of min over permutations p of
    :math:`\\sum_{ij} A_{ij} B_{p(i) p(j)}` (Koopmans–Beckmann).

    Parameters
    ----------
    path : path or file object
        A QAPLIB ``.dat`` file.

    Returns
    -------
    A, B : numpy.ndarray
        Two n x n float64 arrays, in the file's order (in QAPLIB usually flow, distance).

    Raises
    ------
    ValueError
        If the file does not hold n and then exactly 2 n² numbers.

    Examples
    --------
    >>> import io
    >>> A, B = read_qaplib(io.StringIO("2\\n0 1\\n1 0\\n\\n0 5\\n5 0\\n"))
    >>> A.shape, float(B[0, 1])
    ((2, 2), 5.0)
    """
    tokens = _numbers(path)
    try:
        n = int(tokens[0])
        values = np.array([float(token) for token in tokens[1:]], dtype=np.float64)
    except (IndexError, ValueError):
        raise ValueError("QAPLIB file must hold n and then two n x n matrices of numbers") \
            from None
    if n < 1 or values.size != 2 * n * n:
        raise ValueError(
            f"QAPLIB file announces n={n}, so 2 n^2 = {2 * n * n} numbers; it has {values.size}"
        )
    return values[: n * n].reshape(n, n), values[n * n:].reshape(n, n)


def read_qaplib_solution(path):
    """Read a QAPLIB ``.sln`` file: the objective and the permutation (0-based).

    Returns
    -------
    objective : int or float
        The objective value stated in the file.
    permutation : numpy.ndarray
        ``permutation[i]`` is the location of facility i, numbered from 0. A few files (kra30a
        in the shared set) list the inverse permutation: check the objective both ways.

    Raises
    ------
    ValueError
        If the file does not hold n, the objective and a permutation of 1..n.
    """
    tokens = _numbers(path)
    try:
        n = int(tokens[0])
        objective = float(tokens[1])
        permutation = np.array([int(token) for token in tokens[2:]], dtype=np.int64) - 1
    except (IndexError, ValueError):
        raise ValueError("QAPLIB solution must hold n, the objective and a permutation") \
            from None
    if permutation.size != n or not np.array_equal(np.sort(permutation), np.arange(n)):
        raise ValueError(f"QAPLIB solution must list a permutation of 1..{n}")
    return (int(objective) if objective.is_integer() else objective), permutation
