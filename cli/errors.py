"""CLI error handling shared by all command modules: V3Error -> one line, exit status 2."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from v3.errors import V3Error

__all__ = ["V3ClickError", "reports_errors"]

F = TypeVar("F", bound=Callable[..., Any])


class V3ClickError(click.ClickException):
    """A user error: printed as ``Error: <message>``, exit status 2."""

    exit_code = 2


def reports_errors(func: F) -> F:
    """Turn V3Error (and unreadable/unwritable paths) into a one-line exit-2 error."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except V3Error as exc:
            raise V3ClickError(str(exc)) from exc
        except PermissionError as exc:
            raise V3ClickError(f"{exc.filename}: permission denied") from exc

    return wrapper  # type: ignore[return-value]
