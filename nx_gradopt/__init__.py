"""nx-gradopt: continuous-optimisation graph algorithms for NetworkX on a torch core.

Importing this package is light: it imports neither torch nor, at module level, networkx
(NetworkX's ``get_info`` hook imports it while ``import networkx`` is still running). Public
names are resolved lazily (PEP 562).
"""

import importlib
import logging
import sys

__version__ = "0.1.0"

# Progress of long runs goes to this logger at INFO (nx_gradopt.core.progress); the library
# prints nothing. A NullHandler, as the logging HOWTO asks of libraries.
logging.getLogger("nx_gradopt").addHandler(logging.NullHandler())

# Public names other than the new NetworkX functions, which come from the registry.
_LAZY = {
    "quadratic_assignment": "nx_gradopt.matching",
    "QAPResult": "nx_gradopt.matching",
    "GraphMatchSolution": "nx_gradopt.nx.matching",
    "MaxCutSolution": "nx_gradopt.nx.maxcut",
    "install": "nx_gradopt._install",
    "TensorGraph": "nx_gradopt.core.tensorgraph",
    "from_networkx": "nx_gradopt.convert",
    "to_networkx": "nx_gradopt.convert",
    "ConvergenceWarning": "nx_gradopt.core.results",
    "OptimizationResult": "nx_gradopt.core.results",
    "solve_many": "nx_gradopt.batch",
    "solve_as_completed": "nx_gradopt.batch",
    "Problem": "nx_gradopt.batch",
    "ProblemError": "nx_gradopt.batch",
}


def _new_functions():
    from ._install import new_functions

    return new_functions()


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "__all__":
        return sorted([*_LAZY, *_new_functions()])
    if not name.startswith("__"):
        functions = _new_functions()
        if name in functions:
            return functions[name]
    raise AttributeError(f"module 'nx_gradopt' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __getattr__("__all__"))


def _networkx_initialising():
    module = sys.modules.get("networkx")
    return module is not None and getattr(getattr(module, "__spec__", None), "_initializing", False)


# The late route: ``import nx_gradopt`` installs the new functions into networkx (either import
# order). When networkx itself is mid-import (it is loading our get_info), the early route in
# ``_info.get_info`` decides instead.
_imported_while_networkx_initialising = _networkx_initialising()
if not _imported_while_networkx_initialising:
    import networkx as _networkx  # noqa: F401  (runs get_info first if networkx was not imported)

    from ._install import install as _install

    _install()
    del _networkx, _install
