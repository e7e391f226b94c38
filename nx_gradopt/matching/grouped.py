"""Several matching problems of one size relaxed as one Frank–Wolfe batch.

A solver's steps (:func:`~nx_gradopt.matching.solver.quadratic_assignment_steps`) yield their
Frank–Wolfe run as a :class:`RelaxationRequest` and take its output back. :func:`run_alone`
runs the request as it is; :func:`run_grouped` runs the requests of many problems, those with
the same size and settings stacked into one batch of starts. Each iteration's linear
assignments, Sinkhorn plans, step lengths and stopping tests then cost one set of tensor
operations for the group instead of one per problem: on a GPU the launches and host reads
of a small problem are paid once a group, and on the CPU the per-operation overhead that
dominates problems of a few dozen nodes.

Each problem's products are computed by its own operators on its own starts, its Sinkhorn
plans stop as they would alone, and its starts leave the batch at its own deadline: it runs
the iterations it runs alone, up to the rounding of the batched operations (torch rounds a
batched matrix-vector product unlike a single one), which changed no answer among 200
correlated pairs (``benchmarks/bench_batch.py``'s) and the tests' mixed problems.
"""

import collections
import dataclasses
import math

import numpy as np
import torch

from .faq_host import faq_on_host
from .frank_wolfe import frank_wolfe


@dataclasses.dataclass
class RelaxationRequest:
    """A Frank–Wolfe run from ``starts`` (k, m, m) on ``problem``, as :func:`frank_wolfe`
    takes it (``deadline``: a ``time.perf_counter()`` value, or an array of one per start
    in a stacked run)."""

    problem: object
    starts: torch.Tensor
    sign: float
    method: str
    max_iter: int
    tol: float
    deadline: float = math.inf

    @property
    def on_host(self):
        """Relaxed by :func:`~.faq_host.faq_on_host` (NumPy starts), alone."""
        return isinstance(self.starts, np.ndarray)

    def group_key(self):
        """Requests with equal keys can share a batch; one relaxed on the host runs alone."""
        if self.on_host:
            return (id(self),)
        return (self.starts.shape[1], self.starts.device, self.starts.dtype, self.sign,
                self.method, self.max_iter, self.tol)


def run_alone(steps):
    """Drive one solver's steps: run its relaxation, if any, and return its result."""
    try:
        request = next(steps)
        while True:
            request = steps.send(_relax(request))
    except StopIteration as stop:
        return stop.value


def run_grouped(all_steps):
    """Drive several solvers' steps, their relaxations grouped; a list of results in their
    order, with the exception instead where one raised (its traceback attached)."""
    outcomes = [None] * len(all_steps)
    pending = {}

    def advance(index, value=None):
        try:
            request = all_steps[index].send(value)
        except StopIteration as stop:
            outcomes[index] = stop.value
        except Exception as error:  # reported with its problem; the others go on
            outcomes[index] = error
        else:
            pending[index] = request

    for index in range(len(all_steps)):
        advance(index)
    while pending:
        groups = collections.defaultdict(list)
        for index, request in pending.items():
            groups[request.group_key()].append(index)
        current, pending = pending, {}
        for members in groups.values():
            try:
                outputs = _relax_together([current[index] for index in members])
            except Exception as error:
                for index in members:
                    outcomes[index] = error
                continue
            for index, output in zip(members, outputs):
                advance(index, output)
    return outcomes


def _relax(request):
    if request.on_host:
        return faq_on_host(
            request.problem, request.starts, sign=request.sign, max_iter=request.max_iter,
            tol=request.tol, deadline=request.deadline,
        )
    return frank_wolfe(
        request.problem, request.starts, sign=request.sign, method=request.method,
        max_iter=request.max_iter, tol=request.tol, deadline=request.deadline,
    )


def _relax_together(requests):
    """The outputs of :func:`frank_wolfe` for each request, from one stacked run."""
    if len(requests) == 1:
        return [_relax(requests[0])]
    counts = [len(request.starts) for request in requests]
    stacked = dataclasses.replace(
        requests[0],
        problem=StackedProblem([request.problem for request in requests], counts),
        starts=torch.cat([request.starts for request in requests]),
        deadline=np.repeat([request.deadline for request in requests], counts),
    )
    P, iterations, converged, best_vertex, stopped = _relax(stacked)
    bounds = np.cumsum([0] + counts)
    outputs = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        # A start that left unconverged before max_iter left at its problem's deadline.
        timed_out = (~converged[lo:hi] & (iterations[lo:hi] < stacked.max_iter)).any()
        own = stopped if stopped == "interrupted" else ("time limit" if timed_out else None)
        outputs.append((P[lo:hi], iterations[lo:hi], converged[lo:hi], best_vertex[lo:hi], own))
    return outputs


class StackedProblem:
    """Reduced problems of one size side by side: problem i owns ``counts[i]`` consecutive
    rows of a Frank–Wolfe batch, and its products are computed by its own operators (sparse
    or dense, as it has them alone) on those rows."""

    def __init__(self, problems, counts, linear=None):
        self.problems, self.counts = list(problems), list(counts)
        self.symmetric = all(problem.symmetric for problem in self.problems)
        if linear is None and any(problem.linear is not None for problem in self.problems):
            # Zeros for a problem without one: adding 0 leaves its iterates exactly as alone.
            reference = next(p.linear for p in self.problems if p.linear is not None)
            linear = torch.cat([
                (reference.new_zeros(reference.shape) if p.linear is None else p.linear)
                .expand(count, -1, -1)
                for p, count in zip(self.problems, self.counts)
            ])
        self.linear = linear

    def apply(self, x):
        return self._each("apply", x)

    def apply_transposed(self, x):
        return self._each("apply_transposed", x)

    def _each(self, name, x):
        return torch.cat([
            getattr(problem, name)(rows)
            for problem, rows in zip(self.problems, x.split(self.counts))
        ])

    def restricted(self, keep):
        """The problem on the rows where the NumPy mask ``keep`` is True."""
        kept = [int(part.sum()) for part in np.split(keep, np.cumsum(self.counts)[:-1])]
        problems = [p for p, count in zip(self.problems, kept) if count]
        linear = None
        if self.linear is not None:
            rows = torch.from_numpy(np.flatnonzero(keep)).to(self.linear.device)
            linear = self.linear[rows]  # by index: a boolean mask would wait for the device
        return StackedProblem(problems, [count for count in kept if count], linear)
