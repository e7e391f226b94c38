"""Max-cut kernel: Burer–Monteiro SDP, certified bound, rounding and breakout local search."""

from .solver import MaxCutResult, default_rank, solve_max_cut

__all__ = ["MaxCutResult", "default_rank", "solve_max_cut"]
