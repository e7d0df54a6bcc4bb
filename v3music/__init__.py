"""v3music: the music adapter of v3 (pitch as content, instrument timbre as style)."""

from __future__ import annotations

from .adapter import MusicAdapter, MusicConfig
from .frontend import FrontEndConfig, LogCQT, log_cqt
from .melodies import make_melodies
from .swap import timbre_swap, timbre_swap_file, timbre_swap_file_to_file
from .synth import INSNOTES_OOD_PROGRAMS, INSNOTES_PROGRAMS, make_insnotes, render_midi
from .timbre import TimbreModel, cosine_similarity, timbre_embedding, timbre_embedding_file
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
    "TimbreModel",
    "Transcriber",
    "Transcription",
    "cosine_similarity",
    "log_cqt",
    "make_insnotes",
    "make_melodies",
    "render_midi",
    "timbre_embedding",
    "timbre_embedding_file",
    "timbre_swap",
    "timbre_swap_file",
    "timbre_swap_file_to_file",
    "transcribe",
    "transcribe_file",
    "transcribe_file_to_file",
]
