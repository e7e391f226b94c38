"""Pairwise-swap descent (2-opt) on a permutation, compiled with Numba.

Frank–Wolfe ends at a projected permutation that is rarely 2-opt optimal; exchanging the images
of two rows while that improves the objective closes much of the remaining gap on QAP
instances (SciPy offers the same move set as ``quadratic_assignment(method="2opt")``, which
evaluates each swap with whole-matrix products; here a swap's gain costs O(n) afresh, or O(1)
to keep up to date).
"""

from ..core.compiled import compiled, load_once
import numpy as np


# Reassociated sums (SIMD): 3.5x faster than the sequential sum on rows of 90. The last bits
# of a gain then depend on the machine's vector width; a swap is made only when its gain
# clears a threshold far above them.
@compiled(fastmath={"reassoc"})
def _swap_gain(a, at, bp, bpt, s, perm, r, t):
    """Change of sum_l sum_ij a_lij b_l{p_i p_j} + sum_i s_{i p_i} when p_r and p_t are
    exchanged. The layers come as ``a`` (shape (L, n, n)), its transposes ``at``, and B's
    layers under the permutation, ``bp[l, i, j] = b_l[p_i, p_j]``, with their transposes
    ``bpt``: every read is along a row."""
    pr, pt = perm[r], perm[t]
    gain = 0.0
    for layer in range(a.shape[0]):
        a_r, a_t, at_r, at_t = a[layer, r], a[layer, t], at[layer, r], at[layer, t]
        bp_r, bp_t, bpt_r, bpt_t = bp[layer, r], bp[layer, t], bpt[layer, r], bpt[layer, t]
        # The sum over every k, less its terms k = r and k = t: no branch in the loop.
        for k in range(len(perm)):
            gain += (a_r[k] - a_t[k]) * (bp_t[k] - bp_r[k])
            gain += (at_r[k] - at_t[k]) * (bpt_t[k] - bpt_r[k])
        for k in (r, t):
            gain -= (a_r[k] - a_t[k]) * (bp_t[k] - bp_r[k])
            gain -= (at_r[k] - at_t[k]) * (bpt_t[k] - bpt_r[k])
        gain += (a_r[r] - a_t[t]) * (bp_t[t] - bp_r[r])
        gain += (a_r[t] - a_t[r]) * (bp_t[r] - bp_r[t])
    gain += s[r, pt] + s[t, pr] - s[r, pr] - s[t, pt]
    return gain


@compiled
def _update_gains(a, at, bp, bpt, free, gains, x, y):
    """Add to every kept gain of a pair disjoint from {x, y} its change when the images of
    rows r = free[x] and t = free[y] are exchanged (``bp`` before the exchange). Only the
    terms k = r and k = t of a pair's sum move; for the pair (i, j) they factor as
    (c_i - c_j)(d_i - d_j) + (c'_i - c'_j)(d'_i - d'_j) with c_i = a_ir - a_it,
    d_i = b_{p_i p_r} - b_{p_i p_t} and c', d' the same along rows: four vectors gathered
    once, where each pair gathered its own eight entries of a and b."""
    f = len(free)
    r, t = free[x], free[y]
    c, d = np.empty(f), np.empty(f)
    c_row, d_row = np.empty(f), np.empty(f)
    for layer in range(a.shape[0]):
        for u in range(f):
            i = free[u]
            c[u], d[u] = at[layer, r, i] - at[layer, t, i], bpt[layer, r, i] - bpt[layer, t, i]
            c_row[u], d_row[u] = a[layer, r, i] - a[layer, t, i], bp[layer, r, i] - bp[layer, t, i]
        for u in range(f):
            if u == x or u == y:
                continue
            cu, du, cru, dru = c[u], d[u], c_row[u], d_row[u]
            for v in range(u + 1, f):
                if v != x and v != y:
                    gains[u, v] += (cu - c[v]) * (du - d[v]) + (cru - c_row[v]) * (dru - d_row[v])


@compiled
def _exchange(bp, bpt, r, t):
    """Exchange rows r and t and columns r and t of every layer of bp and bpt."""
    for m in (bp, bpt):
        for layer in range(m.shape[0]):
            ml = m[layer]
            for k in range(ml.shape[1]):
                ml[r, k], ml[t, k] = ml[t, k], ml[r, k]
            for k in range(ml.shape[0]):
                ml[k, r], ml[k, t] = ml[k, t], ml[k, r]


# The gains are kept up to date while a pass has made at most f / UPKEEP_SWAPS swaps (f free
# rows). Measured on the 64 polishes of QAPLIB's 30-150-node instances (one FAQ start each),
# in all: 30 ms at 4, 31 ms keeping them whatever the swaps, 43 ms at 16, 52 ms switching to
# fresh gains at a pass's first swap.
UPKEEP_SWAPS = 4
# Below this many free rows, setting the gains up (two matrix products and their gathers)
# costs about what it saves: over the 117 polishes of 12-80 rows, 15.2, 14.9, 15.2 and
# 15.6 ms in all from 20, 30, 45 and 60 rows.
KEEP_GAINS_FROM = 30


@compiled
def _two_opt(a, at, bp, bpt, s, perm, free, gains, sign, max_passes, upkeep_swaps):
    scale = 0.0
    for layer in range(a.shape[0]):
        scale += np.abs(a[layer]).max() * np.abs(bp[layer]).max()
    threshold = 1e-12 * (scale * len(perm) + np.abs(s).max() + 1.0)
    # ``gains`` holds every pair's gain, kept up to date (Taillard 1991): after a swap, a
    # pair disjoint from it changes in O(1) and the 2(f - 2) pairs sharing a row are
    # recomputed in O(n). A pass that finds nothing then costs f²/2 comparisons instead of
    # f²/2 gains of O(n) each. Where swaps are dense (from a random start, or a poor
    # projection), the upkeep costs more than evaluating each pair afresh when the scan
    # reaches it, and the search switches to that for good. Either way the scan order, and
    # so every swap, is that of evaluating afresh.
    f = len(free)
    kept = upkeep_swaps >= 0
    swaps = 0
    for _ in range(max_passes):
        improved = False
        swaps_this_pass = 0
        for x in range(f):
            for y in range(x + 1, f):
                r, t = free[x], free[y]
                gain = gains[x, y] if kept else _swap_gain(a, at, bp, bpt, s, perm, r, t)
                if sign * gain <= threshold:
                    continue
                if kept:
                    _update_gains(a, at, bp, bpt, free, gains, x, y)
                perm[r], perm[t] = perm[t], perm[r]
                _exchange(bp, bpt, r, t)
                swaps += 1
                swaps_this_pass += 1
                improved = True
                kept = kept and swaps_this_pass <= upkeep_swaps
                if kept:
                    for u in range(f):
                        for w in (x, y):
                            if u != w:
                                lo, hi = min(u, w), max(u, w)
                                gains[lo, hi] = _swap_gain(
                                    a, at, bp, bpt, s, perm, free[lo], free[hi])
        if not improved:
            break
    return swaps


@compiled
def _initial_gains(a, bp, s, perm, free, a_bt, at_b):
    """Every pair's ``_swap_gain`` (upper triangle), with the sums over all k taken from
    a_bt = sum_l a_l bp_lᵀ and at_b = sum_l a_lᵀ bp_l (``bp``, B under the permutation: two
    BLAS products a layer) less their terms k = r and k = t, which the rows' own terms replace:
    at 150 nodes the products take 0.1 ms, where the pairs' O(n) sums are a pass's work."""
    f = len(free)
    gains = np.zeros((f, f))
    for x in range(f):
        r = free[x]
        pr = perm[r]
        for y in range(x + 1, f):
            t = free[y]
            pt = perm[t]
            gain = (a_bt[r, t] + a_bt[t, r] - a_bt[r, r] - a_bt[t, t]
                    + at_b[r, t] + at_b[t, r] - at_b[r, r] - at_b[t, t])
            for layer in range(a.shape[0]):
                al, bl = a[layer], bp[layer]
                arr, art, atr, att = al[r, r], al[r, t], al[t, r], al[t, t]
                brr, brt, btr, btt = bl[r, r], bl[r, t], bl[t, r], bl[t, t]
                gain -= (arr - atr) * (btr - brr) + (art - att) * (btt - brt)
                gain -= (arr - art) * (brt - brr) + (atr - att) * (btt - btr)
                gain += (arr - att) * (btt - brr) + (art - atr) * (btr - brt)
            gains[x, y] = gain + s[r, pt] + s[t, pr] - s[r, pr] - s[t, pt]
    return gains


def two_opt(
    a_layers, b_layers, similarity, perm, free, *, maximize, max_passes=100, near_optimal=True
):
    """Improve ``perm`` in place by exchanging the images of two ``free`` rows, while any swap
    improves the objective (first improvement). Returns the number of swaps made.

    ``a_layers``, ``b_layers`` are lists of dense (m, m) arrays, one per layer;
    ``similarity`` is a dense (m, m) array or None. ``near_optimal``: ``perm`` is expected
    to need few swaps (a Frank–Wolfe answer), so every pair's gain is kept up to date; from a
    random permutation, each pair is evaluated afresh when the scan reaches it. The swaps
    are the same either way.
    """
    a = np.ascontiguousarray(np.stack(a_layers), dtype=np.float64)
    b = np.ascontiguousarray(np.stack(b_layers), dtype=np.float64)
    s = np.zeros(a.shape[1:]) if similarity is None else similarity
    s = np.ascontiguousarray(s, dtype=np.float64)
    free = np.asarray(free, dtype=np.int64)
    at = np.ascontiguousarray(a.transpose(0, 2, 1))
    # B under the permutation, kept so as the search exchanges rows (two rows and columns a
    # swap): a swap's gain then reads rows, not gathers b[p_i, p_k]. With the reassociated
    # sums and the gathered upkeep, QAPLIB's 64 polishes of 30-150 rows took 30 ms in all
    # where they took 91 (lipa90a 9.5 -> 3.1 ms, tho150 7.9 -> 3.1 ms).
    bp = np.ascontiguousarray(b[:, perm][:, :, perm])
    bpt = np.ascontiguousarray(bp.transpose(0, 2, 1))
    gains = np.zeros((0, 0))
    near_optimal = near_optimal and len(free) >= KEEP_GAINS_FROM
    if near_optimal:
        a_bt, at_b = np.zeros(a.shape[1:]), np.zeros(a.shape[1:])
        for a_layer, permuted in zip(a, bp):
            a_bt += a_layer @ permuted.T
            at_b += a_layer.T @ permuted
        gains = _initial_gains(a, bp, s, perm, free, a_bt, at_b)
    return _two_opt(
        a, at, bp, bpt, s, perm, free, gains, 1.0 if maximize else -1.0, max_passes,
        len(free) // UPKEEP_SWAPS if near_optimal else -1,
    )


def load_compiled():
    """Load (or compile, the first time after installing) the 2-opt search, saying so at INFO
    once: the first real call would otherwise sit silent for ~10 s."""
    one = [np.ones((2, 2))]
    load_once(_two_opt, "2-opt search", lambda: two_opt(
        one, one, None, np.arange(2), np.arange(2), maximize=True, max_passes=1,
    ))
