"""Symbol bookkeeping shared by circuit builders, layers and generators (no TensorFlow)."""

import re

import sympy

_DIGITS = re.compile(r"(\d+)")


def natural_key(name):
    """Sort key that orders ``w2`` before ``w10`` and ``x_1_2`` before ``x_1_10``."""
    name = str(name)
    return [int(part) if part.isdigit() else part for part in _DIGITS.split(name)]


def natural_sorted(symbols):
    """Return ``symbols`` (sympy symbols or names) sorted in natural order, duplicates removed."""
    unique = {str(s): s for s in symbols}
    return [unique[k] for k in sorted(unique, key=natural_key)]


def as_symbols(symbols, what="symbols"):
    """Turn a list of names or ``sympy.Symbol`` into a list of ``sympy.Symbol`` (order kept).

    Raises ``TypeError`` with the offending entry when an item is neither, and ``ValueError`` when a
    name repeats.
    """
    if symbols is None:
        return []
    if isinstance(symbols, (str, sympy.Symbol)):
        symbols = [symbols]
    out = []
    for s in symbols:
        if isinstance(s, sympy.Symbol):
            out.append(s)
        elif isinstance(s, str) and s:
            out.append(sympy.Symbol(s))
        else:
            raise TypeError(
                f"{what} must be sympy.Symbol objects or non-empty strings; got {s!r} "
                f"of type {type(s).__name__}."
            )
    names = [s.name for s in out]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise ValueError(f"{what} contain duplicates: {dups}. Give each symbol once.")
    return out


def symbol_grid(prefix, *shape):
    """Symbols ``prefix0, prefix1, ...`` (1-D) or ``prefix_i_j`` (n-D), in natural (row-major) order."""
    import itertools

    if len(shape) == 1:
        return [sympy.Symbol(f"{prefix}{i}") for i in range(shape[0])]
    return [
        sympy.Symbol(prefix + "".join(f"_{i}" for i in idx))
        for idx in itertools.product(*(range(n) for n in shape))
    ]
