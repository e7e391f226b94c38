"""Helpers shared by the NetworkX-facing modules: argument checks that name the argument and
the value, and the docstring sections two functions of a family share."""

import math
import numbers


def check_positive(name, value, *, integer=False, allow_zero=False, allow_none=False):
    """A positive (or non-negative) finite number, or integer; None when allowed."""
    if value is None and allow_none:
        return
    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        what = "integer" if integer else "finite number"
        sign = "non-negative" if allow_zero else "positive"
        raise ValueError(f"`{name}` must be a {sign} {what}; got {value!r}")


def check_bool(name, value):
    """True or False (NumPy's booleans too); never a truthy stand-in such as "yes"."""
    import numpy as np

    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be True or False; got {value!r}")
    return bool(value)


def check_weights(G, weight, *, name=None):
    """The edge values of ``weight``, finite, with a total magnitude that float64 can hold.
    ``name`` says which graph, where a function takes two."""
    import numpy as np

    where = "" if name is None else f" of {name}"
    values = G.values(weight)
    # Checked in NumPy on the CPU tensor's memory: seven torch calls cost 15 µs a graph.
    array = values.numpy()
    if not np.isfinite(array).all():
        k = int(np.flatnonzero(~np.isfinite(array))[0])
        edge = (G.nodes[int(G.row[k])], G.nodes[int(G.col[k])])
        raise ValueError(
            f"`weight` {weight!r} of edge {edge!r}{where} must be finite; got {float(array[k])}"
        )
    with np.errstate(over="ignore"):  # an overflow is the finding, reported below
        total = float(np.abs(array).sum())
    if not math.isfinite(total):
        raise ValueError(
            f"`weight` {weight!r}{where}: the weights are too large, their total overflows "
            "float64; divide them by a common factor"
        )
    return values


def docstring_sections(**sections):
    """Replace each line ``    NAME`` of the decorated function's docstring by ``sections[NAME]``
    (a block of lines that starts with a newline, indented as numpydoc sections are)."""

    def fill(function):
        for name, text in sections.items():
            function.__doc__ = function.__doc__.replace(f"    {name}\n", text[1:])
        return function

    return fill
