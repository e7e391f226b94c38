"""Tools for testing nx-gradopt's GPU path without a GPU (see :mod:`.fake_cuda`)."""

from .fake_cuda import DeviceRuleError, FakeCuda, FakeCudaGenerator

__all__ = ["DeviceRuleError", "FakeCuda", "FakeCudaGenerator"]
