"""Products over a batch of matrices (the starts of a matching run) that torch's batched
kernels serve slowly on the CPU.

``torch.bmm`` with a vector operand takes a slow path on the CPU from two matrices in the
batch on (torch 2.13, one thread, float64): ten 400 x 400 matrices times vectors took 1.8 ms
by ``bmm`` against 0.39 ms by one ``torch.mv`` each (transposed: 2.0 ms against 0.42 ms), two
1 000 x 1 000 ones 2.3 ms against 0.87 ms; their inner products, as (1, N) x (N, 1)
products, 2.4 ms against 1.2 ms by ``torch.dot``. Below about a hundred rows the loop's
per-call cost wins back (ten 30 x 30 matrices: 15 us by ``bmm``, 100 us by the loop). Other
devices keep ``bmm``.
"""

import torch

# Rows from which the CPU loops over the batch (the two were even at 100).
LOOP_MIN_ROWS = 128


def _loops(matrices):
    return matrices.device.type == "cpu" and matrices.shape[1] >= LOOP_MIN_ROWS


def matvec(matrices, vectors, *, transpose=False):
    """``matrices[b] @ vectors[b]`` (``matrices[b].T @ vectors[b]`` with ``transpose``) for
    every b: (k, n, n) matrices and (k, n, 1) vectors, (k, n, 1) out."""
    if not _loops(matrices):
        return torch.bmm(matrices.transpose(1, 2) if transpose else matrices, vectors)
    out = torch.empty_like(vectors)
    for b, matrix in enumerate(matrices):
        torch.mv(matrix.t() if transpose else matrix, vectors[b, :, 0], out=out[b, :, 0])
    return out


def inner(x, y):
    """The inner products ``<x[b], y[b]>`` of two (k, m, m) batches, (k,) out."""
    # Dot products, which read each operand once and write nothing: (x * y).sum() wrote an
    # (m, m) product first, 79 ms against 23 ms at m = 5000. Every operand the Frank-Wolfe
    # iterations pass is contiguous; anything else (an expanded linear term) is reshaped,
    # which copies it.
    k = x.shape[0]
    if not _loops(x):
        return torch.bmm(x.reshape(k, 1, -1), y.reshape(k, -1, 1)).view(k)
    return torch.stack([torch.dot(a.reshape(-1), b.reshape(-1)) for a, b in zip(x, y)])
