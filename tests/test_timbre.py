"""Timbre embeddings and timbre swap: helpers with known answers, the API, the CLI, a quality floor."""

from __future__ import annotations

import re
from pathlib import Path

import librosa
import numpy as np
import pytest
import scipy.signal
import soundfile as sf
from audio_helpers import mains_hum
from click.testing import CliRunner
from v3_cli.main import cli

import v3music.swap as swap_module
from v3.errors import InputError
from v3music.frontend import log_cqt
from v3music.melodies import melody_midi, random_melody
from v3music.notes import EncodedNotes
from v3music.swap import (
    FILTER_SHARE,
    _bins_to_stft,
    _decay_rate,
    _fit_piece,
    _note_curves,
    blend_magnitudes,
    note_transpositions,
    timbre_swap,
    timbre_swap_file,
)
from v3music.synth import INSNOTES_PROGRAMS, render_midi
from v3music.timbre import TimbreModel, cosine_similarity
from v3music.transcribe import Transcriber

SR = 16000


@pytest.fixture(scope="module")
def tm() -> TimbreModel:
    return TimbreModel("timbre")


def _melody(seed: int, program: int, seconds: float = 5.0, sr: int = SR) -> tuple[list, np.ndarray]:
    notes = random_melody(np.random.default_rng(seed), low=60, high=71, seconds=seconds)
    return notes, render_midi(melody_midi(notes, program), sr=sr)


@pytest.fixture(scope="module")
def flute_and_violin() -> tuple[np.ndarray, np.ndarray]:
    return _melody(1, 73)[1], _melody(2, 40)[1]


def _notes(onsets_s: list[float], offsets_s: list[float], k: int = 2, n_bins: int = 4) -> EncodedNotes:
    n = len(onsets_s)
    return EncodedNotes(
        onsets=(np.array(onsets_s) * SR).astype(np.int64), offsets=(np.array(offsets_s) * SR).astype(np.int64),
        peak_db=np.zeros(n), attack_db=np.zeros(n), attack_flux=np.zeros(n),
        note_offs=(np.array(offsets_s) * SR).astype(np.int64), after_release=np.zeros(n, bool),
        fragments=np.zeros((n, n_bins, k), np.float32),
        codes=np.zeros(n, np.int64), quantized=np.zeros((n, 2), np.float32), style=np.zeros((n, 2), np.float32),
        starts=(np.array(onsets_s) * SR).astype(np.int64))


def test_note_curves_follow_notes_and_fade_after_offsets() -> None:
    delta = np.ones((2, 4, 2), np.float32)
    delta[1] *= -2.0
    curves = _note_curves(delta, _notes([0.5, 2.0], [1.0, 2.5]), model_sr=SR, n_frames=400, frame_rate=100.0,
                          fragment_seconds=1.0, release=0.2)
    assert curves.shape == (4, 400)
    assert np.all(curves[:, :50] == 0)  # before the first note
    np.testing.assert_allclose(curves[:, 50:100], 1.0)  # first note, constant change
    np.testing.assert_allclose(curves[:, 110], 0.5, atol=1e-6)  # half-way through its release
    assert np.all(curves[:, 125:200] == 0)  # the rest after the release
    np.testing.assert_allclose(curves[:, 200:250], -2.0)
    assert np.all(curves[:, 300:] == 0)


def test_note_curves_interpolate_between_pooled_steps() -> None:
    delta = np.zeros((1, 1, 2), np.float32)
    delta[0, 0] = [0.0, 1.0]  # steps centred at 0.25 s and 0.75 s of a 1 s note
    curves = _note_curves(delta, _notes([0.0], [1.0], n_bins=1), model_sr=SR, n_frames=100, frame_rate=100.0,
                          fragment_seconds=1.0)
    np.testing.assert_allclose(curves[0, [10, 25, 50, 75, 90]], [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-6)


def test_bins_to_stft_maps_each_frequency_to_its_cqt_bin() -> None:
    curves = np.arange(144, dtype=np.float32)[:, None].repeat(3, axis=1)  # value = bin index
    gains = _bins_to_stft(curves, fmin_midi=36.0, bins_per_octave=24, sr=SR, n_fft=1024)
    assert gains.shape == (513, 3)
    freqs = np.fft.rfftfreq(1024, 1 / SR)
    k = int(np.argmin(np.abs(freqs - 440.0)))  # ~437.5 Hz
    expected = (librosa.hz_to_midi(freqs[k]) - 36.0) * 2
    assert gains[k, 0] == pytest.approx(expected, abs=1e-3)
    assert gains[1, 0] == 0.0 and gains[-1, 0] == 143.0  # held past both ends


def test_blend_in_blocks_equals_blend_in_one_piece() -> None:
    rng = np.random.default_rng(0)
    main = rng.standard_normal(5 * SR).astype(np.float32)
    other = rng.standard_normal(5 * SR).astype(np.float32) * np.linspace(0.1, 2.0, 5 * SR, dtype=np.float32)
    whole = blend_magnitudes(main, other, SR, share=0.3, block_seconds=60.0)
    assert np.abs(whole - main).max() > 0.1  # it did change main
    for seconds in (0.5, 1.3):  # block edges on and off whole seconds
        np.testing.assert_allclose(blend_magnitudes(main, other, SR, share=0.3, block_seconds=seconds), whole,
                                   atol=1e-6)


def test_cosine_similarity() -> None:
    assert cosine_similarity(np.array([1.0, 1.0]), np.array([-2.0, -2.0])) == pytest.approx(-1.0)
    assert cosine_similarity(np.array([1.0, 0.0]), np.array([0.0, 3.0])) == pytest.approx(0.0)


def test_embedding_of_a_file_equals_the_in_memory_one(tm: TimbreModel, flute_and_violin, tmp_path: Path) -> None:
    flute, _ = flute_and_violin
    sf.write(tmp_path / "flute.wav", flute, SR, subtype="FLOAT")
    np.testing.assert_allclose(tm.embed_file(tmp_path / "flute.wav"), tm.embed(flute, SR), rtol=1e-5, atol=1e-5)


def test_silence_has_no_timbre(tm: TimbreModel) -> None:
    with pytest.raises(InputError, match="silent"):
        tm.embed(np.zeros(SR, np.float32), SR)


def test_a_quiet_recording_has_the_same_timbre(tm: TimbreModel, flute_and_violin) -> None:
    # research log T112: 50 dB under its render, the violin phrase's embedding pointed away from the
    # original's (cosine -0.93) before quiet audio was raised for analysis
    for y in flute_and_violin:
        assert cosine_similarity(tm.embed(y, SR), tm.embed(y * 10 ** (-50 / 20), SR)) >= 0.99


def test_mains_hum_leaves_the_timbre_embedding_alone(tm: TimbreModel) -> None:
    # research log S65: a violin phrase with 50 Hz hum (harmonics 1-5) 20 dB under it; before T65 took
    # steady tones out of what the model encodes, its embedding pointed away from the clean one (-0.71)
    rows = [(0.3 + 0.5 * i, 0.7 + 0.5 * i, p, 80) for i, p in enumerate([60, 64, 67, 65, 62, 69, 71, 60])]
    y = render_midi(melody_midi(rows, 40), sr=SR).astype(np.float64)
    hummed = y + mains_hum(len(y), SR) * np.sqrt(np.mean(y**2)) * 10 ** (-20 / 20)
    assert cosine_similarity(tm.embed(y, SR), tm.embed(hummed, SR)) >= 0.5


def test_timbre_embedding_knn_floor_on_new_melodies_of_training_instruments(tm: TimbreModel) -> None:
    """Quality floor of the shipped model: leave-one-out 1-NN instrument accuracy (cosine) over 12 programs.

    1.000 with notes weighted by length (research log S66), 0.917 with the plain mean before.
    """
    embeddings, labels = [], []
    for i, program in enumerate(INSNOTES_PROGRAMS):
        for j in range(3):
            embeddings.append(tm.embed(_melody(1000 + 10 * i + j, program, seconds=8.0)[1], SR))
            labels.append(program)
    e = np.stack(embeddings)
    sims = cosine_similarity(e[:, None], e[None])
    np.fill_diagonal(sims, -np.inf)
    accuracy = np.mean(np.array(labels)[sims.argmax(1)] == np.array(labels))
    assert accuracy >= 0.95, accuracy


def test_swap_keeps_length_pitch_and_headroom(tm: TimbreModel, flute_and_violin) -> None:
    flute, violin = flute_and_violin
    out = timbre_swap(flute, violin, SR, model=tm)
    assert out.shape == flute.shape and out.dtype == np.float32
    assert np.abs(out).max() <= 0.99
    assert not np.allclose(out, flute, atol=1e-3)
    # an A4 tone keeps its pitch (YIN f0 of the result), while its spectrum changes
    t = np.arange(2 * SR) / SR
    tone = sum(0.3 / h * np.sin(2 * np.pi * 440 * h * t) for h in range(1, 6)).astype(np.float32)
    swapped = timbre_swap(tone, violin, SR, model=tm)
    f0 = librosa.yin(swapped[SR // 4 : -SR // 4], fmin=100, fmax=1000, sr=SR)
    assert np.median(f0) == pytest.approx(440.0, rel=0.01)
    assert not np.allclose(swapped, tone, atol=1e-2)


def test_swap_takes_b_timbre_in_embedding_space(tm: TimbreModel, flute_and_violin) -> None:
    flute, violin = flute_and_violin
    out = timbre_swap(flute, violin, SR, model=tm)
    e_flute, e_violin, e_out = (tm.embed(x, SR) for x in (flute, violin, out))
    assert cosine_similarity(e_out, e_violin) > cosine_similarity(e_flute, e_violin)


def test_swap_sample_rates_and_stereo(tm: TimbreModel, tmp_path: Path) -> None:
    _, a = _melody(3, 73, seconds=3.0, sr=44100)
    _, b = _melody(4, 40, seconds=3.0, sr=22050)
    sf.write(tmp_path / "a.wav", a, 44100)
    sf.write(tmp_path / "b.flac", np.stack([b, b], axis=1), 22050)
    out, sr = timbre_swap_file(tmp_path / "a.wav", tmp_path / "b.flac", model=tm)
    assert sr == 44100 and abs(len(out) - len(a)) <= 1
    out8, sr8 = timbre_swap_file(tmp_path / "a.wav", tmp_path / "b.flac", model=tm, out_sr=8000)
    assert sr8 == 8000 and abs(len(out8) - len(a) * 8000 / 44100) <= 2


def _harmonic_tone(hz: float, seconds: float, *, decay: float = 1.0, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (sum(0.3 / h**decay * np.sin(2 * np.pi * hz * h * t) for h in range(1, 8))).astype(np.float32)


def test_note_transpositions_read_the_interval_from_spectra(tm: TimbreModel) -> None:
    fe = tm.notes.frontend
    # A4 with a bright spectrum vs G4 and C4 with a dull one: the shift ignores the timbre
    a = log_cqt(_harmonic_tone(440.0, 0.5), fe)[None]
    b = np.stack([log_cqt(_harmonic_tone(hz, 0.5, decay=2.0), fe) for hz in (392.0, 261.63)])
    semitones, corr = note_transpositions(a, b, bins_per_semitone=fe.bins_per_octave / 12)
    assert semitones.tolist() == [[2.0, 9.0]]
    assert corr.shape == (1, 2) and (corr > 0.5).all()


def test_steady_frames_cut_a_note_where_a_merged_second_note_begins(tm: TimbreModel) -> None:
    from v3music.intervals import steady_frames

    fe = tm.notes.frontend
    legato = np.concatenate([_harmonic_tone(349.23, 0.4), _harmonic_tone(293.66, 0.4)])  # F4 then D4, no gap
    cqt = log_cqt(legato, fe)
    change = int(0.4 * SR / fe.hop_length)
    steady = steady_frames(cqt, bins_per_semitone=fe.bins_per_octave / 12)
    assert change - 2 <= steady <= change + 4
    assert steady_frames(log_cqt(_harmonic_tone(349.23, 0.8), fe), bins_per_semitone=2) == cqt.shape[1]


def test_cli_swap_methods_are_the_library_methods() -> None:
    from v3_cli.timbre import timbre_swap_command

    from v3music.swap import SWAP_METHODS

    option = next(p for p in timbre_swap_command.params if p.name == "method")
    assert tuple(option.type.choices) == SWAP_METHODS


def test_sample_swap_plays_a_notes_with_b_notes(tm: TimbreModel, flute_and_violin) -> None:
    flute, violin = flute_and_violin
    # an A4 tone played by the violin melody's notes: the violin's A4 (or a note moved onto A4)
    tone = np.concatenate([np.zeros(SR // 2, np.float32), _harmonic_tone(440.0, 1.5)])
    out = timbre_swap(tone, violin, SR, model=tm, method="sample")
    assert out.shape == tone.shape and np.abs(out).max() <= 0.99
    # nothing before a's first note (the blend with the filter result, an STFT, smears the onset back
    # by under a window, about -130 dB)
    assert np.abs(out[: SR // 2 - SR // 20]).max() < 1e-5
    f0 = librosa.yin(out[SR * 3 // 4 : -SR // 4], fmin=100, fmax=1000, sr=SR)
    assert np.median(f0) == pytest.approx(440.0, rel=0.02)
    # a whole melody: the result's timbre is nearer the violin's than the flute's is
    swapped = timbre_swap(flute, violin, SR, model=tm, method="sample")
    e_flute, e_violin, e_out = (tm.embed(x, SR) for x in (flute, violin, swapped))
    assert cosine_similarity(e_out, e_violin) > cosine_similarity(e_flute, e_violin)


def _tones(gains: list[float], seconds: float, hz: float = 440.0) -> np.ndarray:
    """Tones of ``seconds`` at ``hz`` scaled by ``gains``, each after 0.25 s of silence (and 0.25 s at the end)."""
    gap = np.zeros(SR // 4, np.float32)
    return np.concatenate([part for g in gains for part in (gap, g * _harmonic_tone(hz, seconds, decay=2.0))] + [gap])


def _rms_db(y: np.ndarray, start_s: float, seconds: float = 0.5) -> float:
    s = int(start_s * SR)
    return float(10 * np.log10(np.mean(y[s : s + int(seconds * SR)] ** 2)))


def test_sample_swap_maps_a_dynamics_onto_b_level(tm: TimbreModel, monkeypatch) -> None:
    # a: two notes and one 12 dB quieter; b: notes of one level, longer than a's (no stretching).
    # The placed notes keep a's differences around b's level, and a's level is its mean note power:
    # 10 log10((1 + 1 + 10**-1.2) / 3) = -1.63 dB from the loud notes (a mean of the dB values: -4).
    a = _tones([1.0, 1.0, 0.25], 0.75)
    b = _tones([0.3, 0.3], 1.5)
    level_b = _rms_db(b, 0.35)
    monkeypatch.setattr(swap_module, "FILTER_SHARE", 0.0)  # the placed notes alone
    placed = timbre_swap(a, b, SR, model=tm, method="sample")
    assert _rms_db(placed, 0.35) - level_b == pytest.approx(1.63, abs=0.5)
    assert _rms_db(placed, 2.35) - level_b == pytest.approx(1.63 - 12.04, abs=0.5)
    # the default result moves FILTER_SHARE of the way, in dB, to the filter result (a's own level)
    monkeypatch.undo()
    out = timbre_swap(a, b, SR, model=tm, method="sample")
    filtered = timbre_swap(a, b, SR, model=tm, method="filter")
    for start in (0.35, 2.35):
        expected = (1 - FILTER_SHARE) * _rms_db(placed, start) + FILTER_SHARE * _rms_db(filtered, start)
        assert _rms_db(out, start) == pytest.approx(expected, abs=0.3)
    assert _rms_db(filtered, 0.35) - _rms_db(placed, 0.35) > 5.0  # so the move is measurable


def test_sample_swap_plays_a_held_note_once(tm: TimbreModel) -> None:
    # TimGM6mb's flute F4 flickers enough for the detector to cut it; as in `v3 transcribe`, the
    # unarticulated parts are one note, played by one note of b (not one restruck note per part)
    flute = render_midi(melody_midi([(0.1, 2.1, 65, 90)], 73), sr=SR)
    violin = render_midi(melody_midi([(0.1, 2.3, 65, 90), (2.4, 3.0, 67, 80)], 40), sr=SR)
    assert len(tm.encode(flute, SR)[1]) > 1  # the detector's cut, which this test is about
    out = timbre_swap(flute, violin, SR, model=tm, method="sample")
    assert [n.pitch for n in Transcriber().transcribe(out, SR).notes] == [65]


def test_a_short_held_note_is_looped_not_slowed() -> None:
    # b's note: 0.5 s of A4 with a 6 Hz vibrato, then a 0.1 s release, fills 2 s. A 4x phase-vocoder
    # stretch slows the vibrato to 1.4 Hz and its level wanders over 6 dB; the loop keeps the level and
    # roughly the rate (each joint moves the vibrato's phase: 5.0 Hz measured)
    t = np.arange(int(0.6 * SR)) / SR
    phase = 2 * np.pi * np.cumsum(440.0 * 2 ** (0.3 / 12 * np.sin(2 * np.pi * 6 * t))) / SR
    note = (0.5 * np.sin(phase) * np.clip((0.6 - t) / 0.1, 0, 1)).astype(np.float32)
    out = _fit_piece(note, 2 * SR, 0.0, sr_b=SR, sr_out=SR, fade=480, held=0.5 / 0.6)
    assert len(out) == 2 * SR
    held = out[int(0.2 * SR) : int(1.6 * SR)]
    frequency = np.diff(np.unwrap(np.angle(scipy.signal.hilbert(held)))) * SR / (2 * np.pi)
    wobble = np.abs(np.fft.rfft(np.convolve(frequency - 440.0, np.ones(160) / 160, mode="valid")))
    rates = np.fft.rfftfreq(len(frequency) - 159, 1 / SR)
    in_range = (rates > 0.5) & (rates < 20.0)
    assert 4.0 < rates[in_range][np.argmax(wobble[in_range])] < 8.0
    levels = [_rms_db(out, start, seconds=0.2) for start in np.arange(0.1, 1.6, 0.2)]
    assert max(levels) - min(levels) < 1.0


def test_a_loop_continues_the_instrument_decay_not_a_short_note_own() -> None:
    # a 0.3 s staccato note already falling 60 dB/s, from an instrument whose held notes stay level
    t = np.arange(int(0.3 * SR)) / SR
    note = (np.sin(2 * np.pi * 440 * t) * 10 ** (-60 * t / 20)).astype(np.float32)
    held = _fit_piece(note, int(1.5 * SR), 0.0, sr_b=SR, sr_out=SR, fade=480, held=0.9, decay=0.0)
    assert abs(_rms_db(held, 0.3, seconds=0.1) - _rms_db(held, 1.2, seconds=0.1)) < 2.0
    own = _fit_piece(note, int(1.5 * SR), 0.0, sr_b=SR, sr_out=SR, fade=480, held=0.9)
    assert _rms_db(own, 0.3, seconds=0.1) - _rms_db(own, 1.2, seconds=0.1) > 40.0


def test_decay_rate_is_the_median_over_long_notes() -> None:
    # notes of 1 s falling 10, 20 and 30 dB/s, and a 0.3 s one falling 60 dB/s (too short to count)
    parts, starts, offs = [], [], []
    for seconds, fall in ((1.0, 10), (1.0, 20), (1.0, 30), (0.3, 60)):
        t = np.arange(int(seconds * SR)) / SR
        starts.append(sum(map(len, parts)))
        parts.append(np.sin(2 * np.pi * 440 * t) * 10 ** (-fall * t / 20))
        offs.append(sum(map(len, parts)))
    rate = _decay_rate(np.concatenate(parts), np.array(starts), np.array(offs), SR)
    assert rate == pytest.approx(-20.0, abs=1.0)
    assert _decay_rate(parts[3], np.array([0]), np.array([len(parts[3])]), SR) is None


def test_a_transposed_note_keeps_its_level() -> None:
    # a sampler's transposition (resampling) keeps the level; librosa's phase-vocoder pitch shift
    # lost 0.84 dB on this tone moved a semitone up (research log S83)
    t = np.arange(SR) / SR
    tone = sum(0.3 / h * np.sin(2 * np.pi * 330 * h * t + h) for h in range(1, 8)).astype(np.float32)
    for semitones in (1.0, 2.0, -1.0):
        moved = _fit_piece(tone, len(tone), semitones, sr_b=SR, sr_out=SR, fade=480)
        assert _rms_db(moved, 0.2) == pytest.approx(_rms_db(tone, 0.2), abs=0.3)


def test_a_short_decaying_note_keeps_decaying_when_looped() -> None:
    sr = 16000
    t = np.arange(int(0.5 * sr)) / sr
    note = (np.sin(2 * np.pi * 440 * t) * 10 ** (-30 * t / 20)).astype(np.float32)  # falls 30 dB/s
    out = _fit_piece(note, int(1.5 * sr), 0.0, sr_b=sr, sr_out=sr, fade=480, held=0.9)
    fall = _rms_db(out, 0.2, seconds=0.1) - _rms_db(out, 1.2, seconds=0.1)
    assert fall == pytest.approx(30.0, abs=3.0)


def test_swap_refuses_silent_b_and_unknown_method(tm: TimbreModel, flute_and_violin) -> None:
    flute, _ = flute_and_violin
    with pytest.raises(InputError, match="b: the audio is silent"):
        timbre_swap(flute, np.zeros(SR, np.float32), SR, model=tm)
    with pytest.raises(InputError, match="method"):
        timbre_swap(flute, flute, SR, model=tm, method="magic")


# --- CLI -------------------------------------------------------------------


@pytest.fixture
def wavs(tmp_path: Path, flute_and_violin) -> tuple[Path, Path]:
    flute, violin = flute_and_violin
    sf.write(tmp_path / "flute.wav", flute, SR)
    sf.write(tmp_path / "violin.wav", violin, SR)
    return tmp_path / "flute.wav", tmp_path / "violin.wav"


def test_cli_swap_default_name_no_overwrite_and_plot(wavs, tmp_path: Path, monkeypatch) -> None:
    a, b = wavs
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["timbre-swap", str(a), str(b), "--plot", "swap.png"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "flute_as_violin.wav"
    assert result.output.strip() == str(out)
    info = sf.info(out)
    assert info.samplerate == SR and info.channels == 1 and (tmp_path / "swap.png").stat().st_size > 10_000
    again = runner.invoke(cli, ["timbre-swap", str(a), str(b)])
    assert again.exit_code == 2 and "already exists" in again.output
    assert runner.invoke(cli, ["timbre-swap", str(a), str(b), "--overwrite", "--sr", "8000"]).exit_code == 0
    assert sf.info(out).samplerate == 8000


def test_cli_swap_silent_b_leaves_no_output(wavs, tmp_path: Path) -> None:
    a, _ = wavs
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(SR, np.float32), SR)
    out = tmp_path / "out.wav"
    result = CliRunner().invoke(cli, ["timbre-swap", str(a), str(silent), "-o", str(out)])
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: {silent}: the audio is silent, so it has no timbre to measure"
    assert not out.exists() and not list(tmp_path.glob("*.tmp*"))


def test_cli_embed_npy_and_json(wavs, tmp_path: Path) -> None:
    import json

    a, b = wavs
    runner = CliRunner()
    assert runner.invoke(cli, ["timbre-embed", str(a), str(b), "-o", str(tmp_path / "e.npy")]).exit_code == 0
    matrix = np.load(tmp_path / "e.npy")
    assert matrix.shape == (2, 16)
    assert runner.invoke(cli, ["timbre-embed", str(a), "-o", str(tmp_path / "e.json")]).exit_code == 0
    doc = json.loads((tmp_path / "e.json").read_text())
    assert doc["files"] == [str(a)] and np.allclose(doc["embeddings"][0], matrix[0], atol=1e-5)
    bad = runner.invoke(cli, ["timbre-embed", str(a), "-o", str(tmp_path / "e.txt")])
    assert bad.exit_code == 2 and ".npy or .json" in bad.output


def test_cli_similar_ranks_and_skips_unreadable_files(tmp_path: Path) -> None:
    folder = tmp_path / "lib"
    folder.mkdir()
    for name, (seed, program) in {"violin2": (5, 40), "flute2": (6, 73), "organ": (7, 19)}.items():
        sf.write(folder / f"{name}.wav", _melody(seed, program, seconds=4.0)[1], SR)
    (folder / "notes.wav").write_text("not audio")
    query = tmp_path / "violin.wav"
    sf.write(query, _melody(8, 40, seconds=4.0)[1], SR)
    result = CliRunner().invoke(cli, ["timbre-similar", str(query), str(folder)])
    assert result.exit_code == 0, result.output
    lines = re.findall(r"^\s*\d+\s+[+-]\d\.\d{3}\s+(\S+)$", result.stdout, flags=re.MULTILINE)
    assert len(lines) == 3 and lines[0].endswith("violin2.wav")
    assert "Warning: skipped" in result.stderr and "notes.wav: not a readable audio file" in result.stderr


@pytest.mark.parametrize("case", ["missing a", "text as b", "folder as b", "silent a", "nan a"])
def test_cli_swap_bad_input_is_one_line_exit_2(case: str, wavs, tmp_path: Path) -> None:
    a, b = wavs
    if case == "missing a":
        a, expected = tmp_path / "nope.wav", "nope.wav: file not found"
    elif case == "text as b":
        b = tmp_path / "text.wav"
        b.write_text("hello")
        expected = "text.wav: not a readable audio file"
    elif case == "folder as b":
        b, expected = tmp_path, "is a folder"
    elif case == "silent a":
        a = tmp_path / "quiet.wav"
        sf.write(a, np.zeros(SR, np.float32), SR)
        expected = "quiet.wav: the audio is silent, so there are no notes to play"
    else:
        a = tmp_path / "nan.wav"
        sf.write(a, np.full(SR, np.nan, np.float32), SR, subtype="FLOAT")
        expected = "nan.wav: the audio contains NaN"
    out = tmp_path / "out.wav"
    result = CliRunner().invoke(cli, ["timbre-swap", str(a), str(b), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and expected in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_cli_swap_checks_the_plot_folder_before_writing_anything(wavs, tmp_path: Path) -> None:
    a, b = wavs
    out = tmp_path / "out.wav"
    result = CliRunner().invoke(cli, ["timbre-swap", str(a), str(b), "-o", str(out),
                                      "--plot", str(tmp_path / "missing" / "swap.png")])
    assert result.exit_code == 2 and "missing does not exist" in result.output
    assert not out.exists()
