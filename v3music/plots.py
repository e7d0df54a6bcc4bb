"""Pictures of music results: a piano roll drawn over the log-CQT."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from v3.fileio import atomic_write

from .frontend import FrontEndConfig

if TYPE_CHECKING:
    from .transcribe import Note

__all__ = ["plot_piano_roll"]


def plot_piano_roll(features: np.ndarray, frontend: FrontEndConfig, notes: list[Note], path: Path | str,
                    *, title: str = "Transcription") -> Path:
    """Draw the notes as boxes over the log-CQT spectrogram and save a PNG (atomically).

    Parameters
    ----------
    features : ndarray[n_bins, frames]
        Log-CQT of the recording (see :func:`v3music.frontend.log_cqt`).
    frontend : FrontEndConfig
        Its settings (frame rate, lowest bin, bins per octave).
    notes : list of Note
        Transcribed notes (onset/offset in seconds, MIDI pitch).
    path : path
        Output PNG.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    duration = features.shape[1] / frontend.frame_rate
    lo = frontend.fmin_midi
    hi = lo + frontend.n_bins * 12 / frontend.bins_per_octave
    fig = Figure(figsize=(max(6.0, min(20.0, duration * 0.8)), 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.imshow(features, origin="lower", aspect="auto", cmap="magma",
              extent=(0.0, duration, lo - 0.25, hi - 0.25), vmin=float(np.percentile(features, 5)))
    for n in notes:
        ax.add_patch(Rectangle((n.onset, n.pitch - 0.5), n.offset - n.onset, 1.0, fill=False,
                               edgecolor="cyan", linewidth=1.2))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("MIDI pitch")
    ax.set_title(f"{title} ({len(notes)} notes)")
    return atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format="png"))
