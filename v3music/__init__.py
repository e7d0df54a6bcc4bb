"""v3music: the music adapter of v3 (pitch as content, instrument timbre as style)."""

from __future__ import annotations

from .adapter import MusicAdapter, MusicConfig
from .frontend import FrontEndConfig, LogCQT, log_cqt
from .melodies import make_melodies
from .synth import INSNOTES_OOD_PROGRAMS, INSNOTES_PROGRAMS, make_insnotes, render_midi
from .transcribe import (
    Note,
    Transcriber,
    Transcription,
    transcribe,
    transcribe_file,
    transcribe_file_to_file,
)

__all__ = [
    "INSNOTES_OOD_PROGRAMS",
    "INSNOTES_PROGRAMS",
    "FrontEndConfig",
    "LogCQT",
    "MusicAdapter",
    "MusicConfig",
    "Note",
    "Transcriber",
    "Transcription",
    "log_cqt",
    "make_insnotes",
    "make_melodies",
    "render_midi",
    "transcribe",
    "transcribe_file",
    "transcribe_file_to_file",
]
