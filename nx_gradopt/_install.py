"""Put nx-gradopt's new functions into the ``networkx`` namespace.

NetworkX has no official way for a third party to add functions (see DESIGN.md). What works on
networkx 3.4-3.7: decorate our function with ``networkx.utils.backends._dispatchable`` and
``setattr(networkx, name, f)``. This module does that, and never overwrites a NetworkX name.
"""

import warnings

# Minor versions whose dispatch internals we test. The early route registers our dispatch
# names *before* networkx registers its own; should a future networkx define the same name,
# registering first would break ``import networkx`` for everyone, so we only do it here.
TESTED_NETWORKX_MINORS = ("3.4", "3.5", "3.6", "3.7")


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


def install():
    """Attach the new dispatchable functions to ``networkx``; skip names networkx already has."""
    import networkx

    from . import frontends

    for name in frontends.__all__:
        function = getattr(frontends, name)
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
