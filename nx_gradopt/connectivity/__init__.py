"""Edge-weight optimisation of spectral objectives (kernels: tensors in, results out)."""

from .lambda2 import certified_upper_bound, maximize_algebraic_connectivity

__all__ = ["certified_upper_bound", "maximize_algebraic_connectivity"]
