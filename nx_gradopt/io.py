"""Readers and writers for the field's benchmark formats.

- Gset / rudy (max-cut): a header line ``n m``, then ``m`` lines ``i j w`` with 1-based
  node numbers; w is an integer or a real (Gset uses 1 and -1). Nodes are 0..n-1 here.
- QAPLIB (quadratic assignment): ``n``, then the n x n matrices A and B, numbers separated by
  any whitespace; a solution file holds ``n`` and the objective, then a 1-based permutation.

The readers never trust a header: sizes are checked against the data before anything of that
size is allocated, every parse error names the file and the line, and non-finite numbers are
rejected. The writers write canonical numbers (``2``, ``2.5``, never ``np.float64(2.5)``) and
refuse weights their reader would reject.
"""

import math
import numbers
import os

import networkx as nx
import numpy as np

__all__ = [
    "read_gset", "write_gset", "read_qaplib", "read_qaplib_solution", "write_qaplib_solution",
]

# Integral weights are kept as Python ints only where a float64 holds them exactly.
_EXACT_INTEGERS = 2**53
_LARGEST_FLOAT = int(np.finfo(np.float64).max)


def _open(path, mode):
    """(handle, name for messages, whether we opened it)."""
    if hasattr(path, "read") or hasattr(path, "write"):
        return path, getattr(path, "name", "<stream>"), False
    path = os.fspath(path)
    # surrogateescape: a stray non-ASCII byte becomes a token that fails to parse, so the error
    # names its line (a decoding error would not know the line).
    return open(path, mode, encoding="ascii", errors="surrogateescape"), path, True


def _lines(handle):
    """Non-blank lines as (line number, tokens)."""
    for number, line in enumerate(handle, start=1):
        tokens = line.replace(",", " ").split()  # some QAPLIB files separate by commas
        if tokens:
            yield number, tokens


def _parsed(token, parse):
    """``parse(token)``, or None where it fails. ASCII only: int() and float() also read other
    scripts' digits, which no such file holds."""
    if token.isascii():
        try:
            return parse(token)
        except ValueError:
            pass
    return None


def _integer(token, name, line, what):
    value = _parsed(token, int)
    if value is None:
        raise ValueError(f"{name}: line {line}: {what} must be an integer; got {token!r}")
    return value


def _real(token, name, line, what):
    value = _parsed(token, float)
    if value is None:
        raise ValueError(f"{name}: line {line}: {what} must be a number; got {token!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name}: line {line}: {what} must be finite; got {token!r}")
    return value


def read_gset(path, *, max_isolated_nodes=1_000_000):
    """Read a Gset (rudy) max-cut instance as an undirected weighted graph.

    Parameters
    ----------
    path : path or file object
        The instance file.
    max_isolated_nodes : int, optional (default 1,000,000)
        How many nodes the header may declare beyond those the edge lines touch. The header's
        ``n`` is not trusted: a corrupt ``n`` would otherwise allocate nodes until memory runs
        out. Raise it for files that really hold that many isolated nodes.

    Returns
    -------
    G : networkx.Graph
        Nodes ``0 .. n-1`` (the file's 1-based numbers minus one), ``weight`` on every edge
        (int when every weight in the file is an integer below 2**53 in magnitude, else
        float). Repeated edges are summed.

    Raises
    ------
    ValueError
        With the file name and line number, if the header or an edge line is malformed, a
        weight is not finite, a node number is out of range, the number of edge lines differs
        from the header's, or the header declares more than ``max_isolated_nodes`` nodes that
        no edge touches.

    Examples
    --------
    >>> import io
    >>> G = read_gset(io.StringIO("3 2\\n1 2 1\\n2 3 -1\\n"))
    >>> sorted(G.edges(data="weight"))
    [(0, 1, 1), (1, 2, -1)]
    """
    handle, name, close = _open(path, "r")
    try:
        lines = _lines(handle)
        first = next(lines, None)
        if first is None or len(first[1]) != 2:
            shown = " ".join(first[1]) if first else ""
            raise ValueError(f"{name}: line {first[0] if first else 1}: Gset header must be "
                             f"'n m'; got {shown!r}")
        line, (n_token, m_token) = first
        n = _integer(n_token, name, line, "the header's n")
        m = _integer(m_token, name, line, "the header's m")
        if n < 0 or m < 0:
            raise ValueError(f"{name}: line {line}: Gset header must be non-negative; "
                             f"got n={n}, m={m}")
        ends, weights = [], []
        for line, tokens in lines:
            if len(ends) == m:
                raise ValueError(f"{name}: line {line}: the header announces {m} edges; "
                                 "the file has more")
            if len(tokens) != 3:
                raise ValueError(f"{name}: line {line}: Gset edge lines must be 'i j w'; "
                                 f"got {' '.join(tokens)!r}")
            i = _integer(tokens[0], name, line, "a node number")
            j = _integer(tokens[1], name, line, "a node number")
            if not (1 <= i <= n and 1 <= j <= n):
                raise ValueError(f"{name}: line {line}: Gset node numbers must lie in 1..{n}; "
                                 f"got {i} {j}")
            ends.append((i - 1, j - 1))
            weights.append(_real(tokens[2], name, line, "a weight"))
    finally:
        if close:
            handle.close()
    if len(ends) != m:
        raise ValueError(f"{name}: the header announces {m} edges; the file has {len(ends)}")
    touched = len({node for edge in ends for node in edge})
    if n - touched > max_isolated_nodes:
        raise ValueError(
            f"{name}: the header declares n={n} nodes, {n - touched} of them on no edge; "
            f"more than max_isolated_nodes={max_isolated_nodes}. Pass a larger "
            "max_isolated_nodes if the file is right."
        )
    integral = all(w.is_integer() and abs(w) < _EXACT_INTEGERS for w in weights)
    G = nx.Graph()
    G.add_nodes_from(range(n))
    for (i, j), w in zip(ends, weights):
        w = int(w) if integral else w
        if G.has_edge(i, j):
            G.edges[i, j]["weight"] += w
        else:
            G.add_edge(i, j, weight=w)
    return G


def _canonical(value, edge):
    """The text of a finite real weight, as the reader reads it back."""
    if isinstance(value, numbers.Integral):  # int, bool, numpy integers
        if abs(int(value)) <= _LARGEST_FLOAT:  # the reader reads numbers as float64
            return str(int(value))
    elif isinstance(value, numbers.Real):  # float, numpy floats, fractions
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number):
            return repr(number)
    raise ValueError(f"write_gset: the weight of edge {edge!r} must be a finite real number; "
                     f"got {value!r}")


def write_gset(G, path, weight="weight"):
    """Write an undirected graph in Gset (rudy) format.

    Nodes are numbered ``1 .. n`` in ``list(G)`` order; an edge without ``weight`` is
    written with weight 1 (NetworkX's default). Weights are written canonically: integers
    (``bool`` and NumPy integers included) as integers, other reals as the shortest decimal
    that reads back to the same float64.

    Raises
    ------
    NetworkXNotImplemented
        If G is directed or a multigraph.
    ValueError
        If a weight is not a finite real number (complex, ``None``, text, NaN, infinite);
        nothing is written then.

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
        lines.append(f"{index[a]} {index[b]} {_canonical(w, (a, b))}")
    handle, _, close = _open(path, "w")
    try:
        handle.write("\n".join(lines) + "\n")
    finally:
        if close:
            handle.close()


def _header_n(lines, name, what):
    first = next(lines, None)
    if first is None:
        raise ValueError(f"{name}: {what} is empty; it must start with n")
    line, tokens = first
    n = _integer(tokens[0], name, line, "n")
    if n < 1:
        raise ValueError(f"{name}: line {line}: n must be a positive integer; got {n}")
    return n, [(line, token) for token in tokens[1:]]


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
        With the file name and line number, if the file does not hold a positive n and then
        exactly 2 n² finite numbers.

    Examples
    --------
    >>> import io
    >>> A, B = read_qaplib(io.StringIO("2\\n0 1\\n1 0\\n\\n0 5\\n5 0\\n"))
    >>> A.shape, float(B[0, 1])
    ((2, 2), 5.0)
    """
    handle, name, close = _open(path, "r")
    try:
        lines = _lines(handle)
        n, pending = _header_n(lines, name, "the QAPLIB file")
        count = 2 * n * n
        values = []
        for line, token in pending:
            values.append(_real(token, name, line, "a matrix entry"))
        for line, tokens in lines:
            # Checked before storing: a header's n cannot make us hold more than the file has.
            if len(values) + len(tokens) > count:
                raise ValueError(f"{name}: line {line}: the file announces n={n}, so 2 n^2 = "
                                 f"{count} numbers; it has more")
            values.extend(_real(token, name, line, "a matrix entry") for token in tokens)
    finally:
        if close:
            handle.close()
    if len(values) != count:
        raise ValueError(f"{name}: the file announces n={n}, so 2 n^2 = {count} numbers; "
                         f"it has {len(values)}")
    values = np.array(values, dtype=np.float64)
    return values[: n * n].reshape(n, n), values[n * n:].reshape(n, n)


def read_qaplib_solution(path):
    """Read a QAPLIB ``.sln`` file: the objective and the permutation (0-based).

    Returns
    -------
    objective : int or float
        The objective value stated in the file (an int when it is an integer).
    permutation : numpy.ndarray
        ``permutation[i]`` is the location of facility i, numbered from 0. A few files (kra30a
        in QAPLIB) list the inverse permutation: check the objective both ways. A file that
        numbers from 0 (tai40a in QAPLIB) is read as such: its list holds 0 and not n.

    Raises
    ------
    ValueError
        With the file name and line number, if the file does not hold a positive n, a finite
        objective and a permutation of 1..n.

    Examples
    --------
    >>> import io
    >>> read_qaplib_solution(io.StringIO("3 10\\n2 3 1\\n"))
    (10, array([1, 2, 0]))
    """
    handle, name, close = _open(path, "r")
    try:
        lines = _lines(handle)
        n, pending = _header_n(lines, name, "the QAPLIB solution")
        rest = pending + [(line, token) for line, tokens in lines for token in tokens]
    finally:
        if close:
            handle.close()
    if not rest:
        raise ValueError(f"{name}: the QAPLIB solution must hold n, the objective and a "
                         "permutation; the objective is missing")
    line, token = rest[0]
    objective = _real(token, name, line, "the objective")
    entries = rest[1:]
    if len(entries) != n:
        raise ValueError(f"{name}: the QAPLIB solution must list a permutation of 1..{n}; "
                         f"it lists {len(entries)} numbers")
    permutation = np.array([_integer(token, name, line, "a permutation entry")
                            for line, token in entries], dtype=np.int64)
    # QAPLIB's tai40a.sln numbers from 0; a list holding 0 (and so not n) cannot be 1-based.
    permutation -= 0 if 0 in permutation else 1
    if not np.array_equal(np.sort(permutation), np.arange(n)):
        raise ValueError(f"{name}: the QAPLIB solution must list a permutation of 1..{n}")
    exact = objective.is_integer() and abs(objective) < _EXACT_INTEGERS
    return (int(objective) if exact else objective), permutation


def write_qaplib_solution(objective, permutation, path):
    """Write a QAPLIB ``.sln`` file: ``n objective`` then the 1-based permutation.

    Parameters
    ----------
    objective : real
        The objective value; written as an integer when it is one.
    permutation : sequence of int
        ``permutation[i]`` is the location (0-based) of facility i, as
        :func:`read_qaplib_solution` returns it and ``quadratic_assignment`` reports it
        in ``col_ind``.

    Raises
    ------
    ValueError
        If the objective is not finite or ``permutation`` is not a permutation of 0..n-1.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> write_qaplib_solution(10.0, [1, 2, 0], out)
    >>> print(out.getvalue(), end="")
    3 10
    2 3 1
    """
    permutation = np.asarray(permutation)
    n = permutation.size
    if (permutation.ndim != 1 or n == 0 or not np.issubdtype(permutation.dtype, np.integer)
            or not np.array_equal(np.sort(permutation), np.arange(n))):
        raise ValueError(f"permutation must be a permutation of 0..n-1; got {permutation!r}")
    value = float(objective)
    if not math.isfinite(value):
        raise ValueError(f"objective must be finite; got {objective!r}")
    shown = str(int(value)) if value.is_integer() and abs(value) < _EXACT_INTEGERS else repr(value)
    handle, _, close = _open(path, "w")
    try:
        handle.write(f"{n} {shown}\n{' '.join(str(int(p) + 1) for p in permutation)}\n")
    finally:
        if close:
            handle.close()
