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
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
]
# Benchmark plots read the result tables beside the pages (docs/results/*.csv).
plot_working_directory = os.path.dirname(os.path.abspath(__file__))
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
# The gallery runs when the docs are built: small graphs, CPU, seconds each.
sphinx_gallery_conf = {
    "examples_dirs": "../examples/gallery",
    "gallery_dirs": "gallery",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    "abort_on_example_error": True,
}
extlinks = {"doi": ("https://doi.org/%s", "doi:%s")}
numpydoc_show_class_members = False
# Parameter types link to the projects that define them (through the inventories below).
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    "NetworkX graph": "networkx.Graph",
    "ndarray": "numpy.ndarray",
}
numpydoc_xref_ignore = {"optional", "default", "or", "of", "shape", "None", "and", "a"}
numpydoc_class_members_toctree = False
autosummary_generate = False
# Offline inventories (docs/_inventories/make_inventories.py): the build needs no network.
_INVENTORIES = os.path.join(os.path.dirname(__file__), "_inventories")
intersphinx_mapping = {
    name: (url, os.path.join(_INVENTORIES, f"{name}.inv")) for name, url in {
        "python": "https://docs.python.org/3/",
        "networkx": "https://networkx.org/documentation/stable/",
        "numpy": "https://numpy.org/doc/stable/",
        "scipy": "https://docs.scipy.org/doc/scipy/",
        "torch": "https://docs.pytorch.org/docs/stable/",
    }.items()
}
exclude_patterns = ["_build", "gallery/*.ipynb", "gallery/*.py", "gallery/*.zip"]
html_theme = "alabaster"
# Wide enough for the benchmark tables; code blocks scroll rather than cut off a column.
html_theme_options = {"page_width": "1320px", "body_max_width": "none"}
html_static_path = ["_static"]
html_css_files = ["tables.css"]
html_title = "nx-gradopt"

# NetworkX appends a "Backends" section to dispatchable docstrings; numpydoc does not know it.
import warnings  # noqa: E402

warnings.filterwarnings("ignore", message="Unknown section Backends")
