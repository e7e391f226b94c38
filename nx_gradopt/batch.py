"""Many independent problems in one call: here, on this machine's cores, or on a Dask cluster.

    import networkx as nx
    import nx_gradopt

    pairs = [(G, H) for H in copies]
    mappings = nx_gradopt.solve_many(nx.graph_match, pairs, seed=0)               # one by one
    mappings = nx_gradopt.solve_many(nx.graph_match, pairs, seed=0, n_jobs=-1)    # every core
    mappings = nx_gradopt.solve_many(nx.graph_match, pairs, seed=0, client=client)  # Dask
    mappings = nx_gradopt.solve_many(nx.graph_match, pairs, seed=0, batch_size=32)  # grouped

A problem is a tuple of positional arguments (a graph alone stands for ``(G,)``) or a
:class:`Problem`, which also carries keyword arguments. Results come back in the problems'
order; a problem that raises leaves a :class:`ProblemError` in its place and the others go on.
Each problem gets its own seed, drawn from ``seed`` by NumPy's ``SeedSequence`` from its
position alone, so a batch gives the same answers serially, on processes or on a cluster, in
any order of completion. :func:`solve_as_completed` yields ``(index, result)`` pairs as they
finish. Matching problems can be grouped (``batch_size``): one task relaxes many problems of
one size as a single Frank–Wolfe batch.

Workers (processes here, Dask workers there) run torch and BLAS with the cores of their host
shared among them, so two workers on two cores do not fight over four threads, and load the
compiled (Numba) searches once, not per problem. The calling process is never changed: serial
runs use its settings as they are. Dask is imported only when a ``client`` is given (the
``distributed`` extra).
"""

import collections
import collections.abc
import dataclasses
import inspect
import logging
import numbers
import os
import pickle
import sys
import time
import traceback
import uuid

import numpy as np

__all__ = ["Problem", "ProblemError", "solve_as_completed", "solve_many"]

logger = logging.getLogger("nx_gradopt")


class Problem:
    """One problem of a batch: the arguments of one call, ``Problem(G1, G2, method="faq")``."""

    __slots__ = ("args", "kwargs")

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs

    def __repr__(self):
        shown = [type(a).__name__ for a in self.args] + [f"{k}=..." for k in self.kwargs]
        return f"Problem({', '.join(shown)})"


@dataclasses.dataclass(frozen=True)
class ProblemError:
    """Stands in a batch's results for a problem that raised.

    Attributes
    ----------
    index : int
        The problem's position in the batch.
    exception : BaseException
        What it raised (a ``RuntimeError`` with the same text where the original could not
        travel back from a worker).
    traceback : str
        Where, as printed on the worker.
    """

    index: int
    exception: BaseException
    traceback: str = dataclasses.field(repr=False, default="")


def solve_many(function, problems, *, options=None, seed=None, n_jobs=1, client=None,
               threads_per_worker=None, batch_size=1, progress_bar="auto"):
    """Solve a batch of independent problems with ``function``; results in the problems' order.

    Parameters
    ----------
    function : callable
        Any function of the package, called as it would be one problem at a time:
        ``nx.graph_match``, ``nx.graph_match_result``, ``nx.max_cut_sdp_result``,
        ``nx.optimize_algebraic_connectivity``, ``nx.optimize_edge_weights``,
        ``nx_gradopt.quadratic_assignment``, ... It must be importable by name on the
        workers (a lambda is not).
    problems : iterable
        Tuples of positional arguments, :class:`Problem` objects with keyword arguments too,
        or any other object as the one positional argument (a graph ``G`` for ``(G,)``; a
        list too, since a list can be one argument).
    options : dict, optional
        Keyword arguments for every problem; a :class:`Problem`'s own keywords take
        precedence.
    seed : int or None
        The batch's seed. Each problem whose function takes ``seed`` and that does not set one
        (or sets None) gets ``SeedSequence(seed).spawn(n)[index]``'s first 63 bits, so the answers do not
        depend on where or in which order the problems run. None: fresh entropy.
    n_jobs : int
        Local processes when no ``client`` is given: 1 (default) runs in this process, -1 uses
        every core. The processes (joblib's loky pool) are kept from one batch to the next.
    client : dask.distributed.Client, optional
        Run on this Dask cluster (``LocalCluster``, dask-jobqueue's Slurm/PBS clusters,
        dask-cuda's GPU workers, ...). A worker that dies mid-batch has its problems rerun
        elsewhere by Dask.
    threads_per_worker : int, optional
        torch and BLAS threads per worker; by default the host's cores divided among the
        workers (and Dask worker threads) on that host.
    batch_size : int
        For the matching functions (``nx.graph_match``, ``nx.graph_match_result``,
        ``nx_gradopt.quadratic_assignment``): solve this many consecutive problems as one
        task, those of one size and the same settings relaxed as one Frank–Wolfe batch (one
        batched kernel call per operation instead of one per problem). Worth it on a GPU and
        for problems of a few dozen nodes on the CPU (alignments of 30 nodes: 3 to 7 times
        the rate of ``batch_size=1``, in ``benchmarks/bench_batch.py``). Each problem keeps
        its own iterations, stopping, seed and time limit, so the answers are those of
        ``batch_size=1`` up to the rounding of batched operations (see
        :mod:`nx_gradopt.matching.grouped`). Default 1.
    progress_bar : "auto", bool
        A tqdm bar on stderr ("auto": when stderr is a terminal and tqdm is installed). The
        count, rate and failures also go to the ``nx_gradopt`` logger at INFO.

    Returns
    -------
    list
        ``function``'s result for each problem, or a :class:`ProblemError` where it raised.

    Examples
    --------
    >>> import networkx as nx
    >>> cuts = solve_many(nx.max_cut_sdp, [nx.cycle_graph(4), nx.cycle_graph(5)], seed=0)
    >>> [value for value, _ in cuts]
    [4, 4]
    """
    problems = list(problems)
    results = [None] * len(problems)
    for index, result in solve_as_completed(
        function, problems, options=options, seed=seed, n_jobs=n_jobs, client=client,
        threads_per_worker=threads_per_worker, batch_size=batch_size,
        progress_bar=progress_bar,
    ):
        results[index] = result
    return results


def solve_as_completed(function, problems, *, options=None, seed=None, n_jobs=1, client=None,
                       threads_per_worker=None, batch_size=1, progress_bar="auto"):
    """:func:`solve_many`, yielding ``(index, result)`` as each problem finishes (the same
    arguments). Stopping the iteration early cancels what has not started."""
    if not callable(function):
        raise ValueError(f"`function` must be callable; got {function!r}")
    if options is not None and not isinstance(options, collections.abc.Mapping):
        raise ValueError(f"`options` must be a dict of keyword arguments; got {options!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                             or seed < 0):
        raise ValueError(f"`seed` must be None or a non-negative integer; got {seed!r}")
    workers = _workers(n_jobs)
    if client is not None and not hasattr(client, "scheduler_info"):
        raise ValueError(f"`client` must be a dask.distributed.Client; got {client!r}")
    if threads_per_worker is not None and (
        isinstance(threads_per_worker, bool) or not isinstance(threads_per_worker, int)
        or threads_per_worker < 1
    ):
        raise ValueError("`threads_per_worker` must be None or a positive integer; "
                         f"got {threads_per_worker!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive integer; got {batch_size!r}")
    if batch_size > 1 and _grouping(function) is None:
        raise ValueError(
            f"`batch_size` > 1 groups matching problems (nx.graph_match, "
            f"nx.graph_match_result, nx_gradopt.quadratic_assignment); got {function!r}"
        )
    calls = _calls(function, list(problems), dict(options or {}), seed)
    if not calls:
        return
    # A task is a chunk of problems: one alone, or batch_size grouped.
    chunks = [calls[start:start + batch_size] for start in range(0, len(calls), batch_size)]
    if client is not None:
        runs = _on_dask(client, function, chunks, threads_per_worker)
    elif workers == 1:
        runs = (pair for chunk in chunks for pair in _run_chunk(function, chunk))
    else:
        runs = _on_processes(function, chunks, workers, threads_per_worker)
    yield from _reported(runs, len(calls), _name(function), progress_bar)


def _name(function):
    return getattr(function, "__name__", repr(function))


def _calls(function, problems, options, seed):
    """(index, args, kwargs) per problem, each with its own seed where ``function`` takes one."""
    try:
        takes_seed = "seed" in inspect.signature(function).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        takes_seed = False
    seeds = np.random.SeedSequence(seed).spawn(len(problems))
    calls = []
    for index, problem in enumerate(problems):
        if not isinstance(problem, Problem):
            problem = Problem(*problem) if isinstance(problem, tuple) else Problem(problem)
        kwargs = {**options, **problem.kwargs}
        if takes_seed and kwargs.get("seed") is None:
            kwargs["seed"] = int(seeds[index].generate_state(1, np.uint64)[0] >> np.uint64(1))
        calls.append((index, problem.args, kwargs))
    return calls


def _run_chunk(function, chunk):
    """A task's problems, where it runs: ``[(index, result or ProblemError)]``."""
    if len(chunk) == 1:
        [(index, args, kwargs)] = chunk
        try:
            return [(index, function(*args, **kwargs))]
        except Exception as error:  # reported with the item; the batch goes on
            return [(index, _problem_error(index, error))]
    from .matching.grouped import run_grouped

    grouping = _grouping(function)
    prepared, results = [], {}
    for index, args, kwargs in chunk:
        try:
            prepared.append((index, *grouping(args, kwargs)))
        except Exception as error:
            results[index] = _problem_error(index, error)
    outcomes = run_grouped([steps for _, steps, _ in prepared])
    for (index, _, finish), outcome in zip(prepared, outcomes):
        if isinstance(outcome, Exception):
            results[index] = _problem_error(index, outcome)
        else:
            results[index] = finish(outcome)
    return [(index, results[index]) for index, _, _ in chunk]


def _grouping(function):
    """For a matching function, ``(args, kwargs) -> (steps, finish)`` (its solver's steps,
    and what turns their result into the function's); None for other functions."""
    from .matching.solver import quadratic_assignment, quadratic_assignment_steps

    if function is quadratic_assignment:
        return lambda args, kwargs: (quadratic_assignment_steps(*args, **kwargs), _unchanged)
    from ._install import new_functions
    from .nx.matching import networkx_steps

    for name in ("graph_match", "graph_match_result"):
        if function is new_functions()[name]:
            return lambda args, kwargs, name=name: networkx_steps(name, args, kwargs)
    return None


def _unchanged(result):
    return result


def _problem_error(index, error):
    """A ProblemError that can travel back from a worker."""
    text = "".join(traceback.format_exception(error))
    try:
        pickle.dumps(error)
    except Exception:  # an exception that cannot cross a process boundary
        error = RuntimeError(f"{type(error).__name__}: {error}")
    return ProblemError(index, error, text)


# ----------------------------------------------------------------------------- the workers


def _workers(n_jobs):
    if n_jobs == -1:
        return _cores()
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise ValueError(f"`n_jobs` must be a positive integer or -1; got {n_jobs!r}")
    return n_jobs


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def prepare_worker(threads):
    """Set up a worker process (never the caller's): ``threads`` torch and BLAS threads,
    and the compiled searches loaded once rather than by its first task of each kind."""
    import threadpoolctl
    import torch

    torch.set_num_threads(threads)
    threadpoolctl.threadpool_limits(threads)
    from .matching.local_search import load_compiled as load_matching
    from .maxcut.local_search import load_compiled as load_maxcut

    load_maxcut()
    load_matching()


def _on_processes(function, chunks, workers, threads):
    import joblib

    threads = threads or max(1, _cores() // workers)
    # loky (joblib's process pool) keeps its workers from one batch to the next, so their
    # start (3 s measured for two) and the loading of the compiled code are paid once a
    # session, and starts them with ``threads`` OpenMP/BLAS threads, which torch follows.
    with joblib.parallel_config(backend="loky", inner_max_num_threads=threads):
        for pairs in joblib.Parallel(n_jobs=workers, return_as="generator_unordered")(
            joblib.delayed(_run_chunk)(function, chunk) for chunk in chunks
        ):
            yield from pairs


def _dask_worker_setup(slots_per_host, threads):
    """A Dask worker plugin: each worker's threads from the cores of its host shared among the
    task slots there (Dask alone starts every worker at one thread), then
    :func:`prepare_worker`. It runs on workers that join later too."""
    from distributed import WorkerPlugin

    class WorkerSetup(WorkerPlugin):
        name = "nx-gradopt-worker-setup"

        def setup(self, worker):
            host = worker.address.rsplit(":", 1)[0]
            slots = slots_per_host.get(host, worker.state.nthreads)
            worker.nx_gradopt_threads = threads or max(1, _cores() // max(1, slots))
            prepare_worker(worker.nx_gradopt_threads)

    return WorkerSetup()


def _run_on_dask(function, chunk):
    """_run_chunk in a Dask worker's task thread: OpenMP's thread count is per calling
    thread, so the worker plugin's setting is applied here too."""
    import torch
    from distributed import get_worker

    threads = getattr(get_worker(), "nx_gradopt_threads", None)
    if threads and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return _run_chunk(function, chunk)


def _on_dask(client, function, chunks, threads):
    from distributed import as_completed

    workers = client.scheduler_info()["workers"]
    slots = {}
    for address, info in workers.items():
        host = address.rsplit(":", 1)[0]
        slots[host] = slots.get(host, 0) + info.get("nthreads", 1)
    client.register_plugin(_dask_worker_setup(slots, threads))
    # A graph in several problems (one against many) travels to the cluster once.
    graphs, uses = {}, collections.Counter()
    for _, args, kwargs in (call for chunk in chunks for call in chunk):
        for value in [*args, *kwargs.values()]:
            if hasattr(value, "adj"):  # a NetworkX graph
                graphs[id(value)] = value
                uses[id(value)] += 1
    shared = {key: graphs[key] for key, count in uses.items() if count > 1}
    if shared:
        scattered = dict(zip(shared, client.scatter(list(shared.values()), hash=False)))

        def swap(value):
            return scattered.get(id(value), value)

        chunks = [[(i, tuple(map(swap, args)), {k: swap(v) for k, v in kwargs.items()})
                   for i, args, kwargs in chunk] for chunk in chunks]
    batch = uuid.uuid4().hex[:8]
    futures = {}
    for chunk in chunks:
        first = chunk[0][0]
        future = client.submit(_run_on_dask, function, chunk, pure=False,
                               key=f"nx-gradopt-{_name(function)}-{batch}-{first}")
        futures[future.key] = (future, [index for index, _, _ in chunk])
    try:
        for future in as_completed([future for future, _ in futures.values()]):
            indices = futures[future.key][1]
            try:
                yield from future.result()
            except Exception as error:  # e.g. KilledWorker: the task killed every worker
                text = traceback.format_exc()
                for index in indices:
                    yield index, ProblemError(index, error, text)
    finally:
        client.cancel([future for future, _ in futures.values() if not future.done()])


# ---------------------------------------------------------------------------- progress


def _reported(runs, total, name, progress_bar):
    """Pass the results through, counting them on the logger (at most once a second) and on a
    tqdm bar at a terminal."""
    bar = None
    if progress_bar is True or (progress_bar == "auto" and sys.stderr.isatty()):
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            bar = tqdm(total=total, desc=name, unit="problem")
    start = last = time.perf_counter()
    done = failed = 0
    try:
        for index, result in runs:
            done += 1
            failed += isinstance(result, ProblemError)
            if bar is not None:
                bar.update()
                bar.set_postfix(failed=failed)
            now = time.perf_counter()
            if now - last >= 1.0 or done == total:
                last = now
                logger.info("solve_many(%s): %d of %d done, %d failed, %.2f problems/s", name,
                            done, total, failed, done / max(now - start, 1e-9))
            yield index, result
    finally:
        if bar is not None:
            bar.close()
    if failed:
        logger.warning("solve_many(%s): %d of %d problems raised; their places in the results "
                       "hold ProblemError objects", name, failed, total)
