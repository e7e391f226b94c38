"""Per-call device and dtype: argument, then ``nx.config.backends.gradopt``, then the
environment, then 'auto' (CUDA when available) and float64."""

import os

import networkx as nx

from ._info import DEVICE_ENV, DTYPE_ENV
from .core.runtime import resolve_device, resolve_dtype


def _configured(key, env):
    backend_config = getattr(nx.config.backends, "gradopt", None)
    if backend_config is not None and key in backend_config:
        return backend_config[key]
    return os.environ.get(env)


def device_and_dtype(device=None, dtype=None):
    """Resolve the ``device=`` and ``dtype=`` keyword arguments of a call."""
    if device is None:
        device = _configured("device", DEVICE_ENV)
    if dtype is None:
        dtype = _configured("dtype", DTYPE_ENV)
    return resolve_device(device), resolve_dtype(dtype)
