"""The bad-input matrix of the CLI: one line, exit status 2, no traceback, no partial output.

Silence is the one input that succeeds: a valid empty MIDI file plus a warning.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from v3_cli.main import cli

from v3.errors import InputError
from v3music.audio import load_audio

SR = 16000


def _tone(seconds: float = 1.0, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def _wav(path: Path, audio: np.ndarray, sr: int = SR, **kw: object) -> Path:
    sf.write(path, audio, sr, **kw)
    return path


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


# Each case: (name, make(tmp) -> argv for `v3 transcribe`, expected exit code, text the message must contain)
Case = tuple[str, Callable[[Path], list[str]], int, str]


def _missing(tmp: Path) -> list[str]:
    return [str(tmp / "nope.wav")]


def _folder(tmp: Path) -> list[str]:
    (tmp / "dir.wav").mkdir()
    return [str(tmp / "dir.wav")]


def _text(tmp: Path) -> list[str]:
    (tmp / "text.wav").write_text("hello, not audio\n")
    return [str(tmp / "text.wav")]


def _truncated(tmp: Path) -> list[str]:
    data = _wav(tmp / "full.wav", _tone()).read_bytes()
    (tmp / "cut.wav").write_bytes(data[:40])
    return [str(tmp / "cut.wav")]


def _zero_length(tmp: Path) -> list[str]:
    return [str(_wav(tmp / "zero.wav", np.zeros(0, np.float32)))]


def _nan(tmp: Path) -> list[str]:
    a = _tone()
    a[500] = np.nan
    return [str(_wav(tmp / "nan.wav", a, subtype="FLOAT"))]


def _corrupt_checkpoint(tmp: Path) -> list[str]:
    (tmp / "bad.pt").write_bytes(b"\x80\x04garbage" * 20)
    return [str(_wav(tmp / "ok.wav", _tone())), "--checkpoint", str(tmp / "bad.pt")]


def _pickle_checkpoint(tmp: Path) -> list[str]:
    torch.save({"format": "v3-checkpoint", "payload": Evil()}, tmp / "evil.pt", pickle_module=pickle)
    return [str(_wav(tmp / "ok.wav", _tone())), "--checkpoint", str(tmp / "evil.pt")]


def _unwritable_folder(tmp: Path) -> list[str]:
    (tmp / "file.txt").write_text("x")
    return [str(_wav(tmp / "ok.wav", _tone())), "-o", str(tmp / "file.txt" / "out.mid")]


def _existing_output(tmp: Path) -> list[str]:
    (tmp / "out.mid").write_bytes(b"keep")
    return [str(_wav(tmp / "ok.wav", _tone())), "-o", str(tmp / "out.mid")]


def _bad_program(tmp: Path) -> list[str]:
    return [str(_wav(tmp / "ok.wav", _tone())), "--program", "300"]


def _several_inputs_to_a_file(tmp: Path) -> list[str]:
    (tmp / "x.mid").write_bytes(b"keep")
    return [str(_wav(tmp / "a.wav", _tone())), str(_wav(tmp / "b.wav", _tone())), "-o", str(tmp / "x.mid")]


FAILING: list[Case] = [
    ("missing file", _missing, 2, "file not found"),
    ("a folder", _folder, 2, "is a folder"),
    ("text file named .wav", _text, 2, "not a readable audio file"),
    ("truncated WAV", _truncated, 2, "not a readable audio file"),
    ("zero-length audio", _zero_length, 2, "no audio samples"),
    ("NaN samples", _nan, 2, "NaN"),
    ("corrupt checkpoint", _corrupt_checkpoint, 2, "bad.pt"),
    ("checkpoint carrying a pickle payload", _pickle_checkpoint, 2, "refused to load"),
    ("unwritable output folder", _unwritable_folder, 2, "file.txt"),
    ("existing output without --overwrite", _existing_output, 2, "already exists"),
    ("MIDI program out of range", _bad_program, 2, "300"),
    ("several inputs to an existing file", _several_inputs_to_a_file, 2, "not a folder"),
]


@pytest.mark.parametrize(("name", "make", "code", "needle"), FAILING, ids=[c[0] for c in FAILING])
def test_failing_input(tmp_path: Path, name: str, make: Callable[[Path], list[str]], code: int, needle: str,
                       capfd: pytest.CaptureFixture[str]) -> None:
    args = make(tmp_path)
    if "-o" not in args:
        args += ["-o", str(tmp_path / "out.mid")]
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    result = CliRunner().invoke(cli, ["transcribe", *args])
    assert result.exit_code == code, (name, result.output)
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and needle in lines[0], (name, result.output)
    assert "Traceback" not in result.output
    after = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before, f"{name}: files were written or changed: {set(after) ^ set(before)}"
    assert "pwned" not in capfd.readouterr().out


@pytest.mark.parametrize(
    ("name", "rate", "channels", "seconds"),
    [("8 kHz", 8000, 1, 2.0), ("96 kHz", 96000, 1, 2.0), ("stereo", 44100, 2, 2.0), ("long audio", SR, 1, 300.0)],
)
def test_unusual_but_valid_audio_works(tmp_path: Path, name: str, rate: int, channels: int, seconds: float) -> None:
    tone = _tone(seconds, rate) if seconds < 10 else np.tile(_tone(1.0, rate), int(seconds))
    audio = np.stack([tone] * channels, axis=1) if channels > 1 else tone
    wav = _wav(tmp_path / "in.wav", audio, rate)
    result = CliRunner().invoke(cli, ["transcribe", str(wav), "-o", str(tmp_path / "out.mid")])
    assert result.exit_code == 0, (name, result.output)
    assert (tmp_path / "out.mid").read_bytes()[:4] == b"MThd"


def test_silence_is_a_valid_empty_result(tmp_path: Path) -> None:
    wav = _wav(tmp_path / "silence.wav", np.zeros(SR * 2, np.float32))
    result = CliRunner().invoke(cli, ["transcribe", str(wav), "-o", str(tmp_path / "out.mid")])
    assert result.exit_code == 0 and "silent" in result.output
    assert (tmp_path / "out.mid").read_bytes()[:4] == b"MThd"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=0, max_size=600))
def test_loader_fuzz_never_crashes_unexpectedly(tmp_path: Path, data: bytes) -> None:
    """Arbitrary bytes (also behind a valid-looking RIFF header) either load or raise InputError."""
    for i, blob in enumerate((data, b"RIFF" + len(data).to_bytes(4, "little") + b"WAVEfmt " + data)):
        path = tmp_path / f"fuzz{i}.wav"
        path.write_bytes(blob)
        try:
            y = load_audio(path, sr=SR)
        except InputError as exc:
            assert str(path) in str(exc)
        else:
            assert y.ndim == 1 and y.dtype == np.float32 and np.isfinite(y).all()
