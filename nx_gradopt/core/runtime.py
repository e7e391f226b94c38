"""Device, dtype and seed resolution for the torch core, and how a run executes (BLAS
threads, garbage collection, time limits).

The boundary resolves a call's ``device``, ``dtype`` and ``seed`` once into a :class:`Runtime`
and passes it to the kernel; kernels never pick a device or a seed themselves.
"""

import contextlib
import gc
import math
import numbers
import random
import threading
import time
from dataclasses import dataclass

import numpy as np
import torch

DTYPES = {"float64": torch.float64, "float32": torch.float32}


# The kinds of device the kernels are written and tested for ('meta' has no data, 'mps' no
# float64); others are refused here rather than failing inside torch.
DEVICE_TYPES = ("cpu", "cuda")


def resolve_device(device):
    """'auto'/None -> CUDA when available, else CPU; else a CPU or CUDA ``torch.device``."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        resolved = None
    if resolved is None or resolved.type not in DEVICE_TYPES:
        raise ValueError(
            f"`device` must be 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device of those; "
            f"got {device!r}"
        )
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"`device` is {device!r} but CUDA is not available")
    return resolved


def resolve_dtype(dtype):
    """'float64' (default) or 'float32', as a name or a torch dtype."""
    if dtype is None:
        return torch.float64
    if isinstance(dtype, torch.dtype) and dtype in DTYPES.values():
        return dtype
    if isinstance(dtype, str) and dtype.removeprefix("torch.") in DTYPES:
        return DTYPES[dtype.removeprefix("torch.")]
    raise ValueError(f"`dtype` must be 'float64' or 'float32'; got {dtype!r}")


def torch_generator(seed):
    """A CPU ``torch.Generator`` from a seed with NetworkX semantics.

    ``seed`` may be None (draw from NumPy's global RNG, as NetworkX does), an int, a
    ``random.Random``, a ``numpy.random.RandomState``, a ``numpy.random.Generator`` or a
    ``torch.Generator``.
    Draw on the CPU and move to the device, so a seed gives the same start everywhere.
    """
    if isinstance(seed, torch.Generator):
        if seed.device.type == "cpu":
            return seed
        # Draws are made on the CPU (so a seed gives the same start on every device): a
        # device generator seeds a CPU one, advancing as if it had drawn.
        seed = int(torch.randint(0, 2**62, (1,), generator=seed, device=seed.device))
    if seed is None:
        seed = np.random.mtrand._rand
    if isinstance(seed, random.Random):  # NetworkX's py_random_state accepts these too
        seed = seed.getrandbits(63)
    if isinstance(seed, bool) or not isinstance(
        seed, (numbers.Integral, np.random.RandomState, np.random.Generator)
    ):
        raise ValueError(
            "`seed` must be None, an int, a random.Random, a numpy RandomState or Generator, "
            f"or a torch.Generator; got {seed!r}"
        )
    if isinstance(seed, np.random.RandomState):
        seed = int(seed.randint(0, 2**31 - 1))
    elif isinstance(seed, np.random.Generator):
        seed = int(seed.integers(0, 2**63 - 1))
    generator = torch.Generator(device="cpu")
    generator.manual_seed(int(seed) % 2**63)
    return generator


def randn(shape, *, generator, device, dtype):
    """Standard normal draws made on the CPU with ``generator``, then moved."""
    return torch.randn(shape, generator=generator, dtype=torch.float64).to(device, dtype)


@dataclass(frozen=True)
class Runtime:
    """Where a kernel computes and what drives its random draws.

    Attributes
    ----------
    device : torch.device
        CPU or CUDA; the kernel's tensors live here.
    dtype : torch.dtype
        float64 or float32, the working precision.
    generator : torch.Generator
        A CPU generator: draws are made on the CPU and moved, so a seed gives the same
        answer on every device.
    """

    device: torch.device
    dtype: torch.dtype
    generator: torch.Generator

    @classmethod
    def resolve(cls, device=None, dtype=None, seed=None):
        """From a call's options (see :func:`resolve_device`, :func:`resolve_dtype` and
        :func:`torch_generator`)."""
        return cls(resolve_device(device), resolve_dtype(dtype), torch_generator(seed))


class TimeLimit:
    """A time limit as a cap on a loop of costly steps (eigen-solves, objective evaluations,
    Newton steps): a step that would end past it does not start. The last timed step's
    length predicts the next one's: the steps of one run are alike, warm-started solves of
    nearby matrices. Checking only whether the limit has passed let one step overrun it:
    ``connected_watts_strogatz_graph(20000, 6, 0.1)`` with ``time_limit=60`` returned after
    65 s (eigen-solves of 4-7 s).

    Parameters
    ----------
    time_limit : float or None
        Seconds; None for no limit.
    started : float
        The :func:`time.perf_counter` reading the limit counts from.
    """

    def __init__(self, time_limit, started):
        self.deadline = math.inf if time_limit is None else started + time_limit
        self.last_step = 0.0

    @classmethod
    def until(cls, deadline):
        """The limit at ``deadline``, a :func:`time.perf_counter` reading (inf for none)."""
        limit = cls(None, 0.0)
        limit.deadline = deadline
        return limit

    def next_step_fits(self):
        """Whether a step as long as the last one would end within the limit."""
        return time.perf_counter() + self.last_step <= self.deadline

    @contextlib.contextmanager
    def step(self):
        """Times the step run inside it."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.last_step = time.perf_counter() - start


class _SharedSetting:
    """A process-wide setting shared by concurrent calls: the first to enter applies it
    (``apply()`` returns the function that undoes it), the last to leave undoes it. Each
    call applying and undoing its own would restore a setting another call still relies on,
    or leave one in force."""

    def __init__(self, apply):
        self._apply, self._undo, self._users, self._lock = apply, None, 0, threading.Lock()

    @contextlib.contextmanager
    def __call__(self):
        with self._lock:
            if self._users == 0:
                self._undo = self._apply()
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    self._undo()
                    self._undo = None


def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas").restore_original_limits


def _collector_off():
    enabled = gc.isenabled()
    gc.disable()
    return gc.enable if enabled else lambda: None


_single_threaded_blas = _SharedSetting(_one_blas_thread)
_garbage_collection_paused = _SharedSetting(_collector_off)


def single_threaded_blas():
    """A context in which NumPy's and SciPy's OpenBLAS run one thread each.

    Iterative kernels alternate small BLAS calls (ARPACK, SuperLU, L-BFGS-B) with torch
    kernels; OpenBLAS threads spin between calls and take the cores from torch's. Measured
    on a 2-core machine: the certified 100 x 100 grid took 4.1 s with the default threads and
    2.0 s inside this context, the 2 000-node geometric graph 2.9x fewer seconds per step.

    The limit is process-wide (OpenBLAS has one pool), so concurrent calls share it: the
    first to enter sets it, the last to leave restores the original. Nested per-call
    ``threadpool_limits`` would each save the other's limit and leave one in force.
    """
    return _single_threaded_blas()


def garbage_collection_paused():
    """A context in which Python's cyclic garbage collector does not run.

    Reading a graph's edges allocates a tuple per edge: a young-generation collection every
    700 of them, and every hundredth a full one, which walks the whole heap (the graph's
    attribute dicts, torch's modules). Measured on ``from_networkx``: gnm(10^5, 10^6) took
    3.1-3.7 s and 1.0 s paused, gnm(2 * 10^4, 2 * 10^5) 0.42-0.52 s and 0.17 s. Nothing is
    lost: cycles made meanwhile are collected afterwards.

    Process-wide like :func:`single_threaded_blas`, and shared the same way: the first to
    enter pauses the collector, the last to leave restores what the first found (a collector
    the user disabled stays disabled).
    """
    return _garbage_collection_paused()
