"""Put nx-gradopt's new functions into the ``networkx`` namespace.

NetworkX has no official way for a third party to add functions (see DESIGN.md). What works on
networkx 3.4-3.7: decorate our function with ``networkx.utils.backends._dispatchable`` and
``setattr(networkx, name, f)``. This module builds those dispatchables from the registry and
installs them, never overwriting a NetworkX name.
"""

import functools
import warnings

# Minor versions whose dispatch internals we test. The early route registers our dispatch
# names *before* networkx registers its own; should a future networkx define the same name,
# registering first would break ``import networkx`` for everyone, so we only do it here.
TESTED_NETWORKX_MINORS = ("3.4", "3.5", "3.6", "3.7")

# Dispatch name -> the installed function, built once per process.
_DISPATCHABLES = {}


def networkx_minor(version):
    """'3.6.1' -> '3.6'."""
    return ".".join(version.split(".")[:2])


def install_early(info):
    """Install during ``import networkx`` (called from ``get_info``); True if it did."""
    import networkx
    from networkx.utils import backends

    if networkx_minor(networkx.__version__) not in TESTED_NETWORKX_MINORS:
        return False
    # ``f.backends`` is computed at decoration time from ``backend_info``, which networkx
    # fills only after every get_info() has returned: seed our entry so it lists "gradopt".
    backends.backend_info.setdefault(info["backend_name"], info)
    install()
    return True


def new_functions():
    """``{name: dispatchable}`` of the functions nx-gradopt adds to NetworkX."""
    from ._registry import registrations

    for name, registration in registrations().items():
        if registration.new and name not in _DISPATCHABLES:
            _DISPATCHABLES[name] = _dispatchable(registration)
    return dict(_DISPATCHABLES)


def install():
    """Attach the new dispatchable functions to ``networkx``; skip names networkx already has."""
    import networkx

    for name, function in new_functions().items():
        current = networkx.__dict__.get(name)
        if current is None:
            setattr(networkx, name, function)
        elif current is not function:
            warnings.warn(
                f"networkx already defines {name!r}; nx-gradopt leaves it in place. "
                f"Use nx_gradopt.{name} for ours.",
                RuntimeWarning,
                stacklevel=2,
            )


def _dispatchable(registration):
    """The NetworkX dispatchable of a new function.

    Its default ("networkx") implementation converts the graphs as the dispatcher would for
    ``backend="gradopt"`` and runs the registered implementation: the same kernel on the same
    data either way; only the conversion cache differs.
    """
    from networkx.utils.backends import _dispatchable, _registered_algorithms
    from networkx.utils.decorators import not_implemented_for

    name = registration.name
    if name in _registered_algorithms:
        raise ImportError(
            f"networkx already has a dispatchable named {name!r}; this nx-gradopt "
            "release does not support this networkx version."
        )
    implementation = registration.function

    @functools.wraps(implementation)
    def convert_and_run(*args, **kwargs):
        arguments = registration.bind(args, kwargs)
        if arguments is None:  # let Python report the bad call in its own words
            return implementation(*args, **kwargs)
        return implementation(**registration.converted(arguments))

    # NetworkX's decorators read the defaults from these attributes, not from the signature.
    convert_and_run.__defaults__ = implementation.__defaults__
    convert_and_run.__kwdefaults__ = implementation.__kwdefaults__
    # Pickled by name (the dispatch name, then ``nx_gradopt.<name>``), as NetworkX's own are.
    convert_and_run.__module__ = "nx_gradopt"
    convert_and_run.__qualname__ = name
    function = _dispatchable(convert_and_run, name=name, **registration.dispatch)
    for kind in registration.not_implemented_for:
        function = not_implemented_for(kind)(function)
    if registration.not_implemented_for:
        function.__module__, function.__qualname__ = "nx_gradopt", name
    return function
