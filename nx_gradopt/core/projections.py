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
