"""Sphinx configuration for nx-gradopt."""

import os

os.environ.setdefault("NX_GRADOPT_DEVICE", "cpu")

project = "nx-gradopt"
author = "nx-gradopt developers"
copyright = "2026, nx-gradopt developers"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.extlinks",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
]
extlinks = {"doi": ("https://doi.org/%s", "doi:%s")}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autosummary_generate = False
intersphinx_mapping = {}
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_title = "nx-gradopt"

# NetworkX appends a "Backends" section to dispatchable docstrings; numpydoc does not know it.
import warnings  # noqa: E402

warnings.filterwarnings("ignore", message="Unknown section Backends")
