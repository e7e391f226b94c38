"""The ``networkx.backends`` entry point: how NetworkX converts for, and calls, gradopt.

The implementations are the registry's (:mod:`nx_gradopt._registry`): one attribute per
registered function, set below, so NetworkX's ``hasattr`` check sees exactly those.
"""

from ._registry import registrations
from .convert import from_networkx, to_networkx
from .core.tensorgraph import TensorGraph

_REGISTRATIONS = registrations()


class BackendInterface:
    """NetworkX looks implementations up here by dispatch name (``getattr``)."""

    @staticmethod
    def convert_from_nx(
        graph, edge_attrs=None, node_attrs=None, preserve_edge_attrs=False,
        preserve_node_attrs=False, preserve_graph_attrs=False, name=None, graph_name=None,
    ):
        if isinstance(graph, TensorGraph):
            return graph
        # A bad attribute value raises our TypeError naming the edge, also under automatic
        # dispatch: NetworkX fails on the same values (str, None, complex) from deep inside
        # NumPy or SciPy.
        return from_networkx(
            graph, edge_attrs, preserve_edge_attrs=preserve_edge_attrs is True,
            preserve_node_attrs=preserve_node_attrs is True or bool(node_attrs),
            preserve_graph_attrs=bool(preserve_graph_attrs),
        )

    @staticmethod
    def convert_to_nx(obj, *, name=None):
        return to_networkx(obj)

    @staticmethod
    def can_run(name, args, kwargs):
        """True, or why not (NetworkX logs the reason and moves on to the next backend)."""
        registration = _REGISTRATIONS.get(name)
        if registration is None:
            return f"gradopt does not implement {name!r}"
        arguments = registration.bind(args, kwargs)
        if arguments is None:
            return True  # let the call itself report the bad arguments
        if registration.fresh_conversion:
            _forget_cached_conversions(registration, arguments)
        return registration.can_run(arguments) if registration.can_run else True

    @staticmethod
    def should_run(name, args, kwargs):
        """True, or why NetworkX's own implementation is expected to be faster."""
        registration = _REGISTRATIONS.get(name)
        if registration is None or registration.should_run is None:
            return True
        arguments = registration.bind(args, kwargs)
        return True if arguments is None else registration.should_run(arguments)


def _forget_cached_conversions(registration, arguments):
    """Drop gradopt's cached conversions of the call's graphs, so it converts them afresh.

    ``G.edges[u, v]["weight"] = x`` does not clear NetworkX's conversion cache; a certified
    bound computed from the stale conversion would be presented as one for the graph passed.
    Converting is O(m), small next to the solves these functions run.
    """
    for parameter in registration.graph_parameters:
        cache = getattr(arguments.get(parameter), "__networkx_cache__", None)
        if isinstance(cache, dict):
            cache.get("backends", {}).pop("gradopt", None)


for _name, _registration in _REGISTRATIONS.items():
    setattr(BackendInterface, _name, staticmethod(_registration.function))
del _name, _registration
