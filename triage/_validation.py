"""Declarative argument checks: a function states each argument's constraint once.

In the spirit of scikit-learn's ``_parameter_constraints`` (``sklearn/dummy.py``): a module keeps a
mapping from argument name to ``Constraint`` and calls ``check_params(CONSTRAINTS, x=x, ...)``
at the top of the function. A value that breaks its constraint raises ``ValueError`` with the
project's message shape, "`x` must be …. Got … instead.", the first failing argument (in the
order given) first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any, Literal

import numpy as np

__all__ = ["Constraint", "at_least", "check_params", "in_range", "instance_of", "integer", "one_of"]

#: How a bad value is shown after "Got": ``str(value)``, ``repr(value)`` or its type's name.
Show = Literal["str", "repr", "type"]
Closed = Literal["left", "right", "both", "neither"]


@dataclass(frozen=True)
class Constraint:
    """What an argument must be.

    Attributes
    ----------
    test : callable
        ``test(value) -> bool``: True when the value is acceptable.
    words : str
        What the value must be, as read after "must be" ("at least 2", "one of select, drop").
    show : {"str", "repr", "type"}
        How a bad value is shown in the message.
    """

    test: Callable[[Any], bool]
    words: str
    show: Show = "repr"

    def message(self, name: str, value: object) -> str:
        """The error message for a bad ``value`` of argument ``name``."""
        if self.show == "str":
            shown = str(value)
        elif self.show == "type":
            shown = type(value).__name__
        else:
            shown = repr(value)
        return f"`{name}` must be {self.words}. Got {shown} instead."


def check_params(constraints: Mapping[str, Constraint], /, **values: object) -> None:
    """Check each keyword value against its constraint, in the order given.

    Parameters
    ----------
    constraints : mapping of str to Constraint
        The function's constraints by argument name.
    **values
        The arguments to check, by name; every name must have a constraint.

    Raises
    ------
    ValueError
        For the first value that breaks its constraint ("`x` must be …. Got … instead.").
    KeyError
        When a name has no constraint (a programming error).
    """
    for name, value in values.items():
        constraint = constraints[name]
        if not constraint.test(value):
            raise ValueError(constraint.message(name, value))


def one_of(
    options: Iterable[object], *, words: str | None = None, show: Show = "repr"
) -> Constraint:
    """The value must equal one of ``options``; words default to "one of a, b, c"."""
    allowed = tuple(options)
    return Constraint(
        lambda v: v in allowed,
        words if words is not None else "one of " + ", ".join(str(o) for o in allowed),
        show,
    )


def _is_integer(value: object, *, numpy_ok: bool) -> bool:
    kinds: tuple[type, ...] = (int, np.integer) if numpy_ok else (int,)
    return not isinstance(value, bool) and isinstance(value, kinds)


def integer(
    words: str,
    *,
    minimum: int | None = None,
    nonzero: bool = False,
    numpy_ok: bool = True,
    show: Show = "repr",
) -> Constraint:
    """The value must be an integer (never a bool), at least ``minimum``, non-zero if asked."""

    def test(v: object) -> bool:
        if not _is_integer(v, numpy_ok=numpy_ok):
            return False
        number = int(v)  # type: ignore[call-overload]
        return (minimum is None or number >= minimum) and not (nonzero and number == 0)

    return Constraint(test, words, show)


def at_least(low: float, *, show: Show = "str") -> Constraint:
    """The value must compare ``>= low`` ("at least 2")."""
    return Constraint(lambda v: v >= low, f"at least {low:g}", show)


def in_range(low: float, high: float, *, closed: Closed, show: Show = "str") -> Constraint:
    """The value must lie between ``low`` and ``high`` ("in [0.5, 1)", ``closed`` ends included)."""
    left = closed in ("left", "both")
    right = closed in ("right", "both")

    def test(v: Any) -> bool:
        if not isinstance(v, Real | np.number) or isinstance(v, bool):
            return False
        v = float(v)  # type: ignore[arg-type]
        above = v >= low if left else v > low
        below = v <= high if right else v < high
        return bool(above and below)

    words = f"in {'[' if left else '('}{low:g}, {high:g}{']' if right else ')'}"
    return Constraint(test, words, show)


def instance_of(kinds: type | tuple[type, ...], words: str, *, show: Show = "type") -> Constraint:
    """The value must be an instance of ``kinds`` ("a pandas DataFrame")."""
    return Constraint(lambda v: isinstance(v, kinds), words, show)
