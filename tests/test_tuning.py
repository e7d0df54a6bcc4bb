"""Tuning: an instrument tuned off A440 is measured, and its notes are named at their written pitches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile as sf
from click.testing import CliRunner
from v3_cli.main import cli

from v3.errors import InputError
from v3music.frontend import FrontEndConfig
from v3music.transcribe import Transcriber
from v3music.tuning import estimate_tuning, tuned_frontend

SR = 16000
#: Written pitches of the test melody: C4-C5 and a few notes of other octaves.
PITCHES = [60, 62, 64, 65, 67, 69, 71, 72, 48, 55, 76, 57]


def _tone(midi: int, cents: float, seconds: float, *, vibrato_cents: float = 0.0) -> np.ndarray:
    """A plucked harmonic tone [samples] at MIDI ``midi`` moved by ``cents``, 5 harmonics, 16 kHz."""
    t = np.arange(int(seconds * SR)) / SR
    deviation = cents + vibrato_cents * np.sin(2 * np.pi * 5.5 * t)
    phase = 2 * np.pi * np.cumsum(440.0 * 2 ** ((midi - 69) / 12 + deviation / 1200)) / SR
    envelope = np.minimum(1.0, t / 0.01) * np.exp(-3.0 * t)
    return 0.3 * envelope * sum(np.sin(k * phase) / k for k in range(1, 6))


def _melody(cents: float) -> np.ndarray:
    """:data:`PITCHES`, 0.4 s each with 50 ms of silence between, all moved by ``cents``."""
    gap = np.zeros(int(0.05 * SR))
    return np.concatenate([np.concatenate([_tone(p, cents, 0.4), gap]) for p in PITCHES])


@pytest.mark.parametrize("cents", [-45.0, -20.0, 0.0, 20.0, 45.0])
def test_the_offset_of_a_detuned_tone_is_measured(cents: float) -> None:
    assert estimate_tuning(_tone(64, cents, 2.0), sr=SR) == pytest.approx(cents, abs=3.0)


def test_a_vibrato_is_measured_at_its_centre_not_at_its_edges() -> None:
    # a 5.5 Hz vibrato of 30 cents dwells longest at +/-30 cents from its centre
    y = _tone(64, 20.0, 2.0, vibrato_cents=30.0)
    assert estimate_tuning(y, sr=SR) == pytest.approx(20.0, abs=5.0)


def test_offsets_near_half_a_semitone_are_averaged_around_the_circle() -> None:
    # +48 and -48 cents are 4 cents apart, not 96: the mean must not fall near 0
    y = np.concatenate([_tone(64, 48.0, 1.0), _tone(67, -48.0, 1.0)])
    assert abs(estimate_tuning(y, sr=SR)) > 40.0


def test_the_tuned_front_end_moves_every_bin_in_steps_of_5_cents() -> None:
    config = FrontEndConfig()
    assert tuned_frontend(config, -31.8).fmin_midi == pytest.approx(config.fmin_midi - 0.30)
    assert tuned_frontend(config, 0.0) == config


def test_a_melody_played_45_cents_sharp_is_named_at_its_written_pitches() -> None:
    y = _melody(45.0)
    result = Transcriber("insnotes").transcribe(y, SR)
    assert [n.pitch for n in result.notes] == PITCHES
    assert result.tuning_cents == pytest.approx(45.0, abs=3.0)
    # taken as A440, every note is heard nearer the semitone above
    as_a440 = Transcriber("insnotes", tuning=0.0).transcribe(y, SR)
    assert [n.pitch for n in as_a440.notes] == [p + 1 for p in PITCHES]
    assert as_a440.tuning_cents == 0.0


def test_small_offsets_are_left_alone() -> None:
    result = Transcriber("insnotes").transcribe(_melody(6.0), SR)
    assert [n.pitch for n in result.notes] == PITCHES and result.tuning_cents == 0.0


def test_tuning_must_be_auto_or_within_half_a_semitone() -> None:
    for bad, needle in ((60.0, "within 50 cents"), ("sharp", "'auto' or a number")):
        with pytest.raises(InputError, match=needle):
            Transcriber("insnotes", tuning=bad)


def test_cli_tuning_takes_auto_cents_and_hertz(tmp_path: Path) -> None:
    wav = tmp_path / "sharp.wav"
    sf.write(wav, _melody(45.0), SR)
    for args in ([], ["--tuning", "45"], ["--tuning", "451.6Hz"]):  # 440 Hz * 2 ** (45 / 1200) = 451.6 Hz
        out = tmp_path / "out.mid"
        result = CliRunner().invoke(cli, ["transcribe", str(wav), "-o", str(out), "--overwrite", *args])
        assert result.exit_code == 0, result.output
        assert "tuned +45 cents off A440" in result.output
        assert [n.pitch for n in pretty_midi.PrettyMIDI(str(out)).instruments[0].notes] == PITCHES
    for bad, needle in (("500Hz", "+221.3 cents off A440"), ("sharp", "neither 'auto'"), ("-0Hz", "neither")):
        out = tmp_path / "bad.mid"
        result = CliRunner().invoke(cli, ["transcribe", str(wav), "-o", str(out), "--tuning", bad])
        assert result.exit_code == 2 and needle in result.output and "Traceback" not in result.output
        assert not out.exists()


@pytest.mark.parametrize("cents_a, cents_b", [(45.0, 0.0), (0.0, 45.0), (20.0, -40.0)])
def test_a_timbre_swap_plays_a_s_notes_in_a_s_tuning(cents_a: float, cents_b: float) -> None:
    from v3music.swap import timbre_swap

    gap = np.zeros(int(0.05 * SR))
    a = np.concatenate([np.concatenate([_tone(p, cents_a, 0.4), gap]) for p in PITCHES[:8]])
    b_pitches = [64, 67, 60, 71, 62, 69, 65, 72]  # a brighter instrument: 8 harmonics
    t = np.arange(int(0.5 * SR)) / SR
    b = np.concatenate([np.concatenate([0.2 * np.exp(-2 * t) * sum(
        np.sin(2 * np.pi * k * 440.0 * 2 ** ((p - 69) / 12 + cents_b / 1200) * t) / np.sqrt(k) for k in range(1, 9)),
        gap]) for p in b_pitches])
    result = timbre_swap(a, b, SR)
    assert estimate_tuning(result, sr=SR) == pytest.approx(cents_a, abs=5.0)
    heard = Transcriber("insnotes", tuning=cents_a).transcribe(result, SR)
    assert [n.pitch for n in heard.notes] == PITCHES[:8]
