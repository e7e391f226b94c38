"""A sparse tensor form of a graph, the type the NetworkX dispatcher hands our backend."""

from dataclasses import dataclass, field

import torch


@dataclass(eq=False)
class TensorGraph:
    """A graph as coalesced COO index tensors plus edge-value tensors, stored on the CPU.

    Entries follow ``networkx.to_scipy_sparse_array``: an undirected edge is stored in both
    directions, a self-loop once on the diagonal, and parallel edges of a multigraph are summed.
    Rows are sorted (row-major), so ``row``/``col`` are also a CSR layout. Values are float64;
    device and dtype are chosen per call (NetworkX's conversion cache ignores them).

    Attributes
    ----------
    nodes : list
        Node labels; position ``i`` is node index ``i``.
    row, col : torch.Tensor
        int64 indices of the stored entries.
    edge_values : dict of str to torch.Tensor
        Values per edge attribute, aligned with ``row``/``col``.
    directed, multigraph : bool
        What kind of graph this came from.
    signed_attributes : frozenset
        Attributes with a negative value on some edge before parallel edges were summed.
    absolute_edge_values : dict of str to torch.Tensor
        For signed attributes of multigraphs, the sums of absolute values over parallel edges
        (what NetworkX's spectral functions use), aligned with ``row``/``col``.
    source : object or None
        The graph this was converted from, so that results can keep its attributes.
    """

    __networkx_backend__ = "gradopt"

    nodes: list
    row: torch.Tensor
    col: torch.Tensor
    edge_values: dict = field(default_factory=dict)
    directed: bool = False
    multigraph: bool = False
    signed_attributes: frozenset = frozenset()
    absolute_edge_values: dict = field(default_factory=dict)
    source: object = field(default=None, repr=False)

    def __post_init__(self):
        self._index = None

    def __len__(self):
        return len(self.nodes)

    def __repr__(self):
        kind = ("Multi" if self.multigraph else "") + ("DiGraph" if self.directed else "Graph")
        return f"TensorGraph({kind}, n={len(self.nodes)}, stored_entries={self.row.numel()})"

    def is_directed(self):
        return self.directed

    def is_multigraph(self):
        return self.multigraph

    @property
    def index(self):
        """``{node: position}``, built on first use."""
        if self._index is None:
            self._index = {node: i for i, node in enumerate(self.nodes)}
        return self._index

    def values(self, attribute, *, absolute=False, device=None, dtype=torch.float64):
        """Edge values of ``attribute`` (all ones when None), on ``device`` in ``dtype``.

        With ``absolute=True``: sums of absolute values over parallel edges.
        """
        if attribute is None:
            return torch.ones(self.row.numel(), device=device, dtype=dtype)
        if absolute:
            if attribute in self.absolute_edge_values:
                return self.absolute_edge_values[attribute].to(device=device, dtype=dtype)
            return self.values(attribute, device=device, dtype=dtype).abs()
        try:
            stored = self.edge_values[attribute]
        except KeyError:
            raise KeyError(
                f"edge attribute {attribute!r} was not converted; have {sorted(self.edge_values)}"
            ) from None
        return stored.to(device=device, dtype=dtype)

    def undirected_edges(self):
        """Indices (u, v) with u < v of the stored off-diagonal entries of an undirected graph."""
        upper = self.row < self.col
        return self.row[upper], self.col[upper]
