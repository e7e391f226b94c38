"""Sub-tree similarity of two graphs: a start for unseeded matching where the relaxations fail.

On correlated sparse pairs at moderate correlation (rho = 0.8), GOAT and FAQ from the
barycenter end sharp in a wrong optimum: n = 1000, p = 0.01 matched 1.1% and kept 3 152 of the
true map's 8 050 in the objective, and no random or perturbed start did better. Their first
gradient, A 1 1^T B^T, sees degrees only, and one neighbourhood's degrees do not tell nodes
apart at that noise (degree profiles, Ding et al. 2021: 1% of their mutual best pairs were
right there).

Deeper neighbourhoods do. After Piccioli, Semerjian, Sicuro and Zdeborová (2022, "Aligning
random graphs with a sub-tree similarity message-passing algorithm"), a pair (i, j) scores
how well the neighbourhood tree of i maps into that of j:

- depth 1: min(deg i, deg j), the larger common star;
- depth t + 1: the greedy maximum-weight matching of i's neighbours to j's, a matched pair
  (a, b) weighing the positive part of its depth-t score.

Between levels the scores are centred by row and by column and scaled to unit variance, so
that a pair scores by how much better it matches than its rows' typical pairs, not by its
degrees. The matching must be one-to-one: with each neighbour's best score summed instead
(each neighbour of i free to pick the same neighbour of j; O(n^2 d) per level), the rows'
best scores picked 0.3% of the true partners at every depth up to 14 on the pair above.

On that pair the linear assignment of the depth-4 scores (node trees, below) matched only 4.8%
of the nodes, but GOAT started from it matched all; depth 3 was not enough (3.7%).

The trees come in two kinds. Node trees pass scores between nodes: n^2 scores, and a level
reads sum_ij deg_i deg_j = (2|E_A|)(2|E_B|) of them, with a greedy matching per pair, on
every core. But the tree of i at depth t + 1 counts i again below each neighbour (the walk
i -> a -> i), an echo of the root that blurs the scores where degrees are small.
Non-backtracking trees, as in the paper, pass scores along directed edges: the score of
(u -> v, u' -> v') matches the edges out of v except v -> u to those out of v' except
v' -> u', and a last level matches each node's edges. That is (2|E_A|)(2|E_B|) scores
between levels, and a level reads sum_v d_v(d_v - 1) times the same sum over B, about d^2
times the node trees' reads (d the mean degree). On n = 1000, p = 0.005, rho = 0.8 their
linear assignment at depth 9 was right for 94-97% of the nodes, against 5.6-36% for node
trees at depth 8 (solver.py's NONBACKTRACKING_MIN_DEPTH says where each is used).
"""

import threading

import numba
import numpy as np
import scipy.sparse as sp

from ..core.compiled import compiled, load_once
from ..core.runtime import TimeLimit


# A pair's index rides in the low bits of its weight's IEEE pattern: positive doubles order
# as their bit patterns do, so a heap of int64 keys pops the pairs by weight (to 2^-32
# relative) with no index array beside it. A level of a 2000-node pair (p = 0.01) took 18 s
# so, 28 s with an argsort of every positive pair.
PAIR_BITS = 20
MAX_PAIRS = 1 << PAIR_BITS
# One level at a time per process: each already uses every core, and Numba's fallback
# threading layer (workqueue, where neither OpenMP nor TBB is installed) aborts the process
# when two threads launch parallel code at once (as several problems batched on threads would).
_one_level_at_a_time = threading.Lock()


@compiled
def _sift_down(heap, k, size):
    """Restore the max-heap order below position ``k`` of ``heap[:size]``."""
    item = heap[k]
    while True:
        child = 2 * k + 1
        if child >= size:
            break
        if child + 1 < size and heap[child + 1] > heap[child]:
            child += 1
        if heap[child] <= item:
            break
        heap[k] = heap[child]
        k = child
    heap[k] = item


@compiled(parallel=True)
def _level(indptr_a, indices_a, indptr_b, indices_b, previous, out):
    """One level: ``out[i, j]`` = the greedy matching of i's neighbours to j's, each pair
    (a, b) weighing ``max(previous[a, b], 0)``. Pairs of non-positive weight add nothing,
    so they are left out (exactly the same result, a smaller heap)."""
    n_a, n_b = len(indptr_a) - 1, len(indptr_b) - 1
    max_deg_b = 0
    for j in range(n_b):
        max_deg_b = max(max_deg_b, indptr_b[j + 1] - indptr_b[j])
    low = np.int64(MAX_PAIRS - 1)
    for i in numba.prange(n_a):
        first_i, deg_i = indptr_a[i], indptr_a[i + 1] - indptr_a[i]
        weights = np.empty(deg_i * max_deg_b)
        keys = weights.view(np.int64)
        used_a = np.zeros(deg_i, dtype=np.bool_)
        used_b = np.zeros(max_deg_b, dtype=np.bool_)
        for j in range(n_b):
            first_j, deg_j = indptr_b[j], indptr_b[j + 1] - indptr_b[j]
            count = 0
            for x in range(deg_i):
                row = previous[indices_a[first_i + x]]
                for y in range(deg_j):
                    # Written always, kept only if positive: no branch to mispredict.
                    weights[count] = row[indices_b[first_j + y]]
                    positive = weights[count] > 0.0
                    keys[count] = (keys[count] & ~low) | (x * deg_j + y)
                    count += positive
            total = 0.0
            if count:
                used_a[:] = False
                used_b[:deg_j] = False
                matched, most = 0, min(deg_i, deg_j)
                # A max-heap, popped until the matching is full: a few pops instead of a
                # sort of every positive pair.
                for k in range(count // 2 - 1, -1, -1):
                    _sift_down(keys, k, count)
                while count and matched < most:
                    top = keys[0]
                    count -= 1
                    keys[0] = keys[count]
                    _sift_down(keys, 0, count)
                    x, y = divmod(top & low, deg_j)
                    if used_a[x] or used_b[y]:
                        continue
                    used_a[x] = used_b[y] = True
                    total += previous[indices_a[first_i + x], indices_b[first_j + y]]
                    matched += 1
            out[i, j] = total


def _run_level(*arrays):
    with _one_level_at_a_time:
        _level(*arrays)


def _standardized(scores):
    """Centred by row and by column (the grand mean added back), scaled to unit variance."""
    scores -= scores.mean(axis=1, keepdims=True)
    scores -= scores.mean(axis=0, keepdims=True)
    spread = scores.std()
    if spread > 0:
        scores /= spread
    return scores


def neighbours(matrix):
    """The CSR pattern (indptr, indices) of the undirected simple graph on ``matrix``'s
    nonzeros: both directions of every edge, no self-loops."""
    entries = sp.coo_array(matrix)
    keep = (entries.data != 0) & (entries.row != entries.col)
    rows, cols = entries.row[keep], entries.col[keep]
    pattern = sp.csr_array(
        (np.ones(2 * len(rows), dtype=bool), (np.r_[rows, cols], np.r_[cols, rows])),
        shape=entries.shape,
    )
    pattern.sum_duplicates()
    return pattern.indptr.astype(np.int64), pattern.indices.astype(np.int64)


def edge_children(indptr, indices):
    """The non-backtracking pattern of a graph given by its CSR ``(indptr, indices)``: its
    directed edges, numbered by their position in ``indices``, each with the edges that
    continue it without turning back (those out of u -> v's head v, except v -> u), as a
    CSR ``(indptr, indices)`` over the edge numbers."""
    heads = indices
    tails = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    lengths = np.diff(indptr)[heads]  # the edges out of each edge's head
    owner = np.repeat(np.arange(len(heads)), lengths)
    following = (
        np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        + np.repeat(indptr[heads], lengths)
    )
    # In a simple graph the one edge back to the tail is v -> u itself.
    keep = heads[following] != tails[owner]
    children_indptr = np.zeros(len(heads) + 1, dtype=np.int64)
    np.cumsum(lengths - 1, out=children_indptr[1:])
    return children_indptr, following[keep].astype(np.int64)


def level_work(a, b, *, nonbacktracking=False):
    """Score reads of one level: (2|E_A|)(2|E_B|) on the undirected patterns, or with
    ``nonbacktracking`` the product of the sums of d(d - 1) over the nodes; infinite where
    two neighbourhoods have too many pairs to index (more than MAX_PAIRS)."""
    indptr_a, indices_a = neighbours(a)
    indptr_b, indices_b = neighbours(b)
    if not _indexable(indptr_a, indptr_b):
        return float("inf")
    if nonbacktracking:
        indptr_a, indices_a = edge_children(indptr_a, indices_a)
        indptr_b, indices_b = edge_children(indptr_b, indices_b)
    return float(len(indices_a)) * float(len(indices_b))


def edge_pairs(a, b):
    """The scores of a non-backtracking level, one per pair of directed edges:
    (2|E_A|)(2|E_B|) on the undirected patterns."""
    return float(len(neighbours(a)[1])) * float(len(neighbours(b)[1]))


def _indexable(indptr_a, indptr_b):
    return np.diff(indptr_a).max(initial=0) * np.diff(indptr_b).max(initial=0) <= MAX_PAIRS


def subtree_similarity(a, b, depth, deadline=float("inf"), *, nonbacktracking=False):
    """The depth-``depth`` sub-tree scores of every pair of nodes of ``a`` and ``b``
    (matrices whose nonzeros are the edges; weights and directions are ignored), as a dense
    (len(a), len(b)) array, higher for pairs whose neighbourhoods match better. With
    ``nonbacktracking`` the trees do not turn back (the module's docstring): scores of every
    pair of directed edges, (2|E_A|)(2|E_B|) of them, between levels. Returns None
    where a level would end past ``deadline`` (a ``time.perf_counter()`` time), each
    predicted to take as long as the one before (the first runs unless it has passed).
    Raises ValueError where two neighbourhoods have more than MAX_PAIRS pairs."""
    indptr_a, indices_a = neighbours(a)
    indptr_b, indices_b = neighbours(b)
    if depth > 1 and not _indexable(indptr_a, indptr_b):
        raise ValueError(
            f"two neighbourhoods have more than {MAX_PAIRS} pairs (the largest degrees' "
            "product): too many to index"
        )
    # The levels run on the items that the trees branch from: nodes, or directed edges whose
    # children are the edges that continue them; a last level gathers each node's edges.
    items_a, items_b = (indptr_a, indices_a), (indptr_b, indices_b)
    if nonbacktracking and depth > 1:
        items_a, items_b = edge_children(*items_a), edge_children(*items_b)
    scores = _standardized(
        np.minimum.outer(np.diff(items_a[0]), np.diff(items_b[0])).astype(np.float64)
    )
    if depth > 1:
        load_compiled()
    # A level that would end past the deadline, if it took as long as the last one, does not
    # start: a non-backtracking level takes seconds (n = 1000, p = 0.005: 4-5 s, and a
    # 10 s limit returned after 13.4 s when only a passed deadline was checked).
    limit = TimeLimit.until(deadline)
    for level in range(depth - 1):
        if not limit.next_step_fits():
            return None
        if nonbacktracking and level == depth - 2:  # each node's own edges, all of them
            items_a = indptr_a, np.arange(len(indices_a), dtype=np.int64)
            items_b = indptr_b, np.arange(len(indices_b), dtype=np.int64)
        deeper = np.empty((len(items_a[0]) - 1, len(items_b[0]) - 1))
        with limit.step():
            _run_level(*items_a, *items_b, scores, deeper)
        scores = _standardized(deeper)
    return scores


def load_compiled():
    """Load (or compile, the first time after installing) the level kernel, saying so once."""
    path = (np.array([0, 1, 2]), np.array([1, 0]))
    load_once(_level, "sub-tree similarity", lambda: _run_level(
        *path, *path, np.ones((2, 2)), np.empty((2, 2)),
    ))
