"""Independent references for the tests: NumPy/SciPy only, no nx_gradopt code."""

import itertools

import networkx as nx
import numpy as np


def dense_laplacian(G, weight="weight", nodelist=None):
    """L = D - A from NetworkX's own adjacency matrix."""
    A = nx.to_numpy_array(G, nodelist=nodelist, weight=weight)
    return np.diag(A.sum(axis=1)) - A


def algebraic_connectivity(G, weights):
    """lambda_2 of G with ``weights`` {(u, v): w}, by NumPy's dense eigvalsh."""
    H = nx.Graph()
    H.add_nodes_from(G)
    H.add_weighted_edges_from((u, v, w) for (u, v), w in weights.items())
    return float(np.linalg.eigvalsh(dense_laplacian(H))[1])


def grid_optimum_per_budget(rows, cols):
    r"""Max lambda_2 per unit budget on a rows x cols grid (Fiedler's weighted-path optimum).

    Weight on the edges between columns x and x+1 proportional to x (cols - x), likewise for
    rows, split between the two directions so both path spectra give the same lambda_2:
    12 / (rows cols (rows^2 + cols^2 - 2)); 6 / (N (R^2 - 1)) on an R x R grid.
    """
    return 12.0 / (rows * cols * (rows * rows + cols * cols - 2))


def best_lambda2_on_weight_lattice(G, budget, steps, *, edges=None, capacity=None, base=None):
    """Best lambda_2 over weightings in multiples of budget/steps (tiny graphs, exhaustive).

    ``edges`` the candidate pairs (default G's edges), ``capacity`` {pair: cap}, ``base``
    {pair: weight} a fixed network added to every weighting.
    """
    edges = list(G.edges()) if edges is None else list(edges)
    best = 0.0
    for split in itertools.product(range(steps + 1), repeat=len(edges) - 1):
        if sum(split) > steps:
            continue
        shares = list(split) + [steps - sum(split)]
        weights = {e: budget * s / steps for e, s in zip(edges, shares)}
        if capacity is not None and any(w > capacity[e] + 1e-12 for e, w in weights.items()):
            continue
        for e, w in (base or {}).items():
            weights[e] = weights.get(e, 0.0) + w
        best = max(best, algebraic_connectivity(G, weights))
    return best


def brute_force_max_cut(G, weight="weight"):
    """Maximum cut by enumerating every partition (node 0 fixed on one side); n <= 16."""
    nodes = list(G)
    A = nx.to_numpy_array(G, nodelist=nodes, weight=weight)
    np.fill_diagonal(A, 0.0)
    n = len(nodes)
    signs = np.array(list(itertools.product((1.0, -1.0), repeat=n - 1)))
    x = np.hstack([np.ones((len(signs), 1)), signs])
    cuts = (A.sum() / 2 - np.einsum("ki,ij,kj->k", x, A, x) / 2) / 2
    return float(cuts.max())


def torus_max_cut(G, rows, cols, weight="weight"):
    """Maximum cut of ``nx.grid_2d_graph(rows, cols, periodic=True)`` (weights from G) by a
    transfer matrix over the rows: 2^cols states a row, the first row's state fixed and the
    last row closed onto it. Exact for any weights; cols <= 10."""
    states = np.array(list(itertools.product((0, 1), repeat=cols)))  # side of each column

    def w(a, b):
        return G.edges[a, b].get(weight, 1) if weight is not None else 1

    def within(r):  # cut weight inside row r, per state
        horizontal = np.array([w((r, c), (r, (c + 1) % cols)) for c in range(cols)])
        return (states != np.roll(states, -1, axis=1)).astype(float) @ horizontal

    def between(r):  # cut weight between rows r and r + 1, per pair of states
        vertical = np.array([w((r, c), ((r + 1) % rows, c)) for c in range(cols)])
        return (states[:, None, :] != states[None, :, :]).astype(float) @ vertical

    inside = [within(r) for r in range(rows)]
    across = [between(r) for r in range(rows)]
    # value[f, s]: the best cut of rows 0..r with row 0 in state f and row r in state s.
    value = np.full((len(states), len(states)), -np.inf)
    np.fill_diagonal(value, inside[0])
    for r in range(1, rows):
        value = (value[:, :, None] + across[r - 1][None]).max(axis=1) + inside[r][None]
    return float((value + across[rows - 1].T).max())


def max_cut_sdp_value(G, weight="weight", tol=1e-10):
    r"""Goemans–Williamson SDP value max 1/4 <L, X>, diag X = 1, X psd, by a primal-dual
    interior-point method (Helmberg, Rendl, Vanderbei & Wolkowicz, SIAM J. Optim. 6 (1996)
    342-361, their max-cut example), dense NumPy."""
    A = nx.to_numpy_array(G, weight=weight)
    np.fill_diagonal(A, 0.0)
    C = (np.diag(A.sum(axis=1)) - A) / 4
    n = len(C)
    X = np.eye(n)
    y = np.abs(C).sum(axis=1) + 1.0
    Z = np.diag(y) - C
    for _ in range(200):
        gap = float(np.sum(Z * X))
        if gap < tol * max(1.0, abs(float(y.sum()))):
            break
        mu = gap / (2 * n)
        Zi = np.linalg.inv(Z)
        dy = np.linalg.solve(Zi * X, mu * np.diag(Zi) - 1.0)
        dX = -X + mu * Zi - Zi @ np.diag(dy) @ X
        dX = (dX + dX.T) / 2
        steps = []
        for M, D in ((X, dX), (Z, np.diag(dy))):
            alpha = 1.0
            while alpha > 1e-14:
                try:
                    np.linalg.cholesky(M + alpha * D)
                    break
                except np.linalg.LinAlgError:
                    alpha *= 0.8
            steps.append(0.95 * alpha)
        X = X + steps[0] * dX
        y = y + steps[1] * dy
        Z = np.diag(y) - C
    return float(np.sum(C * X)), float(y.sum())


def brute_force_qap(A, B, *, maximize, similarity=None, fixed=()):
    """Best objective over all permutations (sum_ij A_ij B_p(i)p(j) + sum_i S_i,p(i)), with
    ``fixed`` (i, j) pairs kept: the reference for graphs of up to 7 nodes."""
    import itertools

    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    n = len(A)
    S = np.zeros((n, n)) if similarity is None else np.asarray(similarity, dtype=float)
    best = None
    for perm in itertools.permutations(range(n)):
        if any(perm[i] != j for i, j in fixed):
            continue
        p = np.array(perm)
        value = float((A * B[np.ix_(p, p)]).sum() + S[np.arange(n), p].sum())
        if best is None or (value > best if maximize else value < best):
            best = value
    return best
