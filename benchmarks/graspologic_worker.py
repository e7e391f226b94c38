"""graspologic's ``graph_match`` for ``bench_matching.py --graspologic-python PYTHON``.

graspologic pins NumPy below 2, so it lives in its own environment and this script runs under
that environment's Python. It reads one JSON request per line on stdin, ``{"a": path.npy,
"b": path.npy, "options": {...graph_match keyword arguments...}}``, and answers each with one
JSON line: the matched indices, the seconds ``graph_match`` took (the interpreter's start and
imports excluded) and its iteration count.

Set up once, for example::

    python -m venv ~/graspologic-env && ~/graspologic-env/bin/pip install graspologic
"""

import json
import sys
import time

import numpy as np
from graspologic.match import graph_match


def main():
    for line in sys.stdin:
        request = json.loads(line)
        A, B = np.load(request["a"]), np.load(request["b"])
        options = dict(request["options"])
        if options.get("partial_match") is not None:
            options["partial_match"] = np.asarray(options["partial_match"])
        started = time.perf_counter()
        result = graph_match(A, B, **options)
        seconds = time.perf_counter() - started
        reply = {
            "indices_A": result.indices_A.tolist(),
            "indices_B": result.indices_B.tolist(),
            "time": seconds,
            "n_iter": int(result.misc[0]["n_iter"]),
        }
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
