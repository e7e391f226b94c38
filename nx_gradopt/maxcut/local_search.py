"""Local search for max-cut: 1-flip descent, breakout local search and simulated annealing,
compiled with Numba.

A cut is a spin vector x ∈ {−1, +1}ⁿ. Flipping node i changes the cut by the gain
:math:`g_i = x_i \\sum_j w_{ij} x_j`; after the flip, :math:`g_i \\to -g_i` and each neighbour j
gains :math:`2 w_{ij} x_i x_j` (new :math:`x_i`). Both searches keep g up to date in
O(degree) per move.

These loops are sequential: one move depends on the last. They are written for Numba because
NumPy or torch pay microseconds of dispatch per move and the search makes millions of moves
(measured on Gset: about 50 000 moves/s in NumPy against 1–2 million compiled).

Breakout local search (BLS) follows Benlic & Hao, "Breakout local search for the Max-Cut
problem", Eng. Appl. Artif. Intell. 26 (2013) 1162–1173, :doi:`10.1016/j.engappai.2012.09.001`:
steepest descent to a local optimum, then a perturbation of L moves, either directed
(best non-tabu move, tabu tenure random in [3, n/10]) or random, with L adapted to whether the
search returned to the same optimum.
"""

import numpy as np
import scipy.sparse as sp
from ..core.compiled import compiled, load_once

# BLS parameters from Benlic & Hao (2013), Table 1, as fractions of n where they scale.
JUMP_MIN_FRACTION = 0.01  # L0
JUMP_MAX_FRACTION = 0.1  # Lmax: strong perturbation after too many non-improving optima
STALL_LIMIT = 1000  # T: non-improving local optima before the strong perturbation
DIRECTED_MIN_PROBABILITY = 0.8  # P0
TENURE_MIN = 3  # tabu tenure drawn in [TENURE_MIN, n / 10]
# With integer weights of at most this size the gains are integers, kept sorted in buckets
# (see gain_buckets): the directed perturbation's best non-tabu move costs a few random draws
# instead of a scan of all n gains, and the descent's best move a look at the top bucket
# instead of a scan of the improving list. Measured from a random cut, moves a second with
# the scans / the buckets: G11 (800 nodes) 1.0 / 3.1 million, G55 (5 000) 0.29 / 1.9 million,
# G81 (20 000) 0.068 / 2.8 million; the same moves either way.
BUCKET_MAX_WEIGHT = 16
# Draws among a bucket's nodes before its tabu ones are skipped by a scan instead.
BUCKET_DRAWS = 8

# Layout of the search state carried between calls (the caller stops by time between calls).
_CUT, _BEST, _PREVIOUS = 0, 1, 2  # float slots
_MOVE, _STALLED, _JUMP, _RNG = 0, 1, 2, 3  # integer slots


def symmetric_csr(n, u, v, w):
    """The weights of edges (u[k], v[k]) as a symmetric float64 SciPy CSR matrix (both
    directions, duplicates summed, int64 indices): the form every search here takes."""
    matrix = sp.coo_matrix((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(n, n)).tocsr()
    matrix.sum_duplicates()
    matrix.indptr = matrix.indptr.astype(np.int64)
    matrix.indices = matrix.indices.astype(np.int64)
    matrix.data = matrix.data.astype(np.float64, copy=False)
    return matrix


@compiled
def _random(state):
    """xorshift64* step on ``state[_RNG]``; a float in [0, 1). Owned by the caller, so
    results do not depend on which thread runs a search."""
    z = np.uint64(state[_RNG])
    z ^= z >> np.uint64(12)
    z ^= z << np.uint64(25)
    z ^= z >> np.uint64(27)
    state[_RNG] = np.int64(z)
    return float((z * np.uint64(2685821657736338717)) >> np.uint64(11)) / 9007199254740992.0


@compiled
def gains(indptr, indices, data, x):
    """Cut change of flipping each node."""
    n = x.shape[0]
    g = np.empty(n)
    for i in range(n):
        total = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            total += data[k] * x[indices[k]]
        g[i] = x[i] * total
    return g


@compiled
def cut_value(indptr, indices, data, x):
    """Σ over edges {i, j} with x_i ≠ x_j of w_ij (the CSR holds both directions)."""
    total = 0.0
    for i in range(x.shape[0]):
        for k in range(indptr[i], indptr[i + 1]):
            if x[i] != x[indices[k]]:
                total += data[k]
    return total / 2


@compiled
def _flip(indptr, indices, data, x, g, i):
    xi = -x[i]
    x[i] = xi
    g[i] = -g[i]
    for k in range(indptr[i], indptr[i + 1]):
        j = indices[k]
        g[j] += 2.0 * xi * data[k] * x[j]


@compiled
def _track(improving, where, g, i, eps):
    """Keep ``improving[:count]`` (count in ``improving[-1]``) = the nodes with gain > eps;
    ``where[i]`` is i's position there or -1. O(1) per change."""
    count = improving[-1]
    if g[i] > eps:
        if where[i] < 0:
            improving[count] = i
            where[i] = count
            improving[-1] = count + 1
    elif where[i] >= 0:
        last = improving[count - 1]
        improving[where[i]] = last
        where[last] = where[i]
        where[i] = -1
        improving[-1] = count - 1


@compiled
def _flip_tracked(indptr, indices, data, x, g, i, improving, where, eps):
    _flip(indptr, indices, data, x, g, i)
    _track(improving, where, g, i, eps)
    for k in range(indptr[i], indptr[i + 1]):
        _track(improving, where, g, indices[k], eps)


@compiled
def _bucket_move(buckets, offset, i, old_gain, new_gain):
    """Move node i from the bucket of ``old_gain`` to that of ``new_gain``: one swap per
    bucket boundary crossed (bucket b is ``order[start[b]:start[b + 1]]``)."""
    order, pos, start, top = buckets
    b, target = int(np.rint(old_gain)) + offset, int(np.rint(new_gain)) + offset
    top[0] = max(top[0], target)
    while b < target:  # i to the end of its bucket, which then gives it to the next
        last = start[b + 1] - 1
        j = order[last]
        order[pos[i]], order[last] = j, i
        pos[j], pos[i] = pos[i], last
        start[b + 1] = last
        b += 1
    while b > target:  # i to the front of its bucket, which then gives it to the one before
        first = start[b]
        j = order[first]
        order[pos[i]], order[first] = j, i
        pos[j], pos[i] = pos[i], first
        start[b] = first + 1
        b -= 1


@compiled
def _flip_everywhere(indptr, indices, data, x, g, i, improving, where, eps, buckets, offset):
    """Flip i, keeping the gain buckets (with ``offset`` >= 0) or else the improving list."""
    if offset < 0:
        _flip_tracked(indptr, indices, data, x, g, i, improving, where, eps)
        return
    for k in range(indptr[i], indptr[i + 1]):
        j = indices[k]
        if j != i:  # g[j] gains 2 w x_i x_j, x_i after the flip (-x[i] now), as in _flip
            _bucket_move(buckets, offset, j, g[j], g[j] - 2.0 * x[i] * data[k] * x[j])
    old_gain = g[i]
    _flip(indptr, indices, data, x, g, i)  # the buckets replace the improving list
    _bucket_move(buckets, offset, i, old_gain, g[i])


@compiled
def _top_bucket(buckets):
    """The highest non-empty bucket (lowering the ``top`` hint past emptied ones)."""
    order, pos, start, top = buckets
    while top[0] > 0 and start[top[0] + 1] == start[top[0]]:
        top[0] -= 1
    return top[0]


@compiled
def _first_of_top_bucket(buckets, offset, eps):
    """The smallest node of the highest bucket if its gain exceeds ``eps``, else -1."""
    order, pos, start, top = buckets
    b = _top_bucket(buckets)
    if b - offset <= eps:
        return -1
    first = order[start[b]]
    for k in range(start[b] + 1, start[b + 1]):
        first = min(first, order[k])
    return first


@compiled
def _best_in_buckets(buckets, offset, tabu_until, move, threshold, state):
    """The directed perturbation's move from the gain buckets: uniform among the nodes of
    the highest bucket that has one that is not tabu (or, above ``threshold``, any); -1
    if every node is tabu."""
    order, pos, start, top = buckets
    for b in range(_top_bucket(buckets), -1, -1):
        first, size = start[b], start[b + 1] - start[b]
        if size == 0:
            continue
        if b - offset > threshold:  # aspiration: any move here beats the best cut
            return order[first + int(_random(state) * size)]
        for _ in range(BUCKET_DRAWS):
            i = order[first + int(_random(state) * size)]
            if tabu_until[i] <= move:
                return i
        chosen, allowed = -1, 0
        for k in range(first, first + size):
            i = order[k]
            if tabu_until[i] <= move:
                allowed += 1
                if _random(state) * allowed < 1.0:
                    chosen = i
        if chosen >= 0:
            return chosen
    return -1


@compiled
def descend(indptr, indices, data, x, g, eps):
    """Steepest 1-flip ascent until no flip gains more than ``eps``; returns the total gain."""
    total = 0.0
    n = x.shape[0]
    while True:
        best_i = 0
        best_gain = g[0]
        for i in range(1, n):
            if g[i] > best_gain:
                best_gain = g[i]
                best_i = i
        if best_gain <= eps:
            return total
        total += best_gain
        _flip(indptr, indices, data, x, g, best_i)


@compiled
def anneal(indptr, indices, data, x, g, temperature, sweeps, max_flips, state):
    """Simulated annealing at one temperature: ``sweeps`` sweeps over the nodes in order,
    flipping node i when its gain g_i >= 0, else with probability exp(g_i / temperature)
    (Metropolis), stopping early after ``max_flips`` flips. ``x`` and ``g`` are updated in
    place; ``state[_RNG]`` is the random state. Returns the flips made and the cut's change."""
    n = x.shape[0]
    inverse = 1.0 / temperature
    flips, change = 0, 0.0
    for _ in range(sweeps):
        for i in range(n):
            gi = g[i]
            if gi >= 0.0 or _random(state) < np.exp(gi * inverse):
                change += gi
                _flip(indptr, indices, data, x, g, i)
                flips += 1
                if flips >= max_flips:
                    return flips, change
    return flips, change


@compiled
def breakout(indptr, indices, data, x, g, tabu_until, best_x, floats, ints, moves, eps,
             improving, where, buckets, offset):
    """Run breakout local search for about ``moves`` moves, updating the state in place.

    ``floats`` holds the current cut, the best cut and the previous local optimum's cut;
    ``ints`` the move counter, the count of non-improving optima, the jump length L and the
    random state. ``best_x`` receives every new best cut (always a 1-flip local optimum).
    With ``offset`` >= 0, ``buckets`` hold the nodes sorted by gain (see ``gain_buckets``);
    otherwise ``improving`` and ``where`` list the nodes whose gain exceeds ``eps`` (see
    ``_track``), and are not kept up to date with buckets.
    """
    n = x.shape[0]
    jump_min = max(1, int(JUMP_MIN_FRACTION * n))
    jump_max = max(jump_min + 1, int(JUMP_MAX_FRACTION * n))
    tenure_span = max(1, n // 10 - TENURE_MIN)
    stop = ints[_MOVE] + moves
    while ints[_MOVE] < stop:
        # Steepest descent to a local optimum, the first node of the largest gain, over the
        # nodes that can still improve (after a perturbation, few): the top bucket, or the
        # improving list; either replaces a scan of all n gains.
        while True:
            if offset >= 0:
                best_i = _first_of_top_bucket(buckets, offset, eps)
                if best_i < 0:
                    break
                best_gain = g[best_i]
            else:
                if improving[-1] == 0:
                    break
                best_i = improving[0]
                best_gain = g[best_i]
                for k in range(1, improving[-1]):
                    i = improving[k]
                    if g[i] > best_gain or (g[i] == best_gain and i < best_i):
                        best_gain = g[i]
                        best_i = i
            floats[_CUT] += best_gain
            _flip_everywhere(indptr, indices, data, x, g, best_i, improving, where, eps,
                             buckets, offset)
            ints[_MOVE] += 1
            tabu_until[best_i] = ints[_MOVE] + TENURE_MIN + int(_random(ints) * tenure_span)
        if floats[_CUT] > floats[_BEST] + eps:
            floats[_BEST] = floats[_CUT]
            best_x[:] = x
            ints[_STALLED] = 0
        else:
            ints[_STALLED] += 1
        # Jump length: strong after a long stall, longer when back at the same optimum.
        if ints[_STALLED] > STALL_LIMIT:
            ints[_JUMP] = jump_max
            ints[_STALLED] = 0
        elif abs(floats[_CUT] - floats[_PREVIOUS]) <= eps:
            ints[_JUMP] = min(ints[_JUMP] + 1, jump_max)
        else:
            ints[_JUMP] = jump_min
        floats[_PREVIOUS] = floats[_CUT]
        directed_probability = max(np.exp(-ints[_STALLED] / STALL_LIMIT), DIRECTED_MIN_PROBABILITY)
        directed = _random(ints) < directed_probability
        for _ in range(ints[_JUMP]):
            ints[_MOVE] += 1
            move = ints[_MOVE]
            if directed and offset >= 0:
                chosen = _best_in_buckets(buckets, offset, tabu_until, move,
                                          floats[_BEST] - floats[_CUT] + eps, ints)
                if chosen < 0:
                    chosen = int(_random(ints) * n)
            elif directed:
                # Best non-tabu move; a tabu move is allowed when it beats the best cut.
                chosen = -1
                chosen_gain = -np.inf
                ties = 0
                threshold = floats[_BEST] - floats[_CUT] + eps
                for i in range(n):
                    gi = g[i]
                    if gi < chosen_gain - eps or not (tabu_until[i] <= move or gi > threshold):
                        continue
                    if gi > chosen_gain + eps:
                        chosen_gain = gi
                        chosen = i
                        ties = 1
                    else:
                        # Equal gains (common with ±1 weights): a uniform choice among them
                        # (reservoir sampling). The first index was taken before; at default
                        # settings, 3 seeds x 10 Gset instances went from a mean of 0.9937 of
                        # the best known (min 0.9858) to 0.9955 (min 0.9904).
                        ties += 1
                        if _random(ints) * ties < 1.0:
                            chosen = i
                if chosen < 0:
                    chosen = int(_random(ints) * n)
            else:
                chosen = int(_random(ints) * n)
            floats[_CUT] += g[chosen]
            _flip_everywhere(indptr, indices, data, x, g, chosen, improving, where, eps,
                             buckets, offset)
            tabu_until[chosen] = move + TENURE_MIN + int(_random(ints) * tenure_span)


def load_compiled():
    """Load (or compile, the first time after installing) every search here on a 2-node
    graph, saying so at INFO once: the first real call would otherwise sit silent for ~13 s."""

    def warm_up():
        indptr, indices = np.array([0, 1, 2]), np.array([1, 0])
        search = BreakoutSearch(indptr, indices, np.ones(2), np.ones(2), seed=0, eps=0.0)
        search.run(2)
        anneal(indptr, indices, np.ones(2), search.x, search.g, 1.0, 1, 10,
               np.array([0, 0, 0, 1], dtype=np.int64))
        _first_best(search.g, np.arange(2))

    load_once(breakout, "max-cut local search", warm_up)


def gain_buckets(indptr, data, g):
    """The nodes sorted by gain into one bucket per integer gain, for integer weights of at
    most BUCKET_MAX_WEIGHT: ``(order, pos, start, top)`` and the offset, the largest
    weighted degree. Bucket b holds the nodes of gain b - offset, ``order[start[b]:start[b +
    1]]``; ``pos`` is each node's place in ``order``; no bucket above ``top[0]`` has a node.
    Otherwise empty arrays and offset -1."""
    none = (np.zeros(0, dtype=np.int64),) * 4
    if data.size == 0 or np.abs(data).max() > BUCKET_MAX_WEIGHT or (data != np.round(data)).any():
        return none, -1
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    offset = int(np.rint(np.bincount(rows, weights=np.abs(data)).max()))
    index = np.round(g).astype(np.int64) + offset
    order = np.argsort(index, kind="stable").astype(np.int64)
    pos = np.empty_like(order)
    pos[order] = np.arange(len(order))
    start = np.searchsorted(index[order], np.arange(2 * offset + 2)).astype(np.int64)
    top = np.array([index.max()], dtype=np.int64)
    return (order, pos, start, top), offset


class BreakoutSearch:
    """One breakout local search chain, advanced in slices so the caller can stop on time."""

    def __init__(self, indptr, indices, data, x, *, seed, eps, moves=0):
        """``moves``: those already made toward this run's budget (an annealing before it)."""
        self.csr = (indptr, indices, data)
        self.x = np.array(x, dtype=np.float64)
        self.g = gains(*self.csr, self.x)
        self.eps = eps
        self.tabu_until = np.zeros(self.x.shape[0], dtype=np.int64)
        descend(*self.csr, self.x, self.g, eps)
        self.best_x = self.x.copy()
        cut = cut_value(*self.csr, self.x)
        self.floats = np.array([cut, cut, cut])
        # xorshift needs a non-zero state.
        self.ints = np.array([moves, 0, 1, int(seed) % (2**62) + 1], dtype=np.int64)
        n = self.x.shape[0]
        self.improving = np.zeros(n + 1, dtype=np.int64)  # empty: x is a local optimum
        self.where = np.full(n, -1, dtype=np.int64)
        self.buckets, self.offset = gain_buckets(indptr, data, self.g)

    @property
    def best_cut(self):
        return self.floats[_BEST]

    @property
    def moves(self):
        return int(self.ints[_MOVE])

    def run(self, moves):
        breakout(
            *self.csr, self.x, self.g, self.tabu_until, self.best_x, self.floats, self.ints,
            moves, self.eps, self.improving, self.where, self.buckets, self.offset,
        )


@compiled
def _first_best(g, order):
    """The first node of ``order`` whose gain is the largest (Python's ``max`` over it)."""
    best = order[0]
    for k in range(1, order.shape[0]):
        if g[order[k]] > g[best]:
            best = order[k]
    return best


def one_exchange(indptr, indices, data, x, shuffle, eps):
    """NetworkX's ``one_exchange`` from the spins ``x`` (changed in place): flip the node of
    largest gain until none gains more than ``eps``, ties going to the first node of the
    node list after ``shuffle`` (the caller's ``seed.shuffle``, on a fresh list at every
    step as NetworkX does), so the same seed flips the same nodes and leaves the seed in the
    same state. NetworkX recomputes every node's cut in Python at every step (O(n m) a
    step); here a step is the shuffle and an O(n) compiled scan."""
    n = x.shape[0]
    if n == 0:  # NetworkX shuffles one empty list, which draws nothing
        return
    g = gains(indptr, indices, data, x)
    while True:
        order = list(range(n))  # NetworkX shuffles a fresh node list at every step
        shuffle(order)
        best = _first_best(g, np.array(order, dtype=np.int64))
        if g[best] <= eps:
            return
        _flip(indptr, indices, data, x, g, best)
