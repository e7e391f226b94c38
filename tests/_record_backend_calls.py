"""A pytest plugin for NetworkX's own suite run through the backend: it records which of
gradopt's implementations NetworkX called, so that a function the suite never reaches (every
call declined by ``can_run``/``should_run``, or no test of it selected) does not pass unseen.

Loaded with ``-p _record_backend_calls``; writes the names, one per line, to the file named
by ``NX_GRADOPT_CALLS_FILE`` when the session ends.
"""

import os

CALLED = set()


def _recording(name, implementation):
    def record_and_call(*args, **kwargs):
        CALLED.add(name)
        return implementation(*args, **kwargs)

    return staticmethod(record_and_call)


def pytest_configure(config):
    from nx_gradopt import interface

    for name in interface.registrations():
        implementation = getattr(interface.BackendInterface, name)
        setattr(interface.BackendInterface, name, _recording(name, implementation))


def pytest_sessionfinish(session):
    with open(os.environ["NX_GRADOPT_CALLS_FILE"], "w") as file:
        file.write("".join(f"{name}\n" for name in sorted(CALLED)))
