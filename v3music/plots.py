"""Pictures of music results: a piano roll drawn over the log-CQT."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from v3.fileio import atomic_write

from .frontend import FrontEndConfig

if TYPE_CHECKING:
    from .transcribe import Note

__all__ = ["plot_piano_roll", "plot_spectrograms"]


def plot_piano_roll(features: np.ndarray, frontend: FrontEndConfig, notes: list[Note], path: Path | str,
                    *, title: str = "Transcription", frame_rate: float | None = None) -> Path:
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
    frame_rate : float, optional
        Columns of ``features`` per second, if not the front end's (a
        spectrogram pooled in time).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    duration = features.shape[1] / (frontend.frame_rate if frame_rate is None else frame_rate)
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


def plot_spectrograms(panels: list[tuple[str, np.ndarray]], frontend: FrontEndConfig, path: Path | str) -> Path:
    """Draw log-CQT spectrograms one above the other, on one colour scale, and save a PNG (atomically).

    Parameters
    ----------
    panels : list of (title, ndarray[n_bins, frames])
        E.g. ``[("a", ...), ("b", ...), ("a as b", ...)]``.
    frontend : FrontEndConfig
        Settings of the log-CQT (frame rate, lowest bin, bins per octave).
    path : path
        Output PNG.

    Examples
    --------
    >>> import tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "s.png")
    >>> plot_spectrograms([("x", np.zeros((144, 10)))], FrontEndConfig(), out).name
    's.png'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    longest = max(f.shape[1] for _, f in panels) / frontend.frame_rate
    lo = frontend.fmin_midi
    hi = lo + frontend.n_bins * 12 / frontend.bins_per_octave
    vmax = max(float(f.max()) for _, f in panels)
    vmin = min(float(np.percentile(f, 5)) for _, f in panels)
    fig = Figure(figsize=(max(6.0, min(20.0, longest * 0.8)), 2.6 * len(panels)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, (title, features) in zip(axes, panels):
        duration = features.shape[1] / frontend.frame_rate
        image = ax.imshow(features, origin="lower", aspect="auto", cmap="magma", vmin=vmin, vmax=vmax,
                          extent=(0.0, duration, lo - 0.25, hi - 0.25))
        ax.set_xlim(0.0, longest)
        ax.set_title(title)
        ax.set_ylabel("MIDI pitch")
    axes[-1].set_xlabel("time (s)")
    fig.colorbar(image, ax=list(axes), label="log amplitude")
    return atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format="png"))
