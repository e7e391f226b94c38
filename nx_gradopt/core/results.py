"""Result objects and warnings shared by the kernels."""

import warnings
from dataclasses import dataclass, field

import torch


class ConvergenceWarning(UserWarning):
    """An iterative method stopped before meeting its tolerance; the best answer is returned."""


# The package's one rule for Ctrl-C: a kernel catches KeyboardInterrupt once it holds a
# feasible answer, stops within about a second and returns its best answer with this reason;
# the NetworkX function returns it with a ConvergenceWarning. Interrupted before any feasible
# answer exists, the KeyboardInterrupt propagates.
INTERRUPTED = "interrupted (KeyboardInterrupt)"


def warn_if_interrupted(function, result, answer, stacklevel=4):
    """The Ctrl-C rule at a public function: when its kernel stopped on a KeyboardInterrupt,
    say so with a ConvergenceWarning and return True (the caller returns ``answer``, the
    best found so far)."""
    if result.reason != INTERRUPTED:
        return False
    warnings.warn(
        f"{function} was interrupted (KeyboardInterrupt): {answer} found so far is returned.",
        ConvergenceWarning,
        stacklevel=stacklevel,
    )
    return True


@dataclass(frozen=True)
class OptimizationResult:
    """What a kernel found.

    Attributes
    ----------
    x : torch.Tensor or numpy.ndarray
        The best feasible point found.
    fun : float
        The objective at ``x``.
    nit : int
        Iterations run.
    converged : bool
        Whether the stopping tolerance was met.
    reason : str
        Why the method stopped, in words.
    upper_bound : float or None
        A certified upper bound on the optimum of a maximisation, when the method has one.
    time : float
        Wall-clock seconds.
    vectors : torch.Tensor or None
        Where the method computed them at ``x``, eigenvectors that start a check of ``fun``
        (λ₂'s first-order method: the few smallest of the Laplacian, orthogonal to the
        constant vector, one row per node).
    """

    x: torch.Tensor
    fun: float
    nit: int
    converged: bool
    reason: str
    upper_bound: float | None = None
    time: float = 0.0
    history: tuple = field(default=(), repr=False)
    vectors: torch.Tensor | None = field(default=None, repr=False)

    def __getitem__(self, key):
        """``result["fun"]`` as well as ``result.fun``, as SciPy's ``OptimizeResult`` allows."""
        if not isinstance(key, str) or key.startswith("_") or not hasattr(self, key):
            raise KeyError(key)
        return getattr(self, key)

    @property
    def gap(self):
        """Certified relative gap ``(upper_bound - fun) / upper_bound`` (None without a bound)."""
        if self.upper_bound is None:
            return None
        if self.upper_bound == 0:
            return 0.0
        return max(0.0, (self.upper_bound - self.fun) / abs(self.upper_bound))
