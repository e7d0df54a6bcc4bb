"""Tests of v3music.soundfont: SoundFont files written from our own samples, played by the
same renderer as TimGM6mb, and used end to end (training data, transcription)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
from audio_helpers import periodic_zone

from v3.errors import ConfigError, InputError
from v3music.soundfont import Instrument, Zone, soundfont_presets, write_soundfont
from v3music.synth import instrument_names, make_insnotes, read_manifest, render_midi
from v3music.transcribe import Transcriber

SR = 16000


def _notes(program: int, rows: list[tuple[float, float, int]]) -> pretty_midi.PrettyMIDI:
    pm = pretty_midi.PrettyMIDI()
    track = pretty_midi.Instrument(program=program)
    track.notes += [pretty_midi.Note(velocity=100, pitch=p, start=a, end=b) for a, b, p in rows]
    pm.instruments.append(track)
    return pm


def _peak_hz(y: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.argmax(spectrum) * SR / len(y))


@pytest.fixture(scope="module")
def font(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Program 5: looped reed zones rooted at A3 (keys 0-62) and A4 (63-127); program 9: A4, not looped."""
    zones = [periodic_zone(57, (0, 62)), periodic_zone(69, (63, 127))]
    once = [periodic_zone(69, (0, 127), loop=False)]
    return write_soundfont(tmp_path_factory.mktemp("sf") / "reed.sf2",
                           [Instrument("reed", 5, zones, release=0.3), Instrument("once", 9, once)])


@pytest.mark.parametrize("pitch", [50, 60, 69, 76])
def test_each_key_sounds_at_its_pitch(font: Path, pitch: int) -> None:
    y = render_midi(_notes(5, [(0.0, 1.0, pitch)]), soundfont=font, sr=SR)
    hz = _peak_hz(y[int(0.2 * SR) : int(0.9 * SR)])
    assert abs(12 * math.log2(hz / (440.0 * 2.0 ** ((pitch - 69) / 12.0)))) < 0.15


def test_a_looped_sample_holds_a_long_note_and_a_one_shot_ends(font: Path) -> None:
    def rms_db(y: np.ndarray) -> float:
        return 10 * math.log10(float(np.mean(y**2)) + 1e-20)

    held = render_midi(_notes(5, [(0.0, 3.0, 69)]), soundfont=font, sr=SR)  # the sample is 0.6 s long
    once = render_midi(_notes(9, [(0.0, 3.0, 69)]), soundfont=font, sr=SR)
    early, late = slice(int(0.2 * SR), int(0.5 * SR)), slice(int(2.5 * SR), int(2.9 * SR))
    assert abs(rms_db(held[late]) - rms_db(held[early])) < 1.0
    assert rms_db(once[late]) < rms_db(once[early]) - 60.0


@pytest.mark.parametrize(("instruments", "message"), [
    ([], "no instruments"),
    ([Instrument("a", 1, [periodic_zone(60, (0, 127))]), Instrument("b", 1, [periodic_zone(60, (0, 127))])], "distinct"),
    ([Instrument("a", 1, [])], "no zones"),
    ([Instrument("a", 1, [Zone(np.zeros(100), SR, 60, (70, 60))])], "out of range"),
    ([Instrument("a", 1, [Zone(np.zeros(100), SR, 60, (0, 127), loop=(50, 200))])], "loop"),
    ([Instrument("a", 1, [Zone(np.full(100, np.nan), SR, 60, (0, 127))])], "finite"),
    ([Instrument("a", 1, [Zone(np.zeros(100), SR, 60, (0, 127), pitch_correction=150)])], "pitch correction"),
])
def test_invalid_instruments_raise_config_error(tmp_path: Path, instruments: list[Instrument], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        write_soundfont(tmp_path / "x.sf2", instruments)
    assert not (tmp_path / "x.sf2").exists()


def test_insnotes_render_with_a_user_soundfont(font: Path, tmp_path: Path) -> None:
    make_insnotes(tmp_path, programs=(5,), n_cycles=1, seed=0, soundfont=font)
    manifest = read_manifest(tmp_path)
    assert manifest["soundfont"] == "reed.sf2"
    assert manifest["files"][0]["instrument"] == "reed"  # the SoundFont's preset name, not GM's
    sounding = manifest["files"][0]["sounding_pitches"]
    assert np.allclose(sounding, range(60, 72), atol=0.3)


def test_transcription_of_a_melody_in_a_user_soundfont(font: Path) -> None:
    """A melody played by an instrument that is not TimGM6mb's comes back note for note."""
    rows = [(0.2, 0.6, 60), (0.6, 1.0, 64), (1.1, 1.5, 67), (1.5, 2.3, 72), (2.5, 2.9, 71), (2.9, 3.6, 67)]
    y = render_midi(_notes(5, rows), soundfont=font, sr=SR)
    notes = Transcriber().transcribe(y, SR).notes
    assert [n.pitch for n in notes] == [p for _, _, p in rows]
    assert np.abs(np.array([n.onset for n in notes]) - [a for a, _, _ in rows]).max() < 0.05


def test_presets_are_read_back_and_a_missing_program_is_named_and_warned(font: Path, caplog) -> None:
    assert soundfont_presets(font) == {(0, 5): "reed", (0, 9): "once"}
    with caplog.at_level("WARNING", logger="v3music.synth"):
        names = instrument_names([5, 40], font)
    assert names == {5: "reed", 40: "program 40 (not in reed.sf2)"}
    assert "no preset for program 40" in caplog.text


def test_presets_of_a_file_that_is_not_a_soundfont(tmp_path: Path) -> None:
    (tmp_path / "x.sf2").write_bytes(b"RIFF\0\0\0\0WAVEfmt ")
    with pytest.raises(InputError, match="not a SoundFont 2 file"):
        soundfont_presets(tmp_path / "x.sf2")


def test_a_soundfont_without_presets_fails_before_any_output(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from v3_cli.main import cli

    from v3music.synth import default_soundfont

    truncated = tmp_path / "cut.sf2"
    truncated.write_bytes(default_soundfont().read_bytes()[:4096])  # a valid header, no preset list
    result = CliRunner().invoke(cli, ["music", "make-data", "insnotes", str(tmp_path / "out"),
                                      "--soundfont", str(truncated), "--programs", "5", "--cycles", "1"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{truncated}: no preset headers" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
