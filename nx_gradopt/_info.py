"""Backend metadata for NetworkX's ``networkx.backend_info`` entry point.

NetworkX *calls* :func:`get_info` while ``import networkx`` is still running, before its own
algorithms exist. This module imports only the standard library at module level; the
function table comes from the registry (:mod:`nx_gradopt._registry`), whose family modules
are as light, and ``networkx.utils`` (already imported by then) is touched inside functions.
Nothing here may raise: an exception would make NetworkX drop the backend, and with it every
new function, with only an import-time warning as a clue.
"""

import os
import re
import sys

BACKEND_NAME = "gradopt"
EARLY_API_ENV = "NX_GRADOPT_EARLY_API"
DEVICE_ENV = "NX_GRADOPT_DEVICE"
DTYPE_ENV = "NX_GRADOPT_DTYPE"

DTYPES = ("float64", "float32")
DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")
DEVICE_CHOICES = "'auto', 'cpu', 'cuda' or 'cuda:N'"


def valid_device(value):
    return DEVICE_PATTERN.fullmatch(str(value)) is not None


def valid_dtype(value):
    return str(value).removeprefix("torch.") in DTYPES


def _config_class():
    """The validated ``nx.config.backends.gradopt`` class, built lazily (networkx is mid-import)."""
    from networkx.utils.configs import Config

    class GradoptConfig(Config):
        """Configuration of the ``gradopt`` backend.

        Parameters
        ----------
        device : str or None
            'auto' (CUDA when available, else CPU), 'cpu', 'cuda' or 'cuda:N'. None: from
            the ``NX_GRADOPT_DEVICE`` environment variable, checked when a function runs.
        dtype : str or None
            'float64' (default) or 'float32'. None: from ``NX_GRADOPT_DTYPE``, likewise.
        """

        device: str | None
        dtype: str | None

        def _on_setattr(self, key, value):
            if value is None:
                return None
            text = str(value)
            if key == "device" and not valid_device(text):
                raise ValueError(f"`device` must be {DEVICE_CHOICES}; got {value!r}")
            if key == "dtype":
                if not valid_dtype(text):
                    raise ValueError(f"`dtype` must be 'float64' or 'float32'; got {value!r}")
                text = text.removeprefix("torch.")
            return text

    return GradoptConfig


def default_config():
    """The backend's configuration, seeded from the environment variables.

    An invalid variable leaves its setting None, so that the error is raised, naming the
    variable, when a function runs (see ``nx_gradopt.config``), instead of here.
    """
    device = os.environ.get(DEVICE_ENV, "auto")
    dtype = os.environ.get(DTYPE_ENV, "float64")
    return _config_class()(
        device=device if valid_device(device) else None,
        dtype=dtype if valid_dtype(dtype) else None,
    )


def function_table():
    """``get_info()["functions"]``, derived from the registry."""
    from ._registry import registrations

    table = {}
    for name, registration in registrations().items():
        entry = {"additional_docs": registration.docs}
        if registration.extra_parameters:
            entry["additional_parameters"] = dict(registration.extra_parameters)
        table[name] = entry
    return table


def get_info():
    """Describe the backend to NetworkX, and install the new functions early when allowed."""
    info = {
        "backend_name": BACKEND_NAME,
        "project": "nx-gradopt",
        "package": "nx_gradopt",
        "url": "https://github.com/nx-gradopt/nx-gradopt",
        "short_summary": "Continuous-optimisation graph algorithms on a torch core (GPU when present).",
        "default_config": default_config(),
        "functions": function_table(),
    }
    installed = False
    if os.environ.get(EARLY_API_ENV, "1") != "0":
        from ._install import install_early

        installed = install_early(info)
    if not installed:
        _forget_package_if_imported_by_networkx()
    return info


def _forget_package_if_imported_by_networkx():
    """Let a later ``import nx_gradopt`` run its ``__init__`` (and so install the new functions).

    The entry point lives inside ``nx_gradopt``, so ``import networkx`` imports the package
    while networkx is still half-built, too early to install anything. Without this, the user's
    own ``import nx_gradopt`` afterwards would be a no-op and the functions would never appear.
    """
    package = sys.modules.get("nx_gradopt")
    if package is None or not getattr(package, "_imported_while_networkx_initialising", False):
        return
    for name in [m for m in sys.modules if m == "nx_gradopt" or m.startswith("nx_gradopt.")]:
        del sys.modules[name]
