"""Tests of v3music.synth: SoundFont rendering and the InsNotes data set."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import librosa
import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from v3.errors import ConfigError, DataError, InputError
from v3music.synth import (
    INSNOTES_OOD_PROGRAMS,
    INSNOTES_PITCHES,
    INSNOTES_PROGRAMS,
    MANIFEST_NAME,
    _correct_subharmonic,
    _loudness_envelope,
    default_soundfont,
    make_insnotes,
    read_manifest,
    render_midi,
)

SR = 16000


def _one_note(program: int, pitch: int, seconds: float = 1.0) -> pretty_midi.PrettyMIDI:
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=program)
    inst.notes.append(pretty_midi.Note(velocity=100, pitch=pitch, start=0.0, end=seconds))
    pm.instruments.append(inst)
    return pm


@pytest.fixture(scope="module")
def insnotes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Piano (0) and whistle (78), one cycle of 12 notes each, seed 0."""
    out = tmp_path_factory.mktemp("insnotes")
    make_insnotes(out, programs=(0, 78), n_cycles=1, seed=0)
    return out


@pytest.fixture
def bogus_soundfont(tmp_path: Path) -> Path:
    path = tmp_path / "bogus.sf2"
    path.write_text("this is not a SoundFont\n")
    return path


def test_constants() -> None:
    assert INSNOTES_PROGRAMS == (64, 19, 21, 41, 56, 59, 68, 71, 72, 75, 22, 52)
    assert INSNOTES_OOD_PROGRAMS == (0, 4, 73, 78)
    assert INSNOTES_PITCHES == tuple(range(60, 72))
    assert default_soundfont().name == "TimGM6mb.sf2"
    assert default_soundfont().is_file()


@pytest.mark.parametrize("sr", [16000, 22050])
def test_render_midi_a4_comes_back_as_440_hz(sr: int) -> None:
    y = render_midi(_one_note(0, 69), sr=sr)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(y.size - sr) < 0.1 * sr  # about 1 s at the requested rate
    mid = y[int(0.2 * sr) : int(0.8 * sr)]
    f0, voiced, _ = librosa.pyin(mid, fmin=200, fmax=1000, sr=sr, frame_length=2048)
    hz = float(np.median(f0[voiced]))
    assert abs(librosa.hz_to_midi(hz) - 69) < 0.25, hz


def test_make_insnotes_files_and_manifest(insnotes: Path) -> None:
    manifest = read_manifest(insnotes)
    assert manifest["format"] == "v3-insnotes" and manifest["version"] == 1
    assert manifest["sample_rate"] == SR and manifest["seed"] == 0
    assert manifest["soundfont"] == "TimGM6mb.sf2" and len(manifest["soundfont_sha256"]) == 64
    assert [f["program"] for f in manifest["files"]] == [0, 78]
    assert [f["instrument"] for f in manifest["files"]] == ["Acoustic Grand Piano", "Whistle"]
    for entry in manifest["files"]:
        info = sf.info(str(insnotes / entry["path"]))
        assert (info.samplerate, info.channels, info.subtype) == (SR, 1, "PCM_16")
        assert info.frames == 12 * SR
        assert entry["pitches"] == list(range(60, 72))
        assert entry["onsets"] == [float(k) for k in range(12)]
        assert np.allclose(entry["offsets"], np.arange(12) + 0.95)
        assert all(80 <= v <= 120 for v in entry["velocities"])
        audio, _ = sf.read(str(insnotes / entry["path"]))
        assert 0.0 < np.max(np.abs(audio)) <= 1.0
    assert (insnotes / "prog000.wav").is_file() and (insnotes / "prog078.wav").is_file()
    assert not list(insnotes.glob("*.tmp"))  # atomic writes leave no temp files


def test_pitches_cycle_over_several_cycles(tmp_path: Path) -> None:
    make_insnotes(tmp_path, programs=(0,), n_cycles=2, seed=3)
    entry = read_manifest(tmp_path)["files"][0]
    assert entry["pitches"] == list(range(60, 72)) * 2
    assert len(entry["sounding_pitches"]) == 24
    assert sf.info(str(tmp_path / "prog000.wav")).frames == 24 * SR


def test_same_seed_same_bytes_other_seed_differs(insnotes: Path, tmp_path: Path) -> None:
    # Program 0 alone with seed 0 must reproduce the file rendered beside program 78.
    make_insnotes(tmp_path / "same", programs=(0,), n_cycles=1, seed=0)
    make_insnotes(tmp_path / "other", programs=(0,), n_cycles=1, seed=1)
    ref = (insnotes / "prog000.wav").read_bytes()
    assert (tmp_path / "same" / "prog000.wav").read_bytes() == ref
    assert (tmp_path / "other" / "prog000.wav").read_bytes() != ref
    vel = {
        d: read_manifest(p)["files"][0]["velocities"]
        for d, p in [("ref", insnotes), ("other", tmp_path / "other")]
    }
    assert vel["ref"] != vel["other"]


def test_noisy_copies_have_the_asked_snr_and_leave_clean_files_alone(insnotes: Path, tmp_path: Path) -> None:
    make_insnotes(tmp_path, programs=(0,), n_cycles=1, seed=0, noise_snr_db=(20.0, 20.0))
    assert (tmp_path / "prog000.wav").read_bytes() == (insnotes / "prog000.wav").read_bytes()
    entries = read_manifest(tmp_path)["files"]
    assert [e["path"] for e in entries] == ["prog000.wav", "prog000-noisy.wav"]
    assert entries[1]["noise_snr_db"] == 20.0 and entries[1]["pitches"] == entries[0]["pitches"]
    clean, _ = sf.read(tmp_path / "prog000.wav", dtype="float64")
    noisy, _ = sf.read(tmp_path / "prog000-noisy.wav", dtype="float64")
    snr = 10 * np.log10(np.mean(clean**2) / np.mean((noisy - clean) ** 2))
    assert snr == pytest.approx(20.0, abs=0.5)
    with pytest.raises(ConfigError, match="noise_snr_db"):
        make_insnotes(tmp_path, programs=(0,), n_cycles=1, noise_snr_db=(30.0, 10.0))


def test_sounding_pitch_whistle_low_piano_true(insnotes: Path) -> None:
    files = {f["program"]: f for f in read_manifest(insnotes)["files"]}
    piano = np.array(files[0]["sounding_pitches"], dtype=float) - np.array(files[0]["pitches"])
    whistle = np.array(files[78]["sounding_pitches"], dtype=float) - np.array(files[78]["pitches"])
    # Measured with TimGM6mb: piano +0.01 (one note +0.11), whistle -8.6 to -8.8.
    assert np.all(np.abs(piano) < 0.5), piano
    assert np.all(whistle < -5.0), whistle
    assert np.all(np.abs(whistle - np.median(whistle)) < 0.5), whistle


def test_subharmonic_correction_known_answers() -> None:
    t = np.arange(int(0.6 * SR)) / SR
    f0 = 220.0
    # Harmonics 1, 2, 3 of 220 Hz: a real 220 Hz tone stays put, and so does
    # a clarinet-like tone of odd harmonics only.
    tone = sum(np.sin(2 * np.pi * h * f0 * t) / h for h in (1, 2, 3))
    odd_only = sum(np.sin(2 * np.pi * h * f0 * t) / h for h in (1, 3, 5))
    assert _correct_subharmonic(tone, SR, f0) == f0
    assert _correct_subharmonic(odd_only, SR, f0) == f0
    # The same 220 Hz tone read an octave (or two) low is put back at 220 Hz.
    assert _correct_subharmonic(tone, SR, f0 / 2) == f0
    assert _correct_subharmonic(tone, SR, f0 / 4) == f0


def test_sounding_pitch_fixes_pyin_octave_errors(tmp_path: Path) -> None:
    # pYIN alone reads soprano sax E4 and G#4 of TimGM6mb an octave low.
    make_insnotes(tmp_path, programs=(64,), n_cycles=1)
    entry = read_manifest(tmp_path)["files"][0]
    offset = np.array(entry["sounding_pitches"], dtype=float) - np.array(entry["pitches"])
    assert np.all(np.abs(offset) < 0.5), offset


def test_loudness_envelope_smooth_and_bounded() -> None:
    gain = _loudness_envelope(np.random.default_rng(0), 3, SR)
    assert gain.shape == (3 * SR,)
    assert gain.min() >= 0.4 and gain.max() <= 1.0
    assert np.max(np.abs(np.diff(gain))) < 1e-3  # no jumps, even at note boundaries
    assert gain.max() - gain.min() > 0.1  # it does vary


def test_bogus_soundfont_raises_input_error(bogus_soundfont: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="bogus.sf2"):
        render_midi(_one_note(0, 60), soundfont=bogus_soundfont)
    with pytest.raises(InputError, match="bogus.sf2"):
        make_insnotes(tmp_path / "out", programs=(0,), n_cycles=1, soundfont=bogus_soundfont)
    assert not (tmp_path / "out").exists()  # fails before writing anything


def test_corrupt_soundfont_with_valid_header_raises_input_error(tmp_path: Path) -> None:
    path = tmp_path / "truncated.sf2"
    path.write_bytes(default_soundfont().read_bytes()[:4096])
    with pytest.raises(InputError, match="truncated.sf2"):
        render_midi(_one_note(0, 60), soundfont=path)


def test_missing_soundfont_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nope.sf2"):
        render_midi(_one_note(0, 60), soundfont=tmp_path / "nope.sf2")


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="PrettyMIDI"):
        render_midi("song.mid")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="sr=0"):
        render_midi(_one_note(0, 60), sr=0)
    with pytest.raises(ConfigError, match="n_cycles=0"):
        make_insnotes(tmp_path, programs=(0,), n_cycles=0)
    with pytest.raises(ConfigError, match="128"):
        make_insnotes(tmp_path, programs=(128,), n_cycles=1)


def test_unwritable_out_dir_raises_data_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(DataError, match="file.txt"):
        make_insnotes(blocker / "sub", programs=(0,), n_cycles=1)


def test_read_manifest_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_manifest(tmp_path / "absent")


def test_read_manifest_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="manifest is missing"):
        read_manifest(tmp_path)


def test_read_manifest_missing_wav(insnotes: Path, tmp_path: Path) -> None:
    data = shutil.copytree(insnotes, tmp_path / "data")
    (data / "prog078.wav").unlink()
    with pytest.raises(DataError, match="prog078.wav"):
        read_manifest(data)


def test_read_manifest_malformed(insnotes: Path, tmp_path: Path) -> None:
    data = shutil.copytree(insnotes, tmp_path / "data")
    manifest_path = data / MANIFEST_NAME
    good = json.loads(manifest_path.read_text())

    manifest_path.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        read_manifest(data)

    manifest_path.write_text(json.dumps({**good, "format": "something-else"}))
    with pytest.raises(DataError, match="something-else"):
        read_manifest(data)

    bad = json.loads(json.dumps(good))
    bad["files"][0]["velocities"] = bad["files"][0]["velocities"][:-1]
    manifest_path.write_text(json.dumps(bad))
    with pytest.raises(DataError, match="differ in length"):
        read_manifest(data)
