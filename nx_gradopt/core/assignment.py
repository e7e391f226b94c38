"""Linear assignment and entropic transport over batches of square score matrices.

The two direction oracles of Frank–Wolfe on the Birkhoff polytope: the best permutation for a
linear score (a vertex) and its entropic relaxation (an interior point found by Sinkhorn).
"""

import math

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from .batched import matvec


def linear_assignment(score, *, maximize=True):
    """The best permutation of each score matrix in a batch.

    Parameters
    ----------
    score : torch.Tensor, shape (k, n, n)
    maximize : bool
        Maximise (default) or minimise ``sum_i score[i, perm[i]]``.

    Returns
    -------
    torch.Tensor, shape (k, n), int64, on the CPU
        ``perm[b, i]`` is the column assigned to row ``i`` in problem ``b``.
    """
    # Where each row's best column is a different one, those columns are an optimal
    # assignment (no permutation beats every row's best), found in O(n^2) without a solver.
    # That is the case for the final projection of a plan close to a permutation (2.4 s in
    # SciPy's solver at n = 3000) and late in Frank-Wolfe.
    score = score.detach()
    k, n = score.shape[:2]
    if n == 0:
        return torch.empty((k, 0), dtype=torch.int64)
    best = (score.argmax(dim=2) if maximize else score.argmin(dim=2)).cpu()
    perms = best.numpy().astype(np.int64, copy=True)
    for b, row in enumerate(best):
        if bool((torch.bincount(row, minlength=n) == 1).all()):
            continue
        # SciPy's solver (shortest augmenting paths, in C++) won our measurements against
        # LAPJV (lapx 0.11) on Frank–Wolfe gradients: equal or faster on random and
        # degree-product scores, which are the slow ones (n=2000 at the barycenter: 5.3 s
        # against 20.8 s); LAPJV was faster only on the easy late iterations (0.45 s against
        # 0.99 s). No GPU solver. Copied in the working precision, widened on the host.
        matrix = score[b].cpu().numpy().astype(np.float64, copy=False)
        perms[b] = linear_sum_assignment(matrix, maximize=maximize)[1]
    return torch.from_numpy(perms)


def permutation_matrices(perms, *, device, dtype):
    """One-hot ``(k, n, n)`` matrices of ``(k, n)`` permutations (row i has a 1 at perm[i])."""
    k, n = perms.shape
    matrices = torch.zeros((k, n, n), device=device, dtype=dtype)
    matrices.scatter_(2, perms.to(device).unsqueeze(2), 1.0)
    return matrices


# The scalings u, v are absorbed into the dual potentials once either spans this many e-folds.
# Kernel entries that underflow (below e^-87 in float32) then weigh at most e^(2*30 - 87) ~ 2e-12
# in the plan, so dropping them is harmless; float32 scalings overflow at e^88.
ABSORB_EFOLDS = 30.0


def sinkhorn_transport(score, reg, *, tol=1e-3, max_iter=1000, segments=None):
    r"""Entropic transport plans with unit marginals, maximising score, by Sinkhorn.

    Solves, for each matrix in the batch,
    :math:`\max_Q \langle S, Q\rangle - \varepsilon \sum_{ij} Q_{ij}\log Q_{ij}` over
    :math:`Q \ge 0` with every row and column summing to 1. The plan is
    :math:`Q = \mathrm{diag}(u)\,K\,\mathrm{diag}(v)` with
    :math:`K = \exp(S/\varepsilon - f\mathbf{1}^\top - \mathbf{1}g^\top)`, where the
    potentials f, g start as a c-transform pair (every entry of K at most 1, a 1 in every row
    and column) and absorb u and v whenever they grow large (Schmitzer's stabilised scaling).
    So the iteration is a matrix-vector product in the score's dtype, float32 included, for
    any spread of the scores.

    Parameters
    ----------
    score : torch.Tensor, shape (k, n, n)
    reg : torch.Tensor, shape (k,)
        The temperature :math:`\varepsilon > 0` of each problem.
    tol : float
        Stop when every column sum of the plan is within ``tol`` of 1 (rows are exact after
        each update).
    max_iter : int
        A group still outside ``tol`` after this many iterations has its plans rounded onto the
        doubly stochastic matrices (see :func:`_rounded_to_doubly_stochastic`).
    segments : list of int, optional
        Consecutive groups of matrices (summing to k) that stop, absorb and recover on their
        own, each as it would in a batch of its own (up to the rounding of the batched
        products); one group by default.

    Returns
    -------
    plans : torch.Tensor, shape (k, n, n), in the score's dtype
    iterations : int
        Iterations of the group that ran longest.
    """
    # Written here rather than taken from POT: ot.batch.bregman_projection_batch forms K * g
    # elementwise (an n-by-n temporary per iteration); batched matrix-vector products are 6x
    # faster at n = 2000 (0.34 s against 2.1 s for 200 iterations), and ot.sinkhorn is not
    # batched over the multiple starts. POT's log-domain solver pays an n-by-n exp per
    # iteration; absorption pays one only when the scalings outgrow ABSORB_EFOLDS.
    k, n, _ = score.shape
    device = score.device
    segments = [k] if segments is None else list(segments)
    count = len(segments)
    owner_rows = np.repeat(np.arange(count), segments)  # each matrix's group
    owner = torch.from_numpy(owner_rows).to(device)
    starts = np.cumsum([0] + segments[:-1])

    def rows_of(groups):  # a set of group numbers as a (k, 1, 1) mask of their rows
        mask = np.zeros(count, dtype=bool)
        mask[list(groups)] = True
        return torch.from_numpy(mask).to(device)[owner].view(k, 1, 1)

    def merged(new, old, groups):  # new values on the groups' rows, old ones elsewhere
        if len(groups) == count:
            return new
        rows = rows_of(groups)
        return tuple(torch.where(rows, a, b) for a, b in zip(new, old))

    # In place where possible: at n = 10^4 every (n, n) buffer is 800 MB in float64.
    top = score.amax(dim=(1, 2), keepdim=True)
    scaled = score.sub(top).div_(reg.to(score).view(k, 1, 1))
    f = scaled.amax(dim=2, keepdim=True)
    exponent = scaled - f
    g = exponent.amax(dim=1, keepdim=True)
    kernel = _exp_kernel(exponent.sub_(g))
    v = torch.ones((k, n, 1), device=device, dtype=score.dtype)
    on_cpu, next_check = device.type == "cpu", 10
    # Per group, in Python (a check costs microseconds on the host; NumPy's calls cost more
    # than the iteration itself on small problems): still iterating, and recovering from an
    # overflow by checking and absorbing at every iteration. A group that stopped keeps its
    # v, so every later u of its rows is the one it stopped with.
    running, every_iteration = set(range(count)), set()
    moving = None  # while every group runs; then a (k, 1, 1) mask of the running rows
    checkpoint = kernel, f, g, v
    for iteration in range(1, max_iter + 1):
        u = 1.0 / matvec(kernel, v)
        column_sums = matvec(kernel, u, transpose=True)
        scheduled = iteration == next_check or iteration == max_iter
        if not (scheduled or every_iteration):  # most iterations: no check
            v = 1.0 / column_sums if moving is None else torch.where(moving, 1.0 / column_sums, v)
            continue
        # v * column_sums is the column sums of the plan before this v update; the largest
        # |log| of u and of the next v decide absorption. One read for the three.
        dims = (0, 1, 2) if count == 1 else (1, 2)
        maxima = torch.stack([
            (v * column_sums - 1.0).abs().amax(dim=dims),
            u.log().abs().amax(dim=dims),
            column_sums.log().abs().amax(dim=dims),
        ]).view(3, -1).cpu().numpy()
        if count > 1:
            maxima = np.maximum.reduceat(maxima, starts, axis=1)
        error, u_efolds, v_efolds = maxima.tolist()
        overflowed, done, absorb, saved = set(), set(), set(), set()
        for group in running:
            if not (scheduled or group in every_iteration):
                continue
            if not math.isfinite(error[group] + u_efolds[group] + v_efolds[group]):
                # The scalings overflowed between two checks (float32 only, and not seen: on
                # GOAT's plans they drift by 0.1 e-fold per iteration on average, at most 7):
                # resume from the last check and absorb at every iteration.
                overflowed.add(group)
            elif error[group] < tol:
                done.add(group)
            elif max(u_efolds[group], v_efolds[group]) > ABSORB_EFOLDS or (
                group in every_iteration
            ):
                absorb.add(group)
            else:
                saved.add(group)
        if overflowed:
            kernel, f, g, v = merged(checkpoint, (kernel, f, g, v), overflowed)
            every_iteration |= overflowed
        if done:
            running -= done
            if not running:
                break
            moving = rows_of(running)
        if scheduled:
            # Every check waits for the device: on a GPU they are spaced geometrically (at
            # most a quarter more iterations than needed, a logarithmic number of waits; 34
            # per Frank–Wolfe step were measured at n = 300 with checks every 10).
            next_check = iteration + 10 if on_cpu else max(iteration + 10, iteration * 5 // 4)
        if absorb:
            f, g = merged((f - u.log(), g + column_sums.log().transpose(1, 2)), (f, g), absorb)
            kernel = merged((_exp_kernel((scaled - f).sub_(g)),), (kernel,), absorb)[0]
            ones = torch.ones_like(u)
            u, v = merged((ones, ones), (u, v), absorb)
            checkpoint = merged((kernel, f, g, v), checkpoint, absorb)
        updated = running - overflowed - absorb
        if len(updated) == count:
            v = 1.0 / column_sums
        elif updated:
            v = merged((1.0 / column_sums,), (v,), updated)[0]
        if saved:
            checkpoint = merged((kernel, f, g, v), checkpoint, saved)
    plans = kernel.mul_(u).mul_(v.transpose(1, 2))
    if iteration == max_iter and running:
        if len(running) == count:
            _rounded_to_doubly_stochastic(plans)
        else:
            rows = torch.from_numpy(np.flatnonzero(np.isin(owner_rows, list(running))))
            rows = rows.to(device)
            plans[rows] = _rounded_to_doubly_stochastic(plans[rows])
    return plans, iteration


def _rounded_to_doubly_stochastic(plans):
    """Nonnegative ``(k, n, n)`` plans made exactly doubly stochastic, in place: overfull rows
    and then columns scaled down, and the missing mass added as the rank-one product of the
    rows' and columns' deficits (Altschuler, Weed & Rigollet 2017, Algorithm 2). The change
    in l1 is at most twice the plan's marginal error."""
    plans.mul_(plans.sum(dim=2, keepdim=True).reciprocal_().clamp_(max=1.0))
    plans.mul_(plans.sum(dim=1, keepdim=True).reciprocal_().clamp_(max=1.0))
    row_deficit = 1.0 - plans.sum(dim=2, keepdim=True)
    column_deficit = 1.0 - plans.sum(dim=1, keepdim=True)
    total = column_deficit.sum(dim=2, keepdim=True)
    return plans.addcmul_(row_deficit, column_deficit / torch.where(total > 0, total, 1.0))


def _exp_kernel(exponent):
    """``exp(exponent)`` in place, with the entries below the dtype's smallest normal number
    set to 0."""
    # Subnormal entries (e^-87 to e^-103 in float32) slow CPU arithmetic about tenfold: a GOAT
    # run on G(300, 0.05) took 13 s in float32 against 1.2 s in float64. They weigh nothing in
    # the plan (see ABSORB_EFOLDS).
    smallest = math.log(torch.finfo(exponent.dtype).tiny)
    return exponent.masked_fill_(exponent < smallest, -math.inf).exp_()
