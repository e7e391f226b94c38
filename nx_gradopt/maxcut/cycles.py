"""The cycle relaxation of max-cut: a bound and a cut from one minimum-weight matching.

Every cut crosses every cycle an even number of times. Take a family of short cycles (the
triangles and chordless 4-cycles) in which each edge lies on one or two, as the faces of a
grid, a torus or a triangular lattice do, and relax max-cut to: the edge set X of largest
weight that meets each of them evenly. With P the positive edges, write X = P Δ J; then
w(X) = w(P) − |w|(J), and X meets each cycle evenly exactly when J meets the cycles that P
meets oddly ("frustrated" in spin-glass terms) oddly and the others evenly. In the graph
whose vertices are the cycles, joined by each edge between the (one or two) cycles through
it, with a boundary vertex for an edge on one cycle, J is a T-join, and the lightest one is
a minimum-weight perfect matching of the frustrated cycles (Edmonds & Johnson 1973), which
PyMatching's sparse blossom finds in 0.2 s at 20 000 nodes (Higgott & Gidney, "Sparse
Blossom", Quantum 9, 1600 (2025)). So

    max-cut ≤ w(P) − |w|(J*),

and when the cycles span the cycle space (the faces of a plane graph) X is a cut and this is
the maximum cut: Barahona's reduction of planar max-cut, and of ground states of planar spin
glasses, to matching. On a torus the faces miss two cycles of the cycle space: X is then a
cut or a cut plus a loop around the torus, and colouring the nodes along a spanning tree
turns it into a cut a few dozen edges short, which the local search repairs. On the Gset
tori measured (G11-G13, G32-G34, G48, G57, G62, G65-G67, G72, G77, G81) the bound is at most
0.4% above the best known cut (0.21% from 7 000 nodes; the SDP value is 11-12% above it),
and the cuts of G62, G65, G72 and G77 meet it, which proves them maximum (G62: 4 872, above
the best known 4 870).
"""

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..core.compiled import compiled, load_once
from .local_search import cut_value, symmetric_csr

# PyMatching computes in integers; weights that are not small integers are scaled so that the
# largest is this, and the bound allows for the rounding (see _matching_weights).
MATCHING_SCALE = 2**20
# Matchings with other tie-breaks tried when the first optimal edge set is no cut; only while
# the tie-breaking weights stay below the limit (PyMatching's weights are 32-bit integers).
TIE_BREAKS = 4
TIE_BREAK_LIMIT = 2**24
# What a matching costs, to keep to a deadline: 5 µs an edge measured on the tori G62 and G81
# (0.05 and 0.2 s), doubled for slower machines.
MATCHING_SECONDS_PER_EDGE = 1e-5
# The search for short cycles walks the neighbours of each node's neighbours, Σ degree² steps
# (16 n on a square lattice); a graph with a hub of 10⁵ neighbours would take 10¹⁰, so
# beyond this the relaxation is not tried (about 0.2 s of search at the limit).
SEARCH_LIMIT = 1e8


@dataclass(frozen=True)
class CycleRelaxation:
    """The relaxation's bound (``bound``: no cut is heavier), the cut coloured from its
    optimal edge set (``spins``, ±1 per node) and that cut's weight (``cut``); ``cycles``
    counts the short cycles used."""

    bound: float
    spins: np.ndarray
    cut: float
    cycles: int


def cycle_relaxation(matrix, rng, deadline=math.inf):
    """The cycle relaxation of the graph with symmetric weighted adjacency ``matrix`` (SciPy
    CSR, sorted indices, no self-loops), or None when it does not apply: when some edge lies
    on no triangle or chordless 4-cycle, or on more than two, or when looking costs too much
    (see SEARCH_LIMIT), or when a matching would end past ``deadline`` (``time.perf_counter``
    seconds; tie-breaks stop before it). ``rng`` (a NumPy Generator) breaks the matching's
    ties."""
    m = matrix.nnz // 2  # edges (no self-loops), zero weights included

    def affordable():
        return time.perf_counter() + MATCHING_SECONDS_PER_EDGE * m <= deadline

    degrees = np.diff(matrix.indptr)
    if m == 0 or not affordable() or float(degrees @ degrees) > SEARCH_LIMIT:
        return None
    upper = sp.triu(matrix, k=1, format="coo")
    rows, cols, w = upper.row.astype(np.int64), upper.col.astype(np.int64), upper.data
    csr = (matrix.indptr, matrix.indices, matrix.data)
    # Each stored entry's edge number, for the compiled walks over the adjacency.
    edge = sp.coo_matrix(
        (np.r_[np.arange(1, m + 1), np.arange(1, m + 1)], (np.r_[rows, cols], np.r_[cols, rows])),
        shape=matrix.shape,
    ).tocsr()
    edge.sort_indices()
    indptr, indices = edge.indptr.astype(np.int64), edge.indices.astype(np.int64)
    ids = edge.data.astype(np.int64) - 1
    # Paths x-a-y from one node x: at most the largest total degree of a node's neighbours.
    longest = int((edge.astype(bool).astype(np.int64) @ degrees).max())
    cycles = _short_cycles(indptr, indices, ids, m, longest)
    if cycles is None:
        return None
    # Cycles × edges incidence: an edge joins its cycles, or its one cycle to the boundary.
    lengths = (cycles >= 0).sum(axis=1)
    incidence = sp.csc_matrix(
        (np.ones(int(lengths.sum()), dtype=np.uint8),
         (np.repeat(np.arange(len(cycles)), lengths), cycles[cycles >= 0])),
        shape=(len(cycles), m),
    )
    positive = w > 0
    frustrated = ((incidence @ positive.astype(np.int64)) % 2).astype(np.uint8)
    integer_weights, scale, slack = _matching_weights(np.abs(w))
    join = _lightest_join(incidence, integer_weights, frustrated)
    bound = float(w[positive].sum()) - float(integer_weights[join].sum()) / scale + slack
    n = matrix.shape[0]
    crossing = positive ^ join
    spins = _colour(indptr, indices, ids, crossing, n)
    is_cut = _is_cut(indptr, indices, ids, crossing, spins)
    cut = cut_value(*csr, spins)
    # On a torus the optimal edge set may go around it and is then no cut. Optimal sets
    # differ in how the matching breaks ties: other ties (each weight times m + 1 plus a
    # random 0 or 1, which leaves every optimum optimal) may give one that is a cut.
    retie = integer_weights.max() * (m + 1) < TIE_BREAK_LIMIT
    for _ in range(TIE_BREAKS if retie else 0):
        if is_cut or not affordable():
            break
        ties = integer_weights * (m + 1) + rng.integers(0, 2, m)
        crossing = positive ^ _lightest_join(incidence, ties, frustrated)
        other = _colour(indptr, indices, ids, crossing, n)
        is_cut = _is_cut(indptr, indices, ids, crossing, other)
        other_cut = cut_value(*csr, other)
        if is_cut or other_cut > cut:
            spins, cut = other, other_cut
    return CycleRelaxation(bound=bound, spins=spins, cut=cut, cycles=len(cycles))


def _lightest_join(incidence, weights, frustrated):
    """The lightest edge set meeting the ``frustrated`` cycles oddly and the others evenly:
    PyMatching's minimum-weight matching on the cycles (an edge with one cycle goes to the
    boundary)."""
    import pymatching

    matching = pymatching.Matching.from_check_matrix(incidence, weights=weights)
    return matching.decode(frustrated).astype(bool)


def load_compiled():
    """Load the compiled cycle search and colouring and import PyMatching, before a caller's
    clock starts (together about a second; compiling takes longer the first time)."""

    def warm_up():
        import pymatching  # noqa: F401

        # A triangle, in the index and weight types of the solver's matrices.
        triangle = symmetric_csr(3, np.array([0, 1, 2]), np.array([1, 2, 0]), np.ones(3))
        cycle_relaxation(triangle, np.random.default_rng(0))

    load_once(_collect_short_cycles, "max-cut cycle relaxation", warm_up)


def _matching_weights(weights):
    """Integer weights for PyMatching and what the bound must allow for their rounding.

    Integers of at most MATCHING_SCALE are kept: the matching is exact. Other weights are
    scaled by s so that the largest is MATCHING_SCALE, and rounded, each by at most half a
    unit. The lightest edge set J* for the true weights then weighs at least (q(J*) − m/2)/s
    ≥ (q(J) − m/2)/s, with J the set the matching finds for the rounded weights q: the bound
    computed from q(J)/s is raised by m/(2s), m/2²¹ of the largest weight. Returns (q, s,
    slack)."""
    largest = float(weights.max())
    if largest <= MATCHING_SCALE and np.all(weights == np.round(weights)):
        return weights.astype(np.float64), 1.0, 0.0
    scale = MATCHING_SCALE / largest
    return np.round(weights * scale), scale, len(weights) / (2 * scale)


@compiled
def _collect_short_cycles(indptr, indices, ids, m, longest, cycles):
    """Fill ``cycles`` (rows of 4 edge numbers, -1 padding a triangle) with every triangle
    and chordless 4-cycle, each once (from its smallest node); return how many, or -1 as
    soon as an edge lies on more than two. ``longest`` bounds the paths x-a-y from one x."""
    n = len(indptr) - 1
    on = np.zeros(m, np.int64)  # cycles through each edge
    to_x = np.full(n, -1, np.int64)  # the edge from the current x to each neighbour, or -1
    via_head = np.full(n, -1, np.int64)  # paths x-a-y found so far, a linked list per y
    # The paths x-a-y of the current x, with x the smallest node and y no neighbour of x
    # (else a chord): a, the edges x-a and a-y, and the next path to the same y.
    path_a = np.empty(longest, np.int64)
    path_xa = np.empty(longest, np.int64)
    path_ay = np.empty(longest, np.int64)
    via_next = np.empty(longest, np.int64)
    touched = np.empty(longest, np.int64)  # the ends y reached from x
    count = 0
    for x in range(n):
        for k in range(indptr[x], indptr[x + 1]):
            to_x[indices[k]] = ids[k]
        touched_count = 0
        p = 0
        for k in range(indptr[x], indptr[x + 1]):
            a = indices[k]
            if a <= x:
                continue
            for j in range(indptr[a], indptr[a + 1]):
                y = indices[j]
                if y <= x:
                    continue
                if to_x[y] >= 0:
                    if y > a:  # the triangle x < a < y, once
                        if count == len(cycles):
                            return -1
                        for e in (ids[k], ids[j], to_x[y]):
                            on[e] += 1
                            if on[e] > 2:
                                return -1
                        cycles[count, 0], cycles[count, 1] = ids[k], ids[j]
                        cycles[count, 2], cycles[count, 3] = to_x[y], -1
                        count += 1
                    continue
                path_a[p], path_xa[p], path_ay[p] = a, ids[k], ids[j]
                if via_head[y] < 0:
                    touched[touched_count] = y
                    touched_count += 1
                via_next[p] = via_head[y]
                via_head[y] = p
                p += 1
        # Two paths x-a-y and x-b-y close a 4-cycle; chordless when a and b are not adjacent.
        for t in range(touched_count):
            y = touched[t]
            first = via_head[y]
            while first >= 0:
                second = via_next[first]
                while second >= 0:
                    a, b = path_a[first], path_a[second]
                    chord = False
                    for j in range(indptr[a], indptr[a + 1]):
                        if indices[j] == b:
                            chord = True
                            break
                    if not chord:
                        if count == len(cycles):
                            return -1
                        row = (path_xa[first], path_ay[first], path_xa[second], path_ay[second])
                        for i in range(4):
                            on[row[i]] += 1
                            if on[row[i]] > 2:
                                return -1
                            cycles[count, i] = row[i]
                        count += 1
                    second = via_next[second]
                first = via_next[first]
            via_head[y] = -1
        for k in range(indptr[x], indptr[x + 1]):
            to_x[indices[k]] = -1
    for e in range(m):
        if on[e] == 0:
            return -1
    return count


def _short_cycles(indptr, indices, ids, m, longest):
    """The short cycles as rows of edge numbers, or None when the relaxation does not apply.
    With each edge on at most two of them there are at most 2m/3."""
    cycles = np.empty((2 * m // 3 + 1, 4), np.int64)
    count = _collect_short_cycles(indptr, indices, ids, m, longest, cycles)
    return None if count < 0 else cycles[:count]


@compiled
def _is_cut(indptr, indices, ids, crossing, spins):
    """Whether ``spins`` cross exactly the ``crossing`` edges."""
    for i in range(len(indptr) - 1):
        for k in range(indptr[i], indptr[i + 1]):
            if (spins[i] != spins[indices[k]]) != crossing[ids[k]]:
                return False
    return True


@compiled
def _colour(indptr, indices, ids, crossing, n):
    """Spins that put the ends of each ``crossing`` edge on opposite sides and of each other
    edge on the same side, along a breadth-first spanning forest (exact when ``crossing`` is
    a cut)."""
    spins = np.zeros(n)
    queue = np.empty(n, np.int64)
    for root in range(n):
        if spins[root] != 0:
            continue
        spins[root] = 1.0
        queue[0], head, tail = root, 0, 1
        while head < tail:
            i = queue[head]
            head += 1
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if spins[j] == 0:
                    spins[j] = -spins[i] if crossing[ids[k]] else spins[i]
                    queue[tail] = j
                    tail += 1
    return spins


def proven_maximum(cut, bound, integral):
    """Whether ``cut`` is a maximum cut by ``bound``: at the bound, or at its floor for
    integer weights (up to rounding in the sums)."""
    target = math.floor(bound + 1e-9) if integral else bound
    return cut >= target - 1e-9 * max(1.0, abs(bound))
