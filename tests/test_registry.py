"""The registry is the one source of what the backend implements: get_info, the interface,
the installed functions and the public names must all agree with it and with NetworkX."""

import inspect

import networkx as nx
import pytest
from networkx.utils.backends import _registered_algorithms

import nx_gradopt
from nx_gradopt._info import get_info
from nx_gradopt._registry import registrations
from nx_gradopt.interface import BackendInterface

REGISTRATIONS = registrations()
EXISTING = sorted(name for name, r in REGISTRATIONS.items() if not r.new)
NEW = sorted(name for name, r in REGISTRATIONS.items() if r.new)


def parameter_name(declaration):
    """'device : str or torch.device, optional' -> 'device'."""
    return declaration.split(":")[0].strip()


def test_get_info_lists_exactly_what_the_interface_implements():
    functions = get_info()["functions"]
    implemented = {
        name for name in _registered_algorithms if hasattr(BackendInterface, name)
    }
    assert set(functions) == set(REGISTRATIONS) == implemented
    for name, entry in functions.items():
        assert entry["additional_docs"] == REGISTRATIONS[name].docs
        declared = entry.get("additional_parameters", {})
        assert declared == REGISTRATIONS[name].extra_parameters


def test_every_dispatchable_lists_gradopt():
    for name in REGISTRATIONS:
        assert "gradopt" in _registered_algorithms[name].backends, name


@pytest.mark.parametrize("name", EXISTING)
def test_existing_functions_take_networkx_signature_plus_declared_extras(name):
    theirs = inspect.signature(_registered_algorithms[name].orig_func)
    ours = inspect.signature(REGISTRATIONS[name].function)
    extras = [parameter_name(d) for d in REGISTRATIONS[name].extra_parameters]
    assert [p for p in ours.parameters.values() if p.name not in extras] == list(
        theirs.parameters.values()
    )
    for extra in extras:
        parameter = ours.parameters[extra]
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.default is None


@pytest.mark.parametrize("name", NEW)
def test_new_functions_are_installed_with_the_implementation_signature(name):
    function = getattr(nx, name)
    assert function is getattr(nx_gradopt, name)
    assert name in nx_gradopt.__all__
    dispatchable = _registered_algorithms[name]
    public = [
        p for p in inspect.signature(dispatchable).parameters.values()
        if p.name not in ("backend", "backend_kwargs")
    ]
    implementation = inspect.signature(REGISTRATIONS[name].function)
    assert public == list(implementation.parameters.values())
    for extra in REGISTRATIONS[name].extra_parameters:
        assert parameter_name(extra) in implementation.parameters
    assert function.__doc__.startswith(REGISTRATIONS[name].function.__doc__.splitlines()[0])


def test_interface_has_no_stray_implementations():
    own = {"convert_from_nx", "convert_to_nx", "can_run", "should_run"}
    attributes = {a for a in vars(BackendInterface) if not a.startswith("_")}
    assert attributes - own == set(REGISTRATIONS)


def test_can_run_declines_what_the_backend_cannot_do_with_a_reason():
    multigraph = nx.MultiGraph(
        [(0, 1, {"weight": 2}), (0, 1, {"weight": 3}), (1, 2, {"weight": 1})]
    )
    reason = BackendInterface.can_run(
        "effective_graph_resistance", (multigraph,), {"weight": "weight"}
    )
    assert isinstance(reason, str) and "parallel edges" in reason
    assert BackendInterface.can_run("effective_graph_resistance", (multigraph,), {}) is True
    assert "does not implement" in BackendInterface.can_run("resistance_distance", (), {})
    # Declined under automatic dispatch, NetworkX's own implementation answers.
    expected = nx.effective_graph_resistance(multigraph, "weight", backend="networkx")
    with nx.config(backend_priority={"algos": ["gradopt"]}):
        assert nx.effective_graph_resistance(multigraph, "weight") == expected


def test_should_run_leaves_networkx_what_it_does_as_fast():
    G = nx.path_graph(50)
    for name in ("laplacian_matrix", "normalized_laplacian_matrix"):
        assert "directly" in BackendInterface.should_run(name, (G,), {})
    for name in ("laplacian_spectrum", "kemeny_constant", "effective_graph_resistance"):
        assert "as fast" in BackendInterface.should_run(name, (G,), {"device": "cpu"})
    for name in ("algebraic_connectivity", "fiedler_vector", "spectral_ordering"):
        assert BackendInterface.should_run(name, (G,), {}) is True
    # Declined, the call runs NetworkX's implementation (no conversion is cached).
    with nx.config(backend_priority={"algos": ["gradopt"]}):
        nx.laplacian_spectrum(G)
        assert "gradopt" not in G.__networkx_cache__.get("backends", {})
        nx.algebraic_connectivity(G)
        assert "gradopt" in G.__networkx_cache__["backends"]
