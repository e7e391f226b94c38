"""The ``networkx.backends`` entry point: how NetworkX converts for, and calls, gradopt."""

from . import frontends, spectral
from .convert import from_networkx, to_networkx
from .core.tensorgraph import TensorGraph


class BackendInterface:
    """NetworkX looks implementations up here by dispatch name (``getattr``)."""

    @staticmethod
    def convert_from_nx(
        graph, edge_attrs=None, node_attrs=None, preserve_edge_attrs=False,
        preserve_node_attrs=False, preserve_graph_attrs=False, name=None, graph_name=None,
    ):
        if isinstance(graph, TensorGraph):
            return graph
        if preserve_edge_attrs:
            names = {key for *_, data in graph.edges(data=True) for key in data}
            edge_attrs = {key: None for key in names}
        try:
            return from_networkx(graph, edge_attrs)
        except (TypeError, KeyError) as error:
            # Declining lets automatic dispatch move on to NetworkX.
            raise NotImplementedError(f"gradopt cannot convert this graph: {error}") from error

    @staticmethod
    def convert_to_nx(obj, *, name=None):
        return to_networkx(obj)

    @staticmethod
    def can_run(name, args, kwargs):
        return True

    @staticmethod
    def should_run(name, args, kwargs):
        return True

    # NetworkX's spectral functions.
    algebraic_connectivity = staticmethod(spectral.algebraic_connectivity)
    fiedler_vector = staticmethod(spectral.fiedler_vector)
    spectral_ordering = staticmethod(spectral.spectral_ordering)
    laplacian_spectrum = staticmethod(spectral.laplacian_spectrum)
    normalized_laplacian_spectrum = staticmethod(spectral.normalized_laplacian_spectrum)
    effective_graph_resistance = staticmethod(spectral.effective_graph_resistance)
    kemeny_constant = staticmethod(spectral.kemeny_constant)
    # Matrices: no speed-up (SciPy out), but NetworkX's spectral tests build them in test mode.
    laplacian_matrix = staticmethod(spectral.laplacian_matrix)
    normalized_laplacian_matrix = staticmethod(spectral.normalized_laplacian_matrix)

    # Our new functions.
    graph_match = staticmethod(frontends._graph_match)
    graph_match_result = staticmethod(frontends._graph_match_result)
    max_cut_sdp = staticmethod(frontends._max_cut_sdp)
    max_cut_sdp_result = staticmethod(frontends._max_cut_sdp_result)
    optimize_edge_weights = staticmethod(frontends._optimize_edge_weights)
    optimize_algebraic_connectivity = staticmethod(frontends._optimize_algebraic_connectivity)
