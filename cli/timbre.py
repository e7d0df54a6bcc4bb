"""``v3 timbre-embed``, ``v3 timbre-similar`` and ``v3 timbre-swap``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .errors import V3ClickError, check_output_path, reports_errors

if TYPE_CHECKING:
    from v3music.timbre import TimbreModel

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff", ".opus")

_checkpoint_option = click.option("--checkpoint", default="timbre", show_default=True,
                                  help="A music checkpoint file or the name of a shipped one.")
_device_option = click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:N or auto.")


@click.command("timbre-embed")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output file: .npy (float32 array [files, dim], rows in the order of INPUTS) or .json "
                   "(file names with their embeddings).")
@_checkpoint_option
@_device_option
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@reports_errors
def timbre_embed_command(inputs: tuple[Path, ...], out: Path, checkpoint: str, device: str, overwrite: bool) -> None:
    """Timbre embeddings of recordings: the mean V3 style vector of each file's notes, weighted by length.

    Files are read in windows, so long recordings use bounded memory. A file
    without notes (e.g. silence) is an error: it has no timbre to measure.
    Compare embeddings by cosine similarity (see `v3 timbre-similar`).

    Example: v3 timbre-embed violin.wav flute.wav -o emb.json
    """
    import numpy as np
    from tqdm.auto import tqdm

    from v3.fileio import atomic_write
    from v3music.timbre import TimbreModel

    if out.suffix.lower() not in (".npy", ".json"):
        raise V3ClickError(f"{out}: the output must end in .npy or .json")
    check_output_path(out, overwrite)
    tm = TimbreModel(checkpoint, device=device)
    embeddings = [tm.embed_file(p) for p in tqdm(inputs, desc="timbre-embed", unit="file",
                                                 disable=len(inputs) == 1)]
    matrix = np.stack(embeddings).astype(np.float32)
    if out.suffix.lower() == ".npy":
        def write_npy(tmp: Path) -> None:
            with tmp.open("wb") as fh:  # closed (flushed) before atomic_write renames it
                np.save(fh, matrix)

        atomic_write(out, write_npy)
    else:
        doc = {"checkpoint": checkpoint, "dim": int(matrix.shape[1]),
               "files": [str(p) for p in inputs], "embeddings": matrix.round(6).tolist()}
        atomic_write(out, lambda tmp: tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8"))
    click.echo(f"{out}  ({len(inputs)} embeddings of {matrix.shape[1]} values)")


@click.command("timbre-similar")
@click.argument("query", type=click.Path(path_type=Path))
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--top", type=click.IntRange(min=1), default=None, help="Show only the N most similar files.")
@click.option("--recursive", is_flag=True, help="Also search sub-folders.")
@_checkpoint_option
@_device_option
@reports_errors
def timbre_similar_command(query: Path, folder: Path, top: int | None, recursive: bool, checkpoint: str,
                           device: str) -> None:
    """Rank the audio files of FOLDER by timbre similarity to QUERY (cosine of timbre embeddings).

    Audio files are those ending in .wav, .flac, .ogg, .mp3, .aif(f) or .opus.
    Files that cannot be read or hold no notes are skipped with a warning.
    Prints: rank, similarity (-1 to 1), path.

    Example: v3 timbre-similar violin.wav recordings/ --top 5
    """
    import numpy as np
    from tqdm.auto import tqdm

    from v3.errors import V3Error
    from v3music.timbre import TimbreModel

    if not folder.is_dir():
        raise V3ClickError(f"{folder}: not a folder")
    pattern = "**/*" if recursive else "*"
    files = sorted(p for p in folder.glob(pattern)
                   if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES and p.resolve() != query.resolve())
    if not files:
        raise V3ClickError(f"{folder}: no audio files ({', '.join(AUDIO_SUFFIXES)})")
    tm = TimbreModel(checkpoint, device=device)
    query_embedding = tm.embed_file(query)
    kept, embeddings = [], []
    for path in tqdm(files, desc="timbre-similar", unit="file", disable=len(files) < 2):
        try:
            embeddings.append(tm.embed_file(path))
            kept.append(path)
        except V3Error as exc:
            click.echo(f"Warning: skipped {exc}", err=True)
    if not kept:
        raise V3ClickError(f"{folder}: none of its {len(files)} audio files could be embedded")
    order, sims = tm.rank(query_embedding, np.stack(embeddings))
    for rank, (i, s) in enumerate(zip(order[:top], sims[:top]), start=1):
        click.echo(f"{rank:>4}  {s:+.3f}  {kept[i]}")


@click.command("timbre-swap")
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output WAV (default: A_as_B.wav in the current folder).")
@click.option("--sr", "out_sr", type=click.IntRange(1000, 768000), default=None,
              help="Sample rate of the output in Hz (default: A's).")
@click.option("--method", type=click.Choice(["sample", "filter", "griffinlim"]), default="sample",
              show_default=True,
              help="sample: B's own notes, transposed to A's pitches and placed in A's timing, with a tenth (in dB) "
                   "of the filter result's spectrum (sounds most like B; notes of A the detector misses are "
                   "dropped); filter: A's short-time spectrum reshaped by "
                   "the model, A's phase kept (keeps every note of A, sounds more like A); griffinlim: the "
                   "filter's magnitudes with Griffin-Lim phase (the baseline; slower).")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw the spectrograms of A, B and the result as PNG.")
@_checkpoint_option
@_device_option
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@reports_errors
def timbre_swap_command(a: Path, b: Path, out: Path | None, out_sr: int | None, method: str, plot: Path | None,
                        checkpoint: str, device: str, overwrite: bool) -> None:
    """Play the notes of A with the instrument of B; write a WAV.

    The notes of A and B are found by the model. By default (--method sample)
    each note of A is played by a note of B (near in pitch and loudness, clear
    of the note before it), transposed as a sampler does and fitted to the
    note's length (a short note's sustain is looped); A's timing, pitches and
    relative dynamics are kept. --method filter instead
    decodes each note of A with B's timbre (the length-weighted mean style of B's notes) and
    lets the change reshape A's own spectrum. Both inputs: any format soundfile reads, any rate, mono or
    stereo, up to 30 minutes. The result is mono 16-bit WAV, scaled down if it
    would clip.

    Note: the shipped `timbre` model learnt from 36 instruments playing the
    12 pitches C4-B4; other pitches are coded as one of those.

    Example: v3 timbre-swap flute.wav violin.wav -o flute_as_violin.wav --plot swap.png
    """
    from v3music.swap import timbre_swap_file_to_file
    from v3music.timbre import TimbreModel

    target = out if out is not None else Path.cwd() / f"{a.stem}_as_{b.stem}.wav"
    if target.suffix.lower() != ".wav":
        raise V3ClickError(f"{target}: the output must be a .wav file")
    check_output_path(target, overwrite)
    if plot is not None:
        check_output_path(plot, overwrite)
    tm = TimbreModel(checkpoint, device=device)
    timbre_swap_file_to_file(a, b, target, model=tm, method=method, out_sr=out_sr)
    if plot is not None:
        _plot_swap(tm, a, b, target, plot)
    click.echo(str(target))


def _plot_swap(tm: TimbreModel, a: Path, b: Path, result: Path, plot: Path) -> None:
    """Spectrograms of a, b and the result, one above the other."""
    from v3music.audio import load_audio
    from v3music.frontend import log_cqt
    from v3music.plots import plot_spectrograms

    fe = tm.notes.frontend
    panels = [(f"{title}: {p.name}", log_cqt(load_audio(p, sr=fe.sample_rate), fe))
              for title, p in (("a", a), ("b", b), ("result", result))]
    plot_spectrograms(panels, fe, plot)
