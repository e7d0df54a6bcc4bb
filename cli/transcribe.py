"""``v3 transcribe``: audio files to MIDI files."""

from __future__ import annotations

import math
from pathlib import Path

import click

from .errors import V3ClickError, check_output_path, reports_errors


class MidiPitch(click.ParamType):
    """A MIDI note number (``36``) or a note name (``C2``, ``F#4``, ``Bb3``)."""

    name = "PITCH"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            number = value
        else:
            text = str(value).strip()
            try:
                number = int(text)
            except ValueError:
                import librosa

                try:
                    number = int(librosa.note_to_midi(text))
                except librosa.util.exceptions.ParameterError:
                    self.fail(f"{value!r} is neither a MIDI number nor a note name such as C2 or F#4", param, ctx)
        if not 0 <= number <= 127:
            self.fail(f"{value!r} is MIDI {number}, outside 0-127", param, ctx)
        return number


class Tuning(click.ParamType):
    """``auto``, cents off A440 (``-32``, ``+15``) or the frequency of A4 (``432Hz``)."""

    name = "TUNING"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float | str:
        if isinstance(value, float | int):
            cents = float(value)
        else:
            text = str(value).strip().lower()
            if text == "auto":
                return "auto"
            try:
                if text.endswith("hz"):
                    hertz = float(text[:-2])
                    if hertz <= 0:
                        raise ValueError
                    cents = 1200.0 * math.log2(hertz / 440.0)
                else:
                    cents = float(text)
            except ValueError:
                self.fail(f"{value!r} is neither 'auto', a number of cents nor a frequency such as 432Hz", param, ctx)
        if not -50.0 <= cents <= 50.0:
            self.fail(f"{value!r} is {cents:+.1f} cents off A440; give -50 to 50 cents (A4 427.5-452.9 Hz)",
                      param, ctx)
        return cents


def _outputs(inputs: tuple[Path, ...], out: Path | None, overwrite: bool) -> list[Path]:
    """Where each input's MIDI goes (see the command's help)."""
    if len(inputs) == 1:
        target = out if out is not None else Path.cwd() / f"{inputs[0].stem}.mid"
        if target.is_dir():
            target = target / f"{inputs[0].stem}.mid"
        targets = [target]
    else:
        if out is None:
            raise V3ClickError("several inputs need -o FOLDER for their MIDI files")
        if out.exists() and not out.is_dir():
            raise V3ClickError(f"{out}: exists and is not a folder (several inputs need -o FOLDER)")
        targets = [out / f"{p.stem}.mid" for p in inputs]
        if len({t.name for t in targets}) < len(targets):
            raise V3ClickError("two inputs have the same file name stem; their MIDI files would collide")
    if len(inputs) == 1:
        check_output_path(targets[0], overwrite)
    else:  # the folder is created later, if need be
        for t in targets:
            if t.exists() and not overwrite:
                raise V3ClickError(f"{t}: already exists (use --overwrite to replace it)")
    return targets


@click.command("transcribe")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None,
              help="A .mid file for one input (default: INPUT's name with .mid, in the current folder); "
                   "a folder for several inputs (song.wav -> FOLDER/song.mid).")
@click.option("--checkpoint", default="insnotes", show_default=True,
              help="A music checkpoint file or the name of a shipped one.")
@click.option("--onset-sensitivity", type=click.FloatRange(0.0, 1.0), default=0.7, show_default=True,
              help="0-1: higher finds more, weaker onsets.")
@click.option("--min-note", type=click.FloatRange(min=0.0), default=0.05, show_default=True,
              help="Notes shorter than this many seconds are dropped.")
@click.option("--pitch-context", type=click.IntRange(min=0), default=16, show_default=True,
              help="Each note's pitch is a vote of its own code and of this many notes on each side, "
                   "moved by the interval their spectra show; 0: every note named by its own code alone.")
@click.option("--lowest", type=MidiPitch(), default="C2", show_default=True,
              help="Lowest pitch a note may be named (MIDI number or note name).")
@click.option("--highest", type=MidiPitch(), default="C6", show_default=True,
              help="Highest pitch a note may be named.")
@click.option("--tuning", type=Tuning(), default="auto", show_default=True,
              help="How the instrument is tuned: 'auto' estimates it from the recording (offsets under 12 cents "
                   "are left alone), a number of cents off A440 (-32, 15) or A4's frequency (432Hz). Notes are "
                   "named at the nearest semitone of that tuning.")
@click.option("--tempo", type=click.FloatRange(1.0, 1000.0), default=120.0, show_default=True,
              help="Tempo (BPM) written into the MIDI file; note times stay in seconds.")
@click.option("--program", type=click.IntRange(0, 127), default=0, show_default=True,
              help="General MIDI program of the output track (0 = piano).")
@click.option("--notes", "notes_csv", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the notes as CSV (onset_s, offset_s, pitch, note_name, velocity); one input only.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw the piano roll over the spectrogram as PNG; one input only.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:N or auto.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@reports_errors
def transcribe_command(inputs: tuple[Path, ...], out: Path | None, checkpoint: str, onset_sensitivity: float,
                       min_note: float, pitch_context: int, lowest: int, highest: int, tuning: float | str,
                       tempo: float, program: int, notes_csv: Path | None, plot: Path | None,
                       device: str, overwrite: bool) -> None:
    """Transcribe monophonic audio to MIDI with the pitch codes of a V3 model.

    Reads WAV, FLAC, OGG or MP3 at any sample rate, mono or stereo. Long files
    are read in blocks. Silent input gives a valid empty MIDI file and a warning.

    Pitches: the default `insnotes` model's codebook holds the 12 pitches
    C4-B4; notes of other octaves are named by transposition search (the
    note's spectrum is moved by whole octaves, then by the semitones near the
    best one; the move the model reconstructs best, taken off the atom's name,
    gives the pitch), within --lowest..--highest (default C2-C6).

    Example: v3 transcribe song.wav -o song.mid --plot roll.png
    """
    from v3music.transcribe import Transcriber

    if lowest > highest:
        raise V3ClickError(f"--lowest {lowest} is above --highest {highest}")
    if len(inputs) > 1 and (notes_csv or plot):
        raise V3ClickError("--notes and --plot take one input at a time")
    targets = _outputs(inputs, out, overwrite)
    for extra in (notes_csv, plot):
        if extra is not None:
            check_output_path(extra, overwrite)
    transcriber = Transcriber(checkpoint, device=device, onset_sensitivity=onset_sensitivity,
                              min_note_seconds=min_note, pitch_context=pitch_context,
                              pitch_range=(lowest, highest), tuning=tuning)
    if len(inputs) > 1:
        targets[0].parent.mkdir(parents=True, exist_ok=True)
    from tqdm.auto import tqdm

    pairs = list(zip(inputs, targets))
    for source, target in tqdm(pairs, desc="transcribe", unit="file", disable=len(pairs) == 1):
        result = transcriber.transcribe_file_to_file(source, target, program=program, tempo=tempo,
                                                     notes_csv=notes_csv, plot=plot)
        for warning in result.warnings:
            click.echo(f"Warning: {source}: {warning}", err=True)
        tuned = f", tuned {result.tuning_cents:+.0f} cents off A440" if result.tuning_cents else ""
        click.echo(f"{target}  ({len(result.notes)} notes, {result.duration:.1f} s{tuned})")
