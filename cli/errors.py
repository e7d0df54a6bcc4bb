"""CLI error handling shared by all command modules: V3Error -> one line, exit status 2."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from v3.errors import V3Error

__all__ = ["V3ClickError", "check_output_path", "reports_errors"]

F = TypeVar("F", bound=Callable[..., Any])


class V3ClickError(click.ClickException):
    """A user error: printed as ``Error: <message>``, exit status 2."""

    exit_code = 2


def check_output_path(path: Path, overwrite: bool) -> None:
    """Check an output file path before any work, so a failing command leaves no output behind.

    Raises V3ClickError when ``path`` exists (without ``overwrite``) or its folder does not.
    """
    if path.exists() and not overwrite:
        raise V3ClickError(f"{path}: already exists (use --overwrite to replace it)")
    if not path.parent.is_dir():
        raise V3ClickError(f"{path}: folder {path.parent} does not exist")


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
