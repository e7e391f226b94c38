"""FAQ's Frank–Wolfe for small dense problems on the CPU, in NumPy and one compiled kernel.

The same iterations and rules as :func:`~.frank_wolfe.frank_wolfe` (its per-start ledger
is shared), written for speed by measurement: on nug12 torch's per-operation overhead made
an iteration cost 0.37 ms, and NumPy with a dozen whole-array operations per iteration
0.09 ms, against SciPy's 0.04-0.06 ms; now 0.03 ms. The direction and its inner products are
one compiled pass. The products stay NumPy's: through Numba's ``np.dot`` (SciPy's OpenBLAS)
one took 0.3 ms at n = 150 alone but 2.8 ms inside the solve, unless BLAS ran on one thread.
"""

import math

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from ..core.compiled import compiled, load_once
from ..core.progress import Progress
from . import frank_wolfe
from .frank_wolfe import Ledger


@compiled
def _direction(score, perms, P, origin, R):
    """R = Q - P for the permutations ``perms``, in the given buffer; returns, per start,
    <score, R>, <R, R>, <P - origin, P - origin> and <P - origin, R> (shape (k, 4))."""
    k, m, _ = P.shape
    scalars = np.zeros((k, 4))
    for s in range(k):
        for i in range(m):
            for j in range(m):
                R[s, i, j] = -P[s, i, j]
            R[s, i, perms[s, i]] += 1.0
        slope = length_sq = away_sq = away_r = 0.0
        for i in range(m):
            for j in range(m):
                r = R[s, i, j]
                away = P[s, i, j] - origin[s, i, j]
                slope += score[s, i, j] * r
                length_sq += r * r
                away_sq += away * away
                away_r += away * r
        scalars[s, 0], scalars[s, 1], scalars[s, 2], scalars[s, 3] = (
            slope, length_sq, away_sq, away_r)
    return scalars


def faq_on_host(problem, start, *, sign, max_iter, tol, deadline=math.inf):
    """:func:`~.frank_wolfe.frank_wolfe` with ``method="faq"`` for a
    :class:`~.problem.ReducedProblem` built with ``host=True`` (dense NumPy layers) and NumPy
    starts; the same outputs, the final iterates as a torch tensor."""
    load_compiled()
    k, m, _ = start.shape
    linear = None if problem.linear is None else sign * problem.linear
    final = start
    P, origin = start.copy(), start
    product = problem.apply(P)
    product_t = product if problem.symmetric else problem.apply_transposed(P)
    value = sign * np.einsum("kij,kij->k", product, P, dtype=np.float64)
    if linear is not None:
        value += np.einsum("ij,kij->k", linear, P, dtype=np.float64)
    book = Ledger(k, m, "faq", tol, deadline, value)
    vertex = np.ones(k, dtype=bool)
    R = np.empty_like(P)
    progress = Progress("Frank-Wolfe (faq)")
    try:
        for iteration in range(1, max_iter + 1):
            score = product + product_t
            score *= sign
            if linear is not None:
                score += linear
            perms = np.empty((len(score), m), dtype=np.int64)
            for perm, matrix in zip(perms, score):
                perm[:] = linear_sum_assignment(matrix, maximize=True)[1]
            slope, length_sq, away_sq, away_r = _direction(score, perms, P, origin, R).T
            curvature = sign * np.einsum("kij,kij->k", problem.apply(R), R, dtype=np.float64)
            alpha, leaving = book.step(slope, curvature, length_sq, away_sq, away_r,
                                       None, None, vertex[:len(P)], perms)
            P += alpha[:, None, None] * R
            # The products afresh, as SciPy computes them: updated by alpha A R B^T they
            # round otherwise, ties in the linear assignments break otherwise, and FAQ from
            # the barycenter gave SciPy's permutation on 9 of QAPLIB's 14 instances of
            # n <= 30 instead of 11.
            product = problem.apply(P)
            product_t = product if problem.symmetric else problem.apply_transposed(P)
            progress("iteration %d: %d of %d starts running", iteration, len(book.ids), k)
            if leaving.all():
                final[book.ids] = P
                return book.outputs(torch.from_numpy(final),
                                    "time limit" if book.expired.any() else None)
            if leaving.any():
                final[book.ids[leaving]] = P[leaving]
                book.drop(leaving)
                keep = ~leaving
                P, origin, product = P[keep], origin[keep], product[keep]
                product_t = product if problem.symmetric else product_t[keep]
                R = R[keep]
    except KeyboardInterrupt:
        # Interrupts arrive between Python operations: P is doubly stochastic at each, and
        # only a start leaving the batch can be half done (its row of final holds its start).
        if len(P) == len(book.ids):
            final[book.ids] = P
        return book.outputs(torch.from_numpy(final), "interrupted")
    final[book.ids] = P
    return book.outputs(torch.from_numpy(final), None)


def load_compiled():
    """Load (or compile, the first time after installing) the kernels, saying so at INFO."""
    def warm_up():
        for dtype in (np.float64, np.float32):
            one = np.ones((1, 2, 2), dtype=dtype)
            _direction(one, np.zeros((1, 2), dtype=np.int64), one, one, one.copy())

    load_once(_direction, "FAQ kernel", warm_up)
    frank_wolfe.load_compiled()
