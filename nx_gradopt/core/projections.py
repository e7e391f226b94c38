"""Euclidean projections onto the feasible sets of the kernels."""

import torch


def project_onto_simplex(y, total):
    r"""Closest point to ``y`` in :math:`\{w \ge 0,\ \sum_i w_i = \text{total}\}`.

    The sort-based algorithm of Duchi, Shalev-Shwartz, Singer & Chandra (2008),
    "Efficient projections onto the l1-ball", Figure 1; O(m log m), any device.
    """
    ordered = torch.sort(y, descending=True).values
    excess = ordered.cumsum(0) - total
    counts = torch.arange(1, y.numel() + 1, device=y.device, dtype=y.dtype)
    support = ordered - excess / counts > 0
    rho = int(torch.nonzero(support).max()) if bool(support.any()) else 0
    threshold = excess[rho] / (rho + 1)
    return (y - threshold).clamp_min(0)


def project_onto_capped_simplex(y, capacity, total, *, iterations=100):
    r"""Closest point to ``y`` in :math:`\{0 \le w \le c,\ \sum_i w_i = \text{total}\}`.

    The projection is :math:`\operatorname{clip}(y - \theta, 0, c)` for the threshold
    :math:`\theta` at which the sum is ``total`` (a monotone scalar equation, solved by
    bisection); requires :math:`\sum_i c_i \ge \text{total}`.
    """
    # The bisection reads a sum at every step: on the host (one copy of y and c) rather
    # than a hundred waits for a GPU.
    host_y, host_capacity = y.to("cpu", torch.float64), capacity.to("cpu", torch.float64)
    low = float((host_y - host_capacity).min())
    high = float(host_y.max())
    for _ in range(iterations):
        middle = 0.5 * (low + high)
        if float(torch.minimum((host_y - middle).clamp_min(0), host_capacity).sum()) > total:
            low = middle
        else:
            high = middle
    # The bisection's last rounding error goes to the entries with room left.
    return spend_remainder(torch.minimum((y - high).clamp_min(0), capacity), capacity, total)


def spend_remainder(w, capacity, total):
    """Raise ``w`` towards ``capacity``, in proportion to the room left, until it sums to
    ``total`` (or every entry is at capacity); ``w`` is returned unchanged if it already does."""
    room = capacity - w
    missing = total - float(w.sum())
    if missing > 0 and float(room.sum()) > 0:
        w = w + room * min(1.0, missing / float(room.sum()))
    return w
