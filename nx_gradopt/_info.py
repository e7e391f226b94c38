"""Backend metadata for NetworkX's ``networkx.backend_info`` entry point.

NetworkX *calls* :func:`get_info` while ``import networkx`` is still running, before its own
algorithms exist. This module therefore imports only the standard library at module level and
touches ``networkx.utils`` (already imported by then) inside functions only.
"""

import os
import re
import sys

BACKEND_NAME = "gradopt"
EARLY_API_ENV = "NX_GRADOPT_EARLY_API"
DEVICE_ENV = "NX_GRADOPT_DEVICE"
DTYPE_ENV = "NX_GRADOPT_DTYPE"

DTYPES = ("float64", "float32")
_DEVICE_PATTERN = re.compile(r"auto|cpu|mps|(cuda|xpu)(:\d+)?")

_EXTRA_PARAMETERS = {
    "device : str or torch.device, optional": (
        "Where to compute: 'cpu', 'cuda', 'cuda:1', ... or 'auto' (CUDA when available). "
        "Default: ``nx.config.backends.gradopt.device``."
    ),
    "dtype : {'float64', 'float32'}, optional": (
        "Floating-point precision of the computation. "
        "Default: ``nx.config.backends.gradopt.dtype``."
    ),
}

_SPECTRAL_DOCS = (
    "Dense ``eigh`` on small graphs; shift-invert Lanczos on a sparse LU factorisation "
    "on the CPU and LOBPCG on a GPU for large graphs. ``method`` is validated as NetworkX "
    "does; 'lobpcg' selects LOBPCG and 'tracemin_lu' the sparse LU solver, other methods "
    "let the backend choose."
)

# Backend implementations of existing NetworkX functions; the new functions are added below.
IMPLEMENTED_FUNCTIONS = {
    "algebraic_connectivity": _SPECTRAL_DOCS,
    "fiedler_vector": _SPECTRAL_DOCS,
    "spectral_ordering": _SPECTRAL_DOCS,
    "laplacian_spectrum": "Dense ``torch.linalg.eigvalsh``.",
    "normalized_laplacian_spectrum": "Dense ``torch.linalg.eigvalsh``.",
    "effective_graph_resistance": "Laplacian eigenvalues (dense ``eigvalsh``) per component.",
    "resistance_distance": "Laplacian pseudo-inverse via a dense solve.",
    "kemeny_constant": "Normalized-Laplacian eigenvalues (dense ``eigvalsh``).",
    "laplacian_matrix": "Built from the converted sparse graph; returns a SciPy CSR array.",
    "normalized_laplacian_matrix": "Built from the converted sparse graph; SciPy CSR array.",
}
NEW_FUNCTIONS = {
    "graph_match": "FAQ and GOAT Frank–Wolfe network alignment, batched starts, seeds, padding.",
    "graph_match_result": "graph_match with the objective and convergence details.",
    "max_cut_sdp": "Burer–Monteiro SDP, certified bound, breakout local search.",
    "max_cut_sdp_result": "max_cut_sdp with the certified bound and the SDP solution.",
    "optimize_algebraic_connectivity": "Smoothed L-BFGS-B with a certified upper bound.",
    "optimize_edge_weights": "Budgeted edge weights for any differentiable torch objective.",
}


def _config_class():
    """The validated ``nx.config.backends.gradopt`` class, built lazily (networkx is mid-import)."""
    from networkx.utils.configs import Config

    class GradoptConfig(Config):
        """Configuration of the ``gradopt`` backend.

        Parameters
        ----------
        device : str
            'auto' (CUDA when available, else CPU), 'cpu', 'cuda', 'cuda:N', 'mps' or 'xpu'.
        dtype : str
            'float64' (default) or 'float32'.
        """

        device: str
        dtype: str

        def _on_setattr(self, key, value):
            text = str(value)
            if key == "device" and not _DEVICE_PATTERN.fullmatch(text):
                raise ValueError(
                    "`device` must be 'auto', 'cpu', 'cuda', 'cuda:N', 'mps' or 'xpu'; "
                    f"got {value!r}"
                )
            if key == "dtype":
                text = text.removeprefix("torch.")
                if text not in DTYPES:
                    raise ValueError(f"`dtype` must be 'float64' or 'float32'; got {value!r}")
            return text

    return GradoptConfig


def default_config():
    """The backend's configuration, seeded from the environment variables."""
    return _config_class()(
        device=os.environ.get(DEVICE_ENV, "auto"),
        dtype=os.environ.get(DTYPE_ENV, "float64"),
    )


def get_info():
    """Describe the backend to NetworkX, and install the new functions early when allowed."""
    functions = {}
    for name, docs in {**IMPLEMENTED_FUNCTIONS, **NEW_FUNCTIONS}.items():
        functions[name] = {"additional_docs": docs, "additional_parameters": _EXTRA_PARAMETERS}
    info = {
        "backend_name": BACKEND_NAME,
        "project": "nx-gradopt",
        "package": "nx_gradopt",
        "url": "https://github.com/nx-gradopt/nx-gradopt",
        "short_summary": "Continuous-optimisation graph algorithms on a torch core (GPU when present).",
        "default_config": default_config(),
        "functions": functions,
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
