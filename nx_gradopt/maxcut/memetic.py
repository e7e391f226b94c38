"""Memetic search for max-cut: breakout local search runs from (annealed) roundings and
crossovers.

One long breakout search (:mod:`.local_search`) cycles in one basin on the ±1-weighted Gset
graphs: on G18 it stayed within a Hamming distance of 23–61 of its best cut for millions of
moves, and stronger perturbations fell back into the same basin. Short runs from different
starts reach different basins (on G18, runs from 30 roundings ended anywhere from 960 to
992), and a crossover of two good cuts starts a run in a region both agree on. So the search
here makes short runs, alternately from the SDP's hyperplane roundings and from crossovers
of an elite population, in the manner of the memetic max-cut solvers (Wu & Hao, "A memetic
approach for the max-cut problem", PPSN 2012).

Measured single-threaded on G18–G21, seeds 0–3, runs of 200 n moves, stopped after 32 runs
without a better cut: runs from roundings and crossovers by turns reached 0.995 of the best
known on all 16; from crossovers only (after the first 8 runs) on 14. Runs from roundings
only, stopped after 16 runs without a better cut, did so on 6 of 9 (G18, G19, G21, seeds
0–2), and runs from the best cut with 10% or 25% of its nodes flipped on 0 and 1 of 9. Crossing
over regions (a breadth-first ball from one parent, the rest from the other) instead of
single nodes made no difference on G13 and G18–G20. See ``docs/maxcut.rst`` for the
default call on G1–G21.

Tried and not kept (2026-12-03): the optimal crossover of two cuts on sparse graphs. The
nodes on which the parents disagree fall into connected clusters, and each cluster can take
either parent's sides on its own (only its boundary edges change), so the child that takes
the better side on every cluster cuts at least as much as both parents. On the 800-node ±1
graphs one cluster holds nearly all the disagreeing nodes (G18: 177 of 179), so the child is
the better parent. With ``time_limit=30``, runs of 30 n moves and only crossovers after the
first 16 runs, seeds 0–2, the tori G62, G65, G66 and G72 gained 0.0003–0.0028 of the best
known in all twelve calls, but G81 lost up to 0.0020 (down to 0.9893), G57 moved by −0.0029
to +0.0017, and G56, G61 and G70 (random graphs, seed 0) lost 0.0010–0.0017.

With a time limit, unless the cycle relaxation gave the first start (see the solver), a run
first anneals its start (simulated annealing, :func:`.local_search.anneal`): from hot for a
rounding, from lukewarm for a crossover. On the large Gset graphs that the cycle relaxation
does not cover, annealing finds better basins than breakout runs do: one anneal of 30000
sweeps from a random cut (one thread, 2.5-3.6 s) cut 6039-6053 on G59 (5000 nodes, ±1
weights) and 8675-8688 on G64 with temperatures from 1.5 to 0.2 (three anneals each), and
6036-6061 on G59 from 2.5 to 0.1 (four), where the memetic search without it gave 6017 and
8645 in 30 s, and a single breakout chain from a random cut 5953-5959 in 25 s; breakout runs
after an anneal added 0-3 edges in 3 s (2026-12-04). With annealed roundings and crossovers
left to breakout runs, ``time_limit=30`` gave 6055-6068 on G59 and 8706-8720 on G64 (seeds
0-3, some twice); with crossovers annealed from 0.8, 6070-6075 and 8722-8728 (seeds 0-3).
The annealing lasts 20 n sweeps (at most 100000) or its share of the time left, whichever
ends first. Without a time limit the search does not anneal: its stagnation rule counts
runs, and 20 n sweeps cost about 0.25 s a run at 800 nodes, where a breakout run of 100 n
moves costs about 0.05 s.

The runs of one round go to parallel threads (the compiled loops release the GIL) and their
cuts enter the population in order after the round, so a seed repeats whatever the threads'
timing.
"""

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .local_search import BreakoutSearch, anneal, cut_value, gains

# Cuts kept for crossovers; the first POPULATION runs start from roundings.
POPULATION = 8
# Breakout search runs in slices between clock checks (time limit, stop, Ctrl-C) of about this
# many node visits: a directed perturbation move scans all n gains, so a slice of a fixed move
# count took 0.4 s at 20 000 nodes.
SLICE_WORK = 10_000_000
SLICE_MIN_MOVES = 200
# Runs a round gives each chain (thread): a round waits for its longest run, and more runs
# to a round leave a thread idle for less of it. On G18 (seed 0, 2 threads) the moves a
# second were 1.4-1.5x those of one thread with one run per chain, 1.8x with four (2.1x for
# two independent searches).
RUNS_PER_CHAIN = 4
# With ``annealing``, a run first anneals its start (simulated annealing), with temperatures
# falling geometrically to ANNEAL_COLD (in units of the mean absolute edge weight) from
# ANNEAL_HOT for a rounding, or from ANNEAL_CROSSOVER_HOT for a crossover, whose agreed
# nodes a hot start would scatter, over ANNEAL_SWEEPS_PER_NODE n sweeps or, if sooner, over
# its share of the time left: a round's annealings take ANNEAL_TIME_SHARE of it together.
# See the module's docstring for what this gained on the large Gset graphs; the crossover's
# temperature was chosen on G59 and G64 (time_limit=30, seeds 0-1): 0.5 and 1.2 gave
# 6 060-6 066 and 8 703-8 736, 0.8 gave 6 070-6 075 and 8 722-8 728 (seeds 0-3).
ANNEAL_HOT = 2.5
ANNEAL_CROSSOVER_HOT = 0.8
ANNEAL_COLD = 0.1
ANNEAL_SWEEPS_PER_NODE = 20
# ... but at most this many sweeps: with no time to bound it, 20 n sweeps of a graph of 10⁶
# nodes would take days.
ANNEAL_MAX_SWEEPS = 100_000
ANNEAL_TIME_SHARE = 0.8


class Elite:
    """The best distinct cuts found, at most ``size``; a new cut replaces the worst one when
    it is at least as good (so a population stuck on equal cuts still changes)."""

    def __init__(self, size):
        self.size = size
        self.cuts = []
        self.members = []

    def __len__(self):
        return len(self.members)

    def offer(self, cut, x):
        x = x * x[0]  # x and -x are the same cut
        if any(np.array_equal(x, member) for member in self.members):
            return
        if len(self.members) < self.size:
            self.cuts.append(cut)
            self.members.append(x)
            return
        worst = int(np.argmin(self.cuts))
        if cut >= self.cuts[worst]:
            self.cuts[worst], self.members[worst] = cut, x

    def crossover(self, rng):
        """Two members at random: nodes on which they agree keep their side, the others are
        drawn uniformly."""
        i, j = rng.choice(len(self.members), 2, replace=False)
        a, b = self.members[i], self.members[j]
        if a @ b < 0:  # align the signs: -b is the same cut as b
            b = -b
        child = a.copy()
        differ = a != b
        child[differ] = rng.choice((-1.0, 1.0), int(differ.sum()))
        return child


class Stagnation:
    """When a search stops: after ``stall_runs`` runs without a better cut, or, with
    ``min_gain``, once a doubling of its runs (the first from ``gain_from`` runs, by default
    ``stall_runs``) gained less than that share of the cut."""

    def __init__(self, stall_runs, min_gain=0.0, gain_from=None):
        self.stall_runs, self.min_gain = stall_runs, min_gain
        self.best, self.improved_at = -math.inf, 0
        self.milestone = stall_runs if gain_from is None else gain_from
        self.best_at_milestone = -math.inf

    def stalled(self, cut, runs):
        """Whether to stop, told the best cut after ``runs`` runs."""
        if cut > self.best:
            self.best, self.improved_at = cut, runs
        if runs - self.improved_at >= self.stall_runs:
            return True
        if runs >= self.milestone:
            if self.best - self.best_at_milestone < self.min_gain * abs(self.best):
                return True
            self.milestone, self.best_at_milestone = 2 * runs, self.best
        return False


def memetic_search(
    csr, roundings, chains, budget, deadline, eps, rng, *, optimum, run_stall, stall_grows,
    stagnation, progress, annealing=False, temperature_unit=1.0,
):
    """Breakout search runs on ``chains`` parallel threads until ``stagnation`` (a
    :class:`Stagnation`) says so, the runs have made ``budget`` moves together, ``deadline``
    passes, or a cut reaches ``optimum`` (proven maximum by the certified bound).

    A run starts from the next of ``roundings`` (spins, one per row, best first) or, every
    other run once the population is full, from a crossover of two elite cuts, and ends after
    ``run_stall`` moves without a better cut (with ``stall_grows``, at least as many as it
    took to find its best cut). With ``annealing``, a run first anneals its start (see
    ANNEAL_HOT; temperatures in units of ``temperature_unit``), its flips counting as
    moves. Runs go in rounds of RUNS_PER_CHAIN per chain, and enter the population in order
    after their round. Ctrl-C stops every run at the end of its slice and is not re-raised.
    Returns (best cut, its spins or None when no run was made, moves, interrupted).
    """
    n = roundings.shape[1]
    elite = Elite(POPULATION)
    stop = threading.Event()
    state = {"best": -math.inf}  # for the progress line only
    # At most a quarter of the stall between checks, so a run overshoots its rule by little.
    slice_moves = max(SLICE_MIN_MOVES, min(SLICE_WORK // max(n, 1), run_stall // 4))
    best_cut, best_x, moves, runs, fresh = -math.inf, None, 0, 0, 0

    sweeps = min(ANNEAL_SWEEPS_PER_NODE * n, ANNEAL_MAX_SWEEPS)
    # A sweep visits every node and, at most, each of its neighbours once.
    sweeps_per_slice = max(1, SLICE_WORK // (n + len(csr[1])))

    def anneal_start(x, seed, allowed, seconds, hot):
        """Anneal the spins ``x`` in place from the temperature ``hot`` (a multiple of the
        unit), in slices of one temperature each; returns the flips made."""
        # The same xorshift state the run's breakout search starts from (seed + 1); the
        # two use their draws for unrelated choices.
        g, random_state = gains(*csr, x), np.array([0, 0, 0, seed + 1], dtype=np.int64)
        begin, done, flips, cut = time.perf_counter(), 0, 0, cut_value(*csr, x)
        while not stop.is_set() and flips < allowed and cut < optimum:
            now = time.perf_counter()
            share = max(done / sweeps, (now - begin) / seconds)
            if share >= 1 or now >= deadline:
                break
            count = min(sweeps_per_slice, sweeps - done)
            temperature = temperature_unit * hot * (ANNEAL_COLD / hot) ** share
            max_flips = math.ceil(min(allowed - flips, 2**62))  # allowed may be inf
            made, change = anneal(*csr, x, g, temperature, count, max_flips, random_state)
            flips, cut, done = flips + made, cut + change, done + count
        return flips

    def run(start, seed, allowed, anneal_seconds, hot):
        x, flips = np.array(start, dtype=np.float64), 0
        if annealing:
            flips = anneal_start(x, seed, allowed, anneal_seconds, hot)
        search = BreakoutSearch(*csr, x, seed=seed, eps=eps, moves=flips)
        best, improved_at = search.best_cut, flips
        while not stop.is_set() and search.moves < allowed and time.perf_counter() < deadline:
            if best >= optimum:
                stop.set()
                break
            found_in = improved_at - flips  # the breakout moves it took to find its best
            if search.moves - improved_at >= max(run_stall, found_in if stall_grows else 0):
                break
            search.run(math.ceil(min(slice_moves, allowed - search.moves)))
            if search.best_cut > best:
                best, improved_at = search.best_cut, search.moves
            state["best"] = max(state["best"], best)
            progress("local search: best cut %.10g (bound %.10g), %d runs started",
                     state["best"], optimum, runs)
        return search

    def account(search):
        nonlocal best_cut, best_x, moves
        moves += search.moves
        if search.best_cut > best_cut:
            best_cut, best_x = search.best_cut, search.best_x.copy()

    interrupted = False
    pending = []  # the round's runs not yet accounted for, in order
    pool = ThreadPoolExecutor(chains)
    try:
        while not stop.is_set() and moves < budget and time.perf_counter() < deadline:
            jobs = []
            for _ in range(RUNS_PER_CHAIN * chains):
                if runs < POPULATION or runs % 2 == 0 or len(elite) < 2:
                    start, hot = roundings[fresh % len(roundings)], ANNEAL_HOT
                    fresh += 1
                else:
                    start, hot = elite.crossover(rng), ANNEAL_CROSSOVER_HOT
                jobs.append((start, int(rng.integers(2**62)), hot))
                runs += 1
            # The budget left, shared evenly, so that a seed repeats whatever the timing.
            allowed = (budget - moves) / len(jobs)
            anneal_seconds = ANNEAL_TIME_SHARE * (deadline - time.perf_counter()) \
                / RUNS_PER_CHAIN
            pending = [pool.submit(run, start, seed, allowed, anneal_seconds, hot)
                       for start, seed, hot in jobs]
            while pending:  # in order, whatever the threads' timing
                search = pending[0].result()
                pending.pop(0)
                account(search)
                elite.offer(search.best_cut, search.best_x)
            if best_cut >= optimum or stagnation.stalled(best_cut, runs):
                break
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
    finally:
        # Runs not started are dropped; each started one finishes its slice (a fraction of a
        # second).
        pool.shutdown(wait=True, cancel_futures=True)
    for future in pending:  # the round Ctrl-C cut short
        if not future.cancelled() and future.exception() is None:
            account(future.result())
    return best_cut, best_x, moves, interrupted
