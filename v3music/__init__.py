"""v3music: the music adapter of v3 (pitch as content, instrument timbre as style)."""

from __future__ import annotations

from .adapter import MusicAdapter, MusicConfig
from .frontend import FrontEndConfig, LogCQT, log_cqt
from .synth import INSNOTES_OOD_PROGRAMS, INSNOTES_PROGRAMS, make_insnotes, render_midi

__all__ = [
    "INSNOTES_OOD_PROGRAMS",
    "INSNOTES_PROGRAMS",
    "FrontEndConfig",
    "LogCQT",
    "MusicAdapter",
    "MusicConfig",
    "log_cqt",
    "make_insnotes",
    "render_midi",
]
