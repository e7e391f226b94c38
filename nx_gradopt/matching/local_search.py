"""Pairwise-swap descent (2-opt) on a permutation, compiled with Numba.

Frank–Wolfe ends at a projected permutation that is rarely 2-opt optimal; exchanging the images
of two rows while that improves the objective closes much of the remaining gap on QAP
instances (SciPy offers the same move set as ``quadratic_assignment(method="2opt")``, which
evaluates each swap with whole-matrix products; here a swap's gain costs O(n) afresh, or O(1)
to keep up to date).
"""

from ..core.compiled import compiled, load_once
import numpy as np


@compiled
def _swap_gain(a, b, s, perm, r, t):
    """Change of sum_l sum_ij a_lij b_l{p_i p_j} + sum_i s_{i p_i} when p_r and p_t are
    exchanged (a and b hold the layers: shape (L, n, n))."""
    pr, pt = perm[r], perm[t]
    gain = 0.0
    for layer in range(a.shape[0]):
        al, bl = a[layer], b[layer]
        for k in range(len(perm)):
            if k == r or k == t:
                continue
            pk = perm[k]
            gain += (al[r, k] - al[t, k]) * (bl[pt, pk] - bl[pr, pk])
            gain += (al[k, r] - al[k, t]) * (bl[pk, pt] - bl[pk, pr])
        gain += (al[r, r] - al[t, t]) * (bl[pt, pt] - bl[pr, pr])
        gain += (al[r, t] - al[t, r]) * (bl[pt, pr] - bl[pr, pt])
    gain += s[r, pt] + s[t, pr] - s[r, pr] - s[t, pt]
    return gain


@compiled
def _gain_change(a, b, perm, i, j, r, t):
    """How the gain of exchanging p_i and p_j changes when p_r and p_t are exchanged
    (``perm`` before that exchange; {i, j} and {r, t} disjoint): only the terms k = r and
    k = t of the gain's sum move, in O(layers)."""
    pi, pj, pr, pt = perm[i], perm[j], perm[r], perm[t]
    change = 0.0
    for layer in range(a.shape[0]):
        al, bl = a[layer], b[layer]
        change += (al[i, r] - al[j, r] - al[i, t] + al[j, t]) * (
            bl[pj, pt] - bl[pi, pt] - bl[pj, pr] + bl[pi, pr]
        )
        change += (al[r, i] - al[r, j] - al[t, i] + al[t, j]) * (
            bl[pt, pj] - bl[pt, pi] - bl[pr, pj] + bl[pr, pi]
        )
    return change


# The gains are kept up to date while a pass has made at most f / UPKEEP_SWAPS swaps (f free
# rows). Measured on the 69 polishes of QAPLIB's 40-150-node instances (one FAQ start each):
# 1.0 (old) : 0.65 at 4, 0.65 at 2, 0.8 at 8, 0.95 if it stops after the first swap.
UPKEEP_SWAPS = 4
# Below this many free rows, setting the gains up (two matrix products and their gathers)
# costs more than it saves: 0.074 against 0.047 ms a polish at 10-19 rows, 0.18 against 0.14
# at 20-29, 0.23 against 0.26 at 30-39.
KEEP_GAINS_FROM = 30


@compiled
def _two_opt(a, b, s, perm, free, gains, sign, max_passes, upkeep_swaps):
    scale = 0.0
    for layer in range(a.shape[0]):
        scale += np.abs(a[layer]).max() * np.abs(b[layer]).max()
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
                gain = gains[x, y] if kept else _swap_gain(a, b, s, perm, r, t)
                if sign * gain <= threshold:
                    continue
                if kept:
                    for u in range(f):
                        if u == x or u == y:
                            continue
                        for v in range(u + 1, f):
                            if v != x and v != y:
                                gains[u, v] += _gain_change(a, b, perm, free[u], free[v], r, t)
                perm[r], perm[t] = perm[t], perm[r]
                swaps += 1
                swaps_this_pass += 1
                improved = True
                kept = kept and swaps_this_pass <= upkeep_swaps
                if kept:
                    for u in range(f):
                        for w in (x, y):
                            if u != w:
                                lo, hi = min(u, w), max(u, w)
                                gains[lo, hi] = _swap_gain(a, b, s, perm, free[lo], free[hi])
        if not improved:
            break
    return swaps


@compiled
def _initial_gains(a, b, s, perm, free, a_bt, at_b):
    """Every pair's ``_swap_gain`` (upper triangle), with the sums over all k taken from
    a_bt = sum_l a_l bp_lᵀ and at_b = sum_l a_lᵀ bp_l (bp_l[i, j] = b_l[p_i, p_j]: two BLAS
    products a layer) less their terms k = r and k = t, which the rows' own terms replace:
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
                al, bl = a[layer], b[layer]
                arr, art, atr, att = al[r, r], al[r, t], al[t, r], al[t, t]
                brr, brt, btr, btt = bl[pr, pr], bl[pr, pt], bl[pt, pr], bl[pt, pt]
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
    gains = np.zeros((0, 0))
    near_optimal = near_optimal and len(free) >= KEEP_GAINS_FROM
    if near_optimal:
        a_bt, at_b = np.zeros(a.shape[1:]), np.zeros(a.shape[1:])
        for a_layer, b_layer in zip(a, b):
            permuted = b_layer[np.ix_(perm, perm)]
            a_bt += a_layer @ permuted.T
            at_b += a_layer.T @ permuted
        gains = _initial_gains(a, b, s, perm, free, a_bt, at_b)
    return _two_opt(
        a, b, s, perm, free, gains, 1.0 if maximize else -1.0, max_passes,
        len(free) // UPKEEP_SWAPS if near_optimal else -1,
    )


def load_compiled():
    """Load (or compile, the first time after installing) the 2-opt search, saying so at INFO
    once: the first real call would otherwise sit silent for ~10 s."""
    one = [np.ones((2, 2))]
    load_once(_two_opt, "2-opt search", lambda: two_opt(
        one, one, None, np.arange(2), np.arange(2), maximize=True, max_passes=1,
    ))
