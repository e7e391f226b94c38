"""Per-call device and dtype: argument, then ``nx.config.backends.gradopt``, then the
environment, then 'auto' (CUDA when available) and float64; with the seed, a kernel's
:class:`~nx_gradopt.core.runtime.Runtime`."""

import os

import networkx as nx

from ._info import DEVICE_CHOICES, DEVICE_ENV, DTYPE_ENV, valid_device, valid_dtype
from .core.runtime import Runtime, resolve_device, resolve_dtype, torch_generator


def _configured(key, env, valid, choices):
    backend_config = getattr(nx.config.backends, "gradopt", None)
    if backend_config is not None and backend_config.get(key) is not None:
        return backend_config[key]
    value = os.environ.get(env)
    if value is not None and not valid(value):
        raise ValueError(f"environment variable {env} must be {choices}; got {value!r}")
    return value


def device_and_dtype(device=None, dtype=None):
    """Resolve the ``device=`` and ``dtype=`` keyword arguments of a call."""
    if device is None:
        device = _configured("device", DEVICE_ENV, valid_device, DEVICE_CHOICES)
    if dtype is None:
        dtype = _configured("dtype", DTYPE_ENV, valid_dtype, "'float64' or 'float32'")
    return resolve_device(device), resolve_dtype(dtype)


def runtime(device, dtype, seed):
    """The :class:`~nx_gradopt.core.runtime.Runtime` of a call's ``device``, ``dtype`` and
    ``seed`` (NetworkX's seed semantics)."""
    return Runtime(*device_and_dtype(device, dtype), torch_generator(seed))
