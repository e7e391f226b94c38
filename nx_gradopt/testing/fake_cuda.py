"""A fake CUDA device: CPU data that behaves, to our code, like data on a GPU.

No GPU runs this project's CI or development machines, yet most users with large graphs run
on one. Inside ``with FakeCuda() as fake:`` every tensor created for ``device="cuda"`` (or
moved there) keeps real CPU data, so data-dependent loops run and answers can be checked, but

- reports ``device.type == "cuda"`` and ``is_cuda``, so the code takes its GPU branches;
- enforces CUDA's rules: an operation mixing device tensors with CPU tensors raises, except
  0-dim CPU scalars, CPU index tensors in indexing, and explicit copies; ``.numpy()`` and
  ``np.asarray`` of a device tensor raise; a generator drawing on another device type than
  its own raises (a CUDA one is a :class:`FakeCudaGenerator`);
- counts host synchronisations (``item``, ``float``, ``bool``, ``tolist``, copies to the host,
  boolean masks, ``nonzero``, the error checks of ``eigh``/``solve``/``cholesky``) and bytes
  copied each way, per call site in ``nx_gradopt`` (``fake.syncs``, ``fake.to_device``,
  ``fake.to_host``: ``collections.Counter`` keyed by ``"module.py:line"``).

It is a :class:`torch.overrides.TorchFunctionMode` over plain tensors, which torch calls for
every function, method and property access (sparse tensors included), with a registry of the
tensors that live on the fake device. The mode is thread-local, like CUDA streams are not:
work that our code hands to other threads must not be torch work (it is not).
"""

import collections
import sys
from unittest import mock

import torch
from torch.overrides import TorchFunctionMode
from torch.utils.weak import WeakIdKeyDictionary

DEVICE = torch.device("cuda", 0)
_TENSOR = torch.Tensor

# Functions that wait for the device: their result (or error status) is read on the host.
_SYNCING = {
    _TENSOR.item, _TENSOR.__float__, _TENSOR.__int__, _TENSOR.__bool__, _TENSOR.__index__,
    _TENSOR.tolist, _TENSOR.nonzero, torch.nonzero, torch.argwhere, _TENSOR.argwhere,
    torch.masked_select, _TENSOR.masked_select, torch.unique, _TENSOR.unique,
    torch.bincount, _TENSOR.bincount,
    # The non-"_ex" factorisations check their info code on the host.
    torch.linalg.eigh, torch.linalg.eigvalsh, torch.linalg.solve, torch.linalg.cholesky,
    torch.linalg.inv, torch.cholesky_solve,
}
# Sizes its output from its data unless told the size.
_SIZED = {torch.repeat_interleave, _TENSOR.repeat_interleave}
_INDEXING = {_TENSOR.__getitem__, _TENSOR.__setitem__}
_COPIES = {_TENSOR.copy_}
_PROPERTIES = {
    _TENSOR.device.__get__: lambda fake: DEVICE if fake else torch.device("cpu"),
    _TENSOR.is_cuda.__get__: lambda fake: fake,
    _TENSOR.is_cpu.__get__: lambda fake: not fake,
}


class DeviceRuleError(RuntimeError):
    """What CUDA would have raised."""


class FakeCudaGenerator(torch.Generator):
    """A CPU generator that reports ``device == cuda:0``: a user's CUDA generator, as
    :class:`FakeCuda` sees it (torch cannot make a real one without CUDA)."""

    @property
    def device(self):
        return torch.device("cuda", 0)


def _is_cuda(device):
    if isinstance(device, torch.Tensor):
        return None  # a tensor argument of .to(): decided by the caller
    if isinstance(device, (str, torch.device)):
        try:
            return torch.device(device).type == "cuda"
        except RuntimeError:
            return None
    return None


def _tensors(value):
    """The tensors in an argument (nested lists, tuples and dicts)."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


def _call_site():
    """``module.py:line`` of the innermost frame in nx_gradopt outside this module."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name.startswith("nx_gradopt") and name != __name__:
            return f"{name.removeprefix('nx_gradopt.')}:{frame.f_lineno}"
        frame = frame.f_back
    return "outside nx_gradopt"


class FakeCuda(TorchFunctionMode):
    """The fake device (see the module docstring). Re-entrant use is not supported.

    While active, ``torch.cuda.is_available()`` is True and ``torch.cuda.synchronize`` counts
    as a synchronisation; both are restored on exit.
    """

    def __init__(self):
        super().__init__()
        self._on_device = WeakIdKeyDictionary()
        self.syncs = collections.Counter()
        self.to_device = collections.Counter()
        self.to_host = collections.Counter()
        self._patches = [
            mock.patch.object(torch.cuda, "is_available", lambda: True),
            mock.patch.object(torch.cuda, "device_count", lambda: 1),
            mock.patch.object(torch.cuda, "synchronize", self._synchronize),
        ]

    # Counting ---------------------------------------------------------------------------

    def total_syncs(self):
        """Host synchronisations counted so far, all call sites together."""
        return sum(self.syncs.values())

    def reset_counts(self):
        """Start counting synchronisations and bytes afresh (the tensors stay on the device)."""
        for counter in (self.syncs, self.to_device, self.to_host):
            counter.clear()

    def is_fake(self, tensor):
        """Whether ``tensor`` lives on the fake device."""
        return tensor in self._on_device

    def _synchronize(self, device=None):
        self.syncs[_call_site()] += 1

    # The mode ---------------------------------------------------------------------------

    def __enter__(self):
        for patch in self._patches:
            patch.start()
        return super().__enter__()

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        finally:
            for patch in reversed(self._patches):
                patch.stop()

    def _mark(self, value):
        for tensor in _tensors(value):
            self._on_device[tensor] = True
        return value

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        inputs = list(_tensors((args, kwargs)))
        fake = any(t in self._on_device for t in inputs)

        if func in _PROPERTIES:
            return _PROPERTIES[func](fake)
        if fake and func in (_TENSOR.numpy, _TENSOR.__array__):
            raise DeviceRuleError(
                "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy "
                "the tensor to host memory first."
            )
        target, args, kwargs = self._target(func, args, kwargs)
        if target is not None:
            return self._transfer(func, args, kwargs, target, inputs)
        if func in _COPIES:
            return self._copy(func, args, kwargs)
        if not fake:
            self._check_generator(kwargs.get("generator"), "cpu")
            return func(*args, **kwargs)
        self._check_mixing(func, args, inputs)
        self._check_generator(kwargs.get("generator"), "cuda")
        if func in _SYNCING or (func in _SIZED and kwargs.get("output_size") is None) or (
            func is _TENSOR.__getitem__
            and any(t.dtype == torch.bool for t in _tensors(args[1:]))
        ):
            self.syncs[_call_site()] += 1
        return self._mark(func(*args, **kwargs))

    def _target(self, func, args, kwargs):
        """(device the call puts its result on, "cuda"/"cpu"/None; args and kwargs with the
        cuda device replaced by the CPU)."""
        if func is _TENSOR.cuda:
            return "cuda", args[:1], {}
        if func is _TENSOR.cpu:
            return "cpu", args, kwargs
        target = None
        if kwargs.get("device") is not None and _is_cuda(kwargs["device"]) is not None:
            target = "cuda" if _is_cuda(kwargs["device"]) else "cpu"
            kwargs["device"] = "cpu"
        if func is _TENSOR.to:
            rest = list(args[1:])
            for index, value in enumerate(rest):
                if isinstance(value, torch.Tensor):  # .to(other): other's device and dtype
                    target = "cuda" if value in self._on_device else "cpu"
                    rest[index] = value.dtype
                elif _is_cuda(value) is not None:
                    target = "cuda" if _is_cuda(value) else "cpu"
                    rest[index] = torch.device("cpu")
            args = (args[0], *rest)
            if "other" in kwargs:
                other = kwargs.pop("other")
                target = "cuda" if other in self._on_device else "cpu"
                kwargs["dtype"] = other.dtype
        if target is not None:
            self._check_generator(kwargs.get("generator"), target)
        return target, args, kwargs

    def _transfer(self, func, args, kwargs, target, inputs):
        """A factory or a copy with a device: CPU work, the result placed as asked."""
        to_device = target == "cuda"
        result = args[0] if func is _TENSOR.cuda else func(*args, **kwargs)
        moved = [t for t in inputs if (t in self._on_device) != to_device]
        size = sum(_nbytes(t) for t in moved)
        if isinstance(result, torch.Tensor) and any(result is t for t in moved):
            result = result.clone()  # torch returned its input: the copy must be a new tensor
        if to_device:
            if size:
                self.to_device[_call_site()] += size
            return self._mark(result)
        if moved:  # a copy to the host waits for the device
            self.syncs[_call_site()] += 1
            self.to_host[_call_site()] += size
        return result

    def _copy(self, func, args, kwargs):
        destination, source = args[0], args[1]
        into_device = destination in self._on_device
        if into_device != (source in self._on_device):
            if into_device:
                self.to_device[_call_site()] += _nbytes(source)
            else:
                self.syncs[_call_site()] += 1
                self.to_host[_call_site()] += _nbytes(source)
        return func(*args, **kwargs)

    def _check_mixing(self, func, args, inputs):
        allowed = set()
        if func in _INDEXING and args and args[0] in self._on_device:
            allowed = {id(t) for t in _tensors(args[1])}  # CPU indices are fine
        cpu = [
            t for t in inputs
            if t not in self._on_device and t.dim() > 0 and id(t) not in allowed
        ]
        if cpu:
            raise DeviceRuleError(
                f"Expected all tensors to be on the same device, but found at least two "
                f"devices, cuda:0 and cpu! ({getattr(func, '__name__', func)} at "
                f"{_call_site()}, CPU shape {tuple(cpu[0].shape)})"
            )

    @staticmethod
    def _check_generator(generator, device_type):
        """A generator draws only on its own device type."""
        if generator is not None and generator.device.type != device_type:
            raise DeviceRuleError(
                f"Expected a '{device_type}' device type for generator but found "
                f"'{generator.device.type}'"
            )


def _nbytes(tensor):
    if tensor.layout == torch.sparse_csr:
        parts = tensor.crow_indices(), tensor.col_indices(), tensor.values()
    elif tensor.layout == torch.sparse_coo:
        parts = tensor._indices(), tensor._values()
    else:
        parts = (tensor,)
    return sum(part.numel() * part.element_size() for part in parts)
