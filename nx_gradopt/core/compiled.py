"""Numba compilation for the sequential loops, with an on-disk cache that degrades gracefully.

Compiling the max-cut and 2-opt searches takes 5-15 s (5.5 s from an empty cache on this
project's 2-core machine, 13 s on another); Numba caches the machine code on disk beside the
source, or under the user's cache folder. A read-only install with no writable home has
neither, and ``njit(cache=True)`` then raises at import ("cannot cache function ... no locator
available"): here the function is compiled without the cache instead, every process paying
the compilation, and the logger says so once.
"""

import time

import numba

from .progress import logger

_told_no_cache = []  # the no-cache note, once per process
_loaded = set()  # dispatchers warmed up: reading ``signatures`` costs 40 us a call


def compiled(function=None, **options):
    """``numba.njit(cache=True, nogil=True, **options)``, or without the cache where none can
    be written. As ``@compiled`` or ``@compiled(fastmath=...)``."""
    if function is None:
        return lambda function: compiled(function, **options)
    try:
        return numba.njit(cache=True, nogil=True, **options)(function)
    except RuntimeError as error:
        if "cannot cache" not in str(error):
            raise
        if not _told_no_cache:
            _told_no_cache.append(True)
            logger.info("Numba finds no writable cache location (set NUMBA_CACHE_DIR to one): "
                        "the compiled searches are compiled again in every process.")
        return numba.njit(nogil=True, **options)(function)


def load_once(dispatcher, what, warm_up):
    """Run ``warm_up`` (tiny calls that load or compile the functions of a search) unless
    ``dispatcher`` is loaded already, saying so at INFO with the time it took: a first call
    can sit silent for seconds otherwise. Later calls return at once."""
    if dispatcher in _loaded:
        return
    if dispatcher.signatures:
        _loaded.add(dispatcher)
        return
    logger.info("%s: loading the compiled code (the first run after installing compiles it: "
                "5-15 s)", what)
    start = time.perf_counter()
    warm_up()
    _loaded.add(dispatcher)
    logger.info("%s: compiled code ready in %.1f s", what, time.perf_counter() - start)
