"""Graph matching kernel: FAQ and GOAT Frank–Wolfe on the quadratic assignment problem."""

from .frank_wolfe import METHODS
from .problem import PADDINGS
from .solver import QAPResult, quadratic_assignment

__all__ = ["METHODS", "PADDINGS", "QAPResult", "quadratic_assignment"]
