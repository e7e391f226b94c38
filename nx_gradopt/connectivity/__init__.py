"""Edge-weight optimisation over a budget (kernels: tensors in, results out)."""

from .certificate import certified_upper_bound
from .engine import optimize_edge_weights
from .lambda2 import maximize_algebraic_connectivity
from .objectives import algebraic_connectivity, total_effective_resistance
from .problem import EdgeBudget

__all__ = [
    "EdgeBudget",
    "algebraic_connectivity",
    "certified_upper_bound",
    "maximize_algebraic_connectivity",
    "optimize_edge_weights",
    "total_effective_resistance",
]
