"""The exception hierarchy of v3.

Every error a user can cause (bad input file, bad option, corrupt checkpoint)
is raised as a :class:`V3Error` subclass whose message names the offending
value, e.g. ``"song.wav: sample rate 0 Hz is not valid"``. The CLI turns these
into a one-line message and exit status 2; anything else is a bug.
"""

from __future__ import annotations

__all__ = [
    "AdapterError",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "InputError",
    "TrainingError",
    "V3Error",
]


class V3Error(Exception):
    """Base class of all errors that v3 raises on purpose.

    Examples
    --------
    >>> from v3 import load_model
    >>> try:
    ...     load_model("missing.pt")
    ... except V3Error as exc:
    ...     print(type(exc).__name__, "-", exc)
    CheckpointError - missing.pt: checkpoint file not found
    """


class InputError(V3Error, ValueError):
    """A user-supplied input (audio, image, array) is missing or not usable."""


class DataError(V3Error):
    """A training or evaluation data folder is missing, empty or malformed."""


class CheckpointError(V3Error):
    """A checkpoint file is missing, corrupt, foreign or does not fit the model."""


class ConfigError(V3Error, ValueError):
    """A configuration value or override is unknown or out of range."""


class AdapterError(V3Error):
    """An adapter name is unknown or an adapter plugin failed to load."""


class TrainingError(V3Error, RuntimeError):
    """Training cannot go on (e.g. the loss became NaN or Inf)."""
