"""Random-hyperplane rounding of a Burer–Monteiro factor (Goemans & Williamson), batched."""

import torch


def hyperplane_cuts(Y, adjacency, total_weight, count, *, generator):
    """Round Y with ``count`` random hyperplanes at once; return spins (n, count) and cuts.

    Node i goes to the side ``sign(<Y_i, r>)`` of a Gaussian direction r. The cut of a spin
    vector x is :math:`W/2 - x^\\top A x / 4` with W the total edge weight.
    """
    directions = torch.randn(Y.shape[1], count, generator=generator, dtype=torch.float64)
    spins = torch.where(Y @ directions.to(Y.device, Y.dtype) >= 0, 1.0, -1.0).to(Y.dtype)
    cuts = total_weight / 2 - ((adjacency @ spins) * spins).sum(0) / 4
    return spins, cuts
