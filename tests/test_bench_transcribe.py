"""Smoke test of bench/transcribe.py: its functions run end to end on two tiny melodies.

No quality targets here: only the table's shape, score ranges, and answers
known in advance (a reference scored against itself, a hand-made f0 track).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from audio_helpers import BENCH_TRANSCRIBE as BENCH
from audio_helpers import bench_transcribe

from v3music.transcribe import Transcriber


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return bench_transcribe()


@pytest.fixture(scope="module")
def dev(bench: ModuleType) -> list[Any]:
    return bench.make_dev_set(2, seed=3, low=60, high=71, programs=(0, 40), seconds=(2.5, 3.5))


@pytest.fixture(scope="module")
def results(bench: ModuleType, dev: list[Any]) -> dict[str, Any]:
    systems = {"v3": bench.v3_system(Transcriber("insnotes")), "pyin": bench.pyin_system(low=60, high=71)}
    bench.warm_up(systems, dev[0])
    return bench.run_bench(systems, dev)


def test_dev_set_is_deterministic_and_in_range(bench: ModuleType, dev: list[Any]) -> None:
    again = bench.make_dev_set(2, seed=3, low=60, high=71, programs=(0, 40), seconds=(2.5, 3.5))
    assert [m.program for m in dev] == [0, 40]
    for a, b in zip(dev, again):
        np.testing.assert_array_equal(a.reference.intervals, b.reference.intervals)
        np.testing.assert_array_equal(a.reference.pitches, b.reference.pitches)
        ref = a.reference
        assert len(ref) >= 1 and a.audio.ndim == 1 and a.sr == 16000
        assert ((ref.pitches >= 60) & (ref.pitches <= 71)).all()
        durations = ref.intervals[:, 1] - ref.intervals[:, 0]
        assert (durations >= 0.1 - 1e-3).all() and (durations <= 2.0 + 1e-3).all()
        assert (ref.intervals[1:, 0] >= ref.intervals[:-1, 1] - 1e-6).all()  # monophonic


def test_playable_dev_sets_keep_each_instrument_in_its_range(bench: ModuleType) -> None:
    # a flute (73) from C4, a violin (40) from G3; the piano keeps the whole --low/--high range
    dev = bench.make_dev_set(6, seed=0, low=36, high=84, programs=(73, 40, 0), seconds=(3.0, 4.0), playable=True)
    for m in dev:
        low, high = {73: (60, 84), 40: (55, 84), 0: (36, 84)}[m.program]
        assert low <= m.reference.pitches.min() and m.reference.pitches.max() <= high
    assert min(m.reference.pitches.min() for m in dev if m.program == 0) < 55


def test_random_melody_follows_its_rules(bench: ModuleType) -> None:
    rows = bench.random_melody(np.random.default_rng(0), low=36, high=84, seconds=60.0)
    pitches = np.array([r[2] for r in rows])
    velocities = np.array([r[3] for r in rows])
    assert ((pitches >= 36) & (pitches <= 84)).all()
    assert ((velocities >= 40) & (velocities <= 127)).all()
    assert (np.diff(pitches) == 0).any()  # repeated notes
    gaps = np.array([b[0] - a[1] for a, b in itertools.pairwise(rows)])
    assert (gaps < 1e-3).any() and (gaps > 0.15).any()  # legato and rests


def test_song_melody_keeps_to_its_scale_metre_and_range(bench: ModuleType) -> None:
    rows = bench.song_melody(np.random.default_rng(1), low=48, high=72, seconds=60.0)
    starts, ends = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    pitches, velocities = np.array([r[2] for r in rows]), np.array([r[3] for r in rows])
    assert ((pitches >= 48) & (pitches <= 72)).all() and ((velocities >= 40) & (velocities <= 127)).all()
    assert len(set(pitches % 12)) == 7  # one major or minor scale, all of it used in a minute
    assert (starts[1:] >= ends[:-1] - 1e-6).all() and (ends > starts).all()  # monophonic
    gaps = starts[1:] - ends[:-1]
    assert (gaps < 1e-3).any() and (gaps > 0.3).any()  # legato phrases and rests
    # times between onsets are whole numbers of eighth notes, give or take the onsets' 10 ms of wandering
    between = np.diff(starts)
    eighth = between.min()
    for _ in range(5):  # least-squares eighth note, seconds
        eighths = np.round(between / eighth)
        eighth = float((between * eighths).sum() / (eighths**2).sum())
    assert np.abs(between - eighths * eighth).max() < 0.021
    assert bench.make_dev_set(1, seed=0, programs=(0,), seconds=(2.0, 3.0), style="song")[0].reference.pitches.size


@pytest.mark.parametrize("voice", [128, 129])
def test_voices_in_no_soundfont_play_the_bundled_melody_back(bench: ModuleType, voice: int) -> None:
    # A Karplus-Strong pluck and an FM electric piano: every note comes back, none is added.
    # Before research log T24 the pluck lost its first note (its level falls 9 dB within 0.1 s
    # of the attack, which the release rule cut to nothing) and gained 9 from 0.01 dB ripples
    # of its flux, which its near-zero typical flux made look like attacks.
    import pretty_midi

    notes = pretty_midi.PrettyMIDI(str(BENCH.parents[1] / "examples" / "melody.mid")).instruments[0].notes
    rows = [(n.start, n.end, n.pitch, n.velocity) for n in notes]
    got = Transcriber("insnotes").transcribe(bench.render_voice(rows, voice, 16000), 16000).notes
    assert [n.pitch for n in got] == [n.pitch for n in notes]
    assert all(abs(g.onset - n.start) <= 0.05 for g, n in zip(got, notes))


def test_the_sung_vowel_slides_into_its_note_and_sings_it_with_vibrato(bench: ModuleType) -> None:
    import librosa

    y = bench.render_voice([(0.1, 1.6, 69, 100)], 132, 16000)  # an A4 held 1.5 s
    f0, _, _ = librosa.pyin(y, fmin=300, fmax=600, sr=16000, frame_length=1024, hop_length=160)
    cents = 1200 * np.log2(f0 / 440.0)
    t = np.arange(len(f0)) * 0.01
    held = cents[(t > 0.6) & (t < 1.5)]
    assert abs(np.nanmedian(held)) < 15  # in tune on average
    low, high = np.nanpercentile(held, [5, 95])
    assert high - low > 35  # a vibrato of +-35 cents
    assert np.nanmedian(cents[(t > 0.1) & (t < 0.13)]) < -10  # the scoop up into the note


def test_a_sung_note_s_vibrato_swing_is_not_a_note(bench: ModuleType) -> None:
    # research log T117: the sung vowel's melody 10 (seed 0) opens with an Eb4 held 1 s; its
    # vibrato cut out 0.77-0.88 s, which was named E4: Eb4, E4, Eb4, G4 came back
    rows = [(0.1989, 1.1657, 63, 90), (1.1994, 2.1017, 67, 90)]
    got = Transcriber("insnotes").transcribe(bench.render_voice(rows, 132, 16000), 16000).notes
    assert [n.pitch for n in got] == [63, 67]
    assert abs(got[1].onset - 1.1994) < 0.05


def test_segment_notes_on_a_known_f0_track(bench: ModuleType) -> None:
    rate = 100.0  # frames per second
    midi = np.array([60.0] * 30 + [np.nan] * 2 + [60.2] * 20 + [62.0] * 3 + [64.1] * 40 + [np.nan] * 10)
    voiced = np.isfinite(midi)
    f0 = np.where(voiced, 440.0 * 2 ** ((midi - 69) / 12), np.nan)
    notes = bench.segment_notes(f0, voiced, rate)
    # the 20 ms dropout is merged, the 30 ms blip of 62 is dropped
    np.testing.assert_allclose(notes.intervals, [[0.0, 0.52], [0.55, 0.95]])
    np.testing.assert_array_equal(notes.pitches, [60, 64])


def test_reference_scored_against_itself_is_perfect(bench: ModuleType, dev: list[Any]) -> None:
    mel = dev[0]
    scores = bench.score_melody(mel.reference, mel.reference, mel.duration)
    for key in ("note_f1", "note_offset_f1", "onset_f1", "raw_pitch_accuracy", "overall_accuracy"):
        assert scores[key] == pytest.approx(1.0)
    empty = bench.NoteList.from_rows([])
    assert bench.score_melody(mel.reference, empty, mel.duration)["note_f1"] == 0.0


def test_table_has_the_expected_rows_and_columns(bench: ModuleType, results: dict[str, Any]) -> None:
    summary = results["summary"]
    assert list(summary) == ["v3", "pyin"]
    ratio_rows = {"v3/pyin": bench.ratios(summary, "v3", "pyin")}
    table = bench.format_table(summary, ratio_rows).splitlines()
    assert len(table) == 2 + 3  # header, rule, two systems, one ratio row
    for title in bench.METRICS.values():
        assert title in table[0]
    assert [line.split()[0] for line in table[2:]] == ["v3", "pyin", "v3/pyin"]
    assert all(len(line.split()) == 1 + len(bench.METRICS) for line in table[2:])
    per_program = bench.format_per_program(results["per_program"]).splitlines()
    assert len(per_program) == 1 + 2


def test_per_program_rows_name_gm_programs_voices_and_soundfont_presets(bench: ModuleType) -> None:
    row = {"n_melodies": 1.0, "note_f1": 0.5}
    per_program = {"v3": {"0": row, "130": row}, "pyin": {"0": row, "130": row}}
    gm = bench.format_per_program(per_program).splitlines()
    assert "Acoustic Grand Piano" in gm[1] and bench.VOICES[130] in gm[2]
    own = bench.format_per_program(per_program, soundfont=Path("mine.sf2")).splitlines()
    assert "preset of mine.sf2" in own[1] and bench.VOICES[130] in own[2]


def test_scores_lie_in_unit_interval(bench: ModuleType, results: dict[str, Any]) -> None:
    for name, row in results["summary"].items():
        for key, value in row.items():
            if key in ("speed_x_realtime", "wall_seconds", "n_notes"):
                assert value >= 0, (name, key)
            else:
                assert 0.0 <= value <= 1.0, (name, key, value)
        assert row["speed_x_realtime"] > 0
    for rec in results["melodies"]:
        for scores in rec["systems"].values():
            assert all(0.0 <= scores[k] <= 1.0 for k in ("note_f1", "onset_f1", "raw_pitch_accuracy"))
    for per in results["per_program"].values():
        assert set(per) == {"0", "40"}
        assert all(0.0 <= p["note_f1"] <= 1.0 for p in per.values())
    json.dumps(results, allow_nan=False, default=float)  # what --out writes must be valid JSON


def test_degrade_adds_noise_at_the_asked_snr_and_keeps_the_length(bench: ModuleType) -> None:
    sr = 16000
    t = np.arange(sr) / sr
    clean = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    noisy = bench.degrade(clean, sr, np.random.default_rng(0), noise_snr_db=20.0)
    assert noisy.shape == clean.shape and noisy.dtype == np.float32
    snr = 10 * np.log10(np.mean(clean**2) / np.mean((noisy - clean) ** 2))
    assert snr == pytest.approx(20.0, abs=0.3)
    roomy = bench.degrade(clean, sr, np.random.default_rng(0), reverb_seconds=0.5)
    assert roomy.shape == clean.shape and not np.allclose(roomy, clean, atol=1e-3)
    assert np.sqrt(np.mean(roomy**2)) == pytest.approx(np.sqrt(np.mean(clean**2)), rel=0.3)
    assert np.array_equal(bench.degrade(clean, sr, np.random.default_rng(0)), clean)  # nothing asked: unchanged


def test_degrade_adds_mains_hum_at_50_hz_and_the_asked_level(bench: ModuleType) -> None:
    sr = 16000
    t = np.arange(2 * sr) / sr
    clean = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    hummed = bench.degrade(clean, sr, np.random.default_rng(0), hum_snr_db=30.0)
    hum = hummed.astype(np.float64) - clean
    assert 10 * np.log10(np.mean(clean**2) / np.mean(hum**2)) == pytest.approx(30.0, abs=0.1)
    spectrum = np.abs(np.fft.rfft(hum))
    freqs = np.fft.rfftfreq(len(hum), 1 / sr)
    assert freqs[np.argmax(spectrum)] == pytest.approx(50.0, abs=1.0)  # the fundamental is the strongest
    assert spectrum[freqs > 260].max() < 1e-3 * spectrum.max()  # harmonics 1-5 only: nothing above 250 Hz


def test_saved_dev_set_reads_back_exactly(bench: ModuleType, dev: list[Any], tmp_path: Path) -> None:
    path = tmp_path / "dev.npz"
    bench.save_dev_set(dev, path, "two melodies")
    back, description = bench.load_dev_set(path)
    assert description == "two melodies"
    assert [(m.name, m.program, m.sr) for m in back] == [(m.name, m.program, m.sr) for m in dev]
    for a, b in zip(dev, back):
        assert b.audio.dtype == a.audio.dtype
        np.testing.assert_array_equal(a.audio, b.audio)
        np.testing.assert_array_equal(a.reference.intervals, b.reference.intervals)
        np.testing.assert_array_equal(a.reference.pitches, b.reference.pitches)
    assert list(tmp_path.iterdir()) == [path]  # written atomically: no temporary file left


def test_detune_and_vibrato_bend_the_pitch_but_keep_the_reference(bench: ModuleType, dev: list[Any]) -> None:
    bent = bench.make_dev_set(2, seed=3, low=60, high=71, programs=(0, 40), seconds=(2.5, 3.5),
                              detune_cents=40.0, vibrato_cents=30.0)
    for a, b in zip(dev, bent):
        np.testing.assert_array_equal(a.reference.intervals, b.reference.intervals)
        np.testing.assert_array_equal(a.reference.pitches, b.reference.pitches)
        n = min(len(a.audio), len(b.audio))  # the last bend event may lengthen the render by one step
        assert abs(len(a.audio) - len(b.audio)) <= 0.02 * a.sr
        assert not np.allclose(a.audio[:n], b.audio[:n], atol=1e-3)
    pm = bench.melody_midi([(0.0, 1.0, 69, 90)], 40)
    bench.add_pitch_bends(pm, np.random.default_rng(0), detune_cents=40.0, vibrato_cents=30.0)
    cents = np.array([b.pitch for b in pm.instruments[0].pitch_bends]) / bench.BEND_PER_SEMITONE * 100
    assert len(cents) > 90 and np.abs(cents).max() <= 70.0 + 0.1  # offset <= 40, depth 30
    assert cents.max() - cents.min() == pytest.approx(60.0, abs=2.0)  # the vibrato's full swing


def test_expression_shapes_the_loudness_but_keeps_the_reference(bench: ModuleType, dev: list[Any]) -> None:
    shaped = bench.make_dev_set(2, seed=3, low=60, high=71, programs=(0, 40), seconds=(2.5, 3.5),
                                expression_db=12.0)
    for a, b in zip(dev, shaped):
        np.testing.assert_array_equal(a.reference.intervals, b.reference.intervals)
        np.testing.assert_array_equal(a.reference.pitches, b.reference.pitches)
        n = min(len(a.audio), len(b.audio))
        assert not np.allclose(a.audio[:n], b.audio[:n], atol=1e-3)
    pm = bench.melody_midi([(0.0, 1.0, 69, 90), (1.0, 1.2, 71, 90)], 40)
    bench.add_expression(pm, np.random.default_rng(0), depth_db=12.0)
    changes = pm.instruments[0].control_changes
    assert {c.number for c in changes} == {11} and len(changes) == 60  # every 20 ms of both notes
    gain_db = 40 * np.log10(np.array([c.value for c in changes]) / 127)
    assert gain_db.max() <= 0.0 and gain_db[:50].min() >= -12.1  # the 1 s note: at most 12 dB
    assert gain_db[50:].min() >= -0.2 * 12.0 - 0.1  # the 0.2 s note: at most a fifth of it


def test_help_prints_real_defaults_only(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    # --low/--high default to None and say in their help what they mean; "(default: None)" would mislead
    with pytest.raises(SystemExit):
        bench.parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: None)" not in text
    assert "--n-melodies N_MELODIES" in text and "(default: 60; with --load-dev" in text


def test_reference_leaves_out_notes_the_soundfont_does_not_play(bench: ModuleType) -> None:
    # TimGM6mb has no alto sax E4: the render is silent there, so no system can hear that note
    assert not bench.sounds(65, 64)
    assert bench.sounds(65, 65) and bench.sounds(0, 64)
    dev = bench.make_dev_set(6, seed=0, programs=(65,), seconds=(6.0, 8.0))
    pitches = np.concatenate([m.reference.pitches for m in dev])
    assert 64 not in pitches and len(set(pitches.tolist())) >= 8
