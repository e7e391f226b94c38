"""Sparse building blocks shared by every family: torch CSR tensors and connected components."""

import threading
import warnings

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components as _scipy_components

_csr_lock = threading.Lock()
_csr_warning_seen = False


def csr_tensor(crow, col, values, shape):
    """``torch.sparse_csr_tensor`` without torch's one-time "CSR support is in beta" warning.

    torch emits that warning once per process, from the first CSR tensor built. We build the
    first one under a lock inside ``warnings.catch_warnings`` and never touch the warning
    filters again: ``catch_warnings`` swaps the process-global filter list, and concurrent
    calls that each save and restore it can leave a filter behind.
    """
    global _csr_warning_seen
    if not _csr_warning_seen:
        with _csr_lock, warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta")
            tensor = torch.sparse_csr_tensor(crow, col, values, shape, check_invariants=False)
            _csr_warning_seen = True
            return tensor
    return torch.sparse_csr_tensor(crow, col, values, shape, check_invariants=False)


def scipy_to_torch_csr(matrix, *, device=None, dtype=torch.float64):
    """A SciPy sparse matrix as a torch CSR tensor (sorted int64 indices) on ``device``."""
    matrix = sp.csr_array(matrix)
    matrix.sum_duplicates()
    matrix.sort_indices()
    tensor = csr_tensor(
        torch.from_numpy(matrix.indptr.astype(np.int64)),
        torch.from_numpy(matrix.indices.astype(np.int64)),
        torch.from_numpy(np.asarray(matrix.data, dtype=np.float64)),
        matrix.shape,
    )
    return tensor.to(device=device, dtype=dtype)


def connected_components(n, row, col):
    """``(count, labels)`` of the weakly connected components of an n-node edge pattern.

    ``row`` and ``col`` are index arrays or tensors (any device); weights play no part.
    """
    row = row.cpu().numpy() if isinstance(row, torch.Tensor) else np.asarray(row)
    col = col.cpu().numpy() if isinstance(col, torch.Tensor) else np.asarray(col)
    pattern = sp.coo_array((np.ones(row.size), (row, col)), shape=(n, n))
    count, labels = _scipy_components(pattern, directed=False)
    return int(count), labels
