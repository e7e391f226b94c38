"""How nx-gradopt plugs into NetworkX, checked in fresh interpreters."""

import os
import subprocess
import sys

import pytest


def run(code, **env):
    environment = {**os.environ, **env}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_import_networkx_exposes_new_function_without_torch():
    out = run(
        "import sys, networkx as nx\n"
        "print(hasattr(nx, 'optimize_algebraic_connectivity'), 'torch' in sys.modules,"
        " 'gradopt' in nx.optimize_algebraic_connectivity.backends)"
    )
    # (networkx 3.4 does not list "networkx" itself in .backends; 3.5+ does.)
    assert out == "True False True"


def test_import_networkx_loads_only_light_modules():
    out = run("import sys, networkx\nprint(sorted(m for m in sys.modules if m.startswith('nx_gradopt')))")
    assert out == (
        "['nx_gradopt', 'nx_gradopt._info', 'nx_gradopt._install', 'nx_gradopt._registry', "
        "'nx_gradopt.nx', 'nx_gradopt.nx._checks', 'nx_gradopt.nx.connectivity', "
        "'nx_gradopt.nx.matching', 'nx_gradopt.nx.maxcut', 'nx_gradopt.nx.spectral']"
    )


@pytest.mark.parametrize("first", ["networkx", "nx_gradopt"])
def test_opt_out_then_import_nx_gradopt_installs(first):
    second = "nx_gradopt" if first == "networkx" else "networkx"
    out = run(
        f"import {first}\nimport networkx as nx\n"
        "before = hasattr(nx, 'optimize_algebraic_connectivity')\n"
        f"import {second}\nimport nx_gradopt\n"
        "f = nx.optimize_algebraic_connectivity\n"
        "print(before, f is nx_gradopt.optimize_algebraic_connectivity, 'gradopt' in f.backends)",
        NX_GRADOPT_EARLY_API="0",
    )
    expected_before = first == "nx_gradopt"
    assert out == f"{expected_before} True True"


def test_opt_out_keeps_networkx_namespace_clean():
    out = run("import networkx as nx\nprint(hasattr(nx, 'optimize_algebraic_connectivity'))",
              NX_GRADOPT_EARLY_API="0")
    assert out == "False"


def test_dispatch_follows_generators_priority_and_backend_keyword():
    out = run(
        "import logging, networkx as nx\n"
        "nx.config.warnings_to_ignore.add('cache')\n"
        "G = nx.path_graph(5)\n"
        "ran = []\n"
        "class Catch(logging.Handler):\n"
        "    def emit(self, record): ran.append(record.getMessage())\n"
        "log = logging.getLogger('networkx'); log.setLevel(logging.DEBUG); log.addHandler(Catch())\n"
        "def used():\n"
        "    hit = any(\"Using backend 'gradopt'\" in m for m in ran); ran.clear(); return hit\n"
        "nx.optimize_algebraic_connectivity(G, 1.0); a = used()\n"
        "nx.config.backend_priority.algos = ['gradopt']\n"
        "nx.optimize_algebraic_connectivity(G, 1.0); b = used()\n"
        "nx.config.backend_priority.generators = ['gradopt']\n"
        "nx.optimize_algebraic_connectivity(G, 1.0); c = used()\n"
        "nx.algebraic_connectivity(G); d = used()\n"
        "nx.config.backend_priority.algos = []; nx.config.backend_priority.generators = []\n"
        "nx.optimize_algebraic_connectivity(G, 1.0, backend='gradopt'); e = used()\n"
        "print(a, b, c, d, e)"
    )
    assert out == "False False True True True"


def test_new_function_pickles_by_name():
    out = run(
        "import pickle, networkx as nx\n"
        "f = nx.optimize_algebraic_connectivity\n"
        "print(pickle.loads(pickle.dumps(f)) is f)"
    )
    assert out == "True"


def test_install_never_overwrites_networkx_names(monkeypatch):
    import networkx as nx

    import nx_gradopt
    from nx_gradopt import _install

    sentinel = object()
    monkeypatch.setitem(nx.__dict__, "optimize_algebraic_connectivity", sentinel)
    with pytest.warns(RuntimeWarning, match="networkx already defines 'optimize_algebraic"):
        _install.install()
    assert nx.optimize_algebraic_connectivity is sentinel
    assert nx_gradopt.optimize_algebraic_connectivity is not sentinel


def test_untested_networkx_version_skips_early_route(monkeypatch):
    import networkx as nx

    from nx_gradopt import _install

    monkeypatch.setattr(nx, "__version__", "3.99.0")
    assert _install.install_early({"backend_name": "gradopt"}) is False
    assert _install.networkx_minor("3.10.2") == "3.10"
