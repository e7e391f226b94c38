"""Progress of long runs, on the package's logger ``logging.getLogger("nx_gradopt")``.

The library prints nothing itself. A long-running function makes a :class:`Progress` and
calls it every iteration; a line reaches the logger at INFO at most once per
``interval`` seconds, and the first and last lines always do. Formatting is skipped when
nobody listens at INFO (the default: Python's root logger is at WARNING).
"""

import logging
import time

logger = logging.getLogger("nx_gradopt")


class Progress:
    """Throttled INFO lines for one run: ``progress("gap %.2e", gap)`` per iteration.

    Parameters
    ----------
    task : str
        Prefixed to every line, e.g. ``"max_cut_sdp"``.
    interval : float
        Least seconds between two lines (``force=True`` overrides).
    """

    def __init__(self, task, interval=1.0):
        self.task = task
        self.interval = interval
        self.start = time.perf_counter()
        self._last = -float("inf")
        self.enabled = logger.isEnabledFor(logging.INFO)

    def __call__(self, message, *args, force=False):
        if not self.enabled:
            return
        now = time.perf_counter()
        if force or now - self._last >= self.interval:
            self._last = now
            logger.info("%s: %.1f s: " + message, self.task, now - self.start, *args)
