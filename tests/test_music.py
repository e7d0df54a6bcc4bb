"""Music adapter: front end known answers, data loading, shipped checkpoint quality floor."""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import pytest
import torch

from v3music.adapter import MusicAdapter, MusicConfig
from v3music.frontend import FrontEndConfig, LogCQT, log_cqt, note_fragments
from v3music.synth import make_insnotes


def _tone(midi: float, seconds: float = 1.0, sr: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * librosa.midi_to_hz(midi) * t)).astype(np.float32)


@pytest.mark.parametrize("midi", [40, 60, 69, 84])
def test_log_cqt_peak_is_the_tone(midi: int) -> None:
    cfg = FrontEndConfig()
    feats = log_cqt(_tone(midi), cfg)
    assert feats.shape == (cfg.n_bins, 1 + 16000 // cfg.hop_length)
    peak_bin = int(np.argmax(feats[:, feats.shape[1] // 2]))
    expected = round((midi - cfg.fmin_midi) * cfg.bins_per_octave / 12)
    assert abs(peak_bin - expected) <= 1


def test_chunked_log_cqt_matches_single_pass() -> None:
    rng = np.random.default_rng(0)
    y = (0.1 * rng.normal(size=16000 * 7)).astype(np.float32)
    cfg = FrontEndConfig()
    whole = log_cqt(y, cfg, chunk_seconds=100.0)
    chunked = log_cqt(y, cfg, chunk_seconds=2.0)
    assert whole.shape == chunked.shape
    assert np.allclose(whole, chunked, atol=1e-4)


@pytest.mark.parametrize("config", [FrontEndConfig(), FrontEndConfig(n_bins=100, hop_length=160, fmin_midi=40.0)])
def test_log_cqt_matches_nnaudio_module(config: FrontEndConfig) -> None:
    """The per-octave convolution gives nnAudio's CQT1992v2 magnitudes (the checkpoints were trained on them)."""
    from nnAudio.features import CQT1992v2

    reference = CQT1992v2(sr=config.sample_rate, hop_length=config.hop_length,
                          fmin=float(librosa.midi_to_hz(config.fmin_midi)), n_bins=config.n_bins,
                          bins_per_octave=config.bins_per_octave, output_format="Magnitude", verbose=False)
    audio = torch.from_numpy(0.1 * np.random.default_rng(1).normal(size=(2, 30000)).astype(np.float32))
    audio[1] += torch.from_numpy(_tone(45, seconds=30000 / 16000))
    expected = torch.log(reference(audio) + config.log_floor)
    got = LogCQT(config)(audio)
    assert got.shape == expected.shape
    assert float((got - expected).abs().max()) < 1e-4


def test_note_fragments_shape_and_padding() -> None:
    feats = np.arange(2 * 100, dtype=np.float32).reshape(2, 100)
    frags = note_fragments(feats, np.array([0.0, 0.5, 0.99]), frame_rate=100.0, seconds=0.1, frames=5)
    assert frags.shape == (3, 2, 5)
    # first fragment: frames 0..9 pooled in pairs
    assert np.allclose(frags[0, 0], [0.5, 2.5, 4.5, 6.5, 8.5])
    # last fragment runs past the end: padded with the minimum (0)
    assert frags[2, 0, -1] == 0.0


@pytest.fixture(scope="module")
def tiny_insnotes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("insnotes")
    make_insnotes(folder, programs=(0, 41), n_cycles=1, seed=5)
    return folder


def test_load_dataset(tiny_insnotes: Path) -> None:
    adapter = MusicAdapter()
    cfg = adapter.parse_config({})
    ds = adapter.load_dataset(tiny_insnotes, cfg)
    assert ds.fragments.shape == (24, cfg.n_bins, cfg.fragment_frames)
    assert ds.samples.shape == (2, 12)  # one window of 12 notes per 12-note file
    assert ds.content_labels[:12].tolist() == list(range(60, 72))
    assert set(ds.style_labels.tolist()) == {0, 41}
    assert ds.content_names[69] == "A4"
    # per-fragment normalisation: every fragment has zero mean
    assert torch.allclose(ds.fragments.flatten(1).mean(dim=1), torch.zeros(24), atol=1e-4)


def test_too_few_notes_for_a_sample(tiny_insnotes: Path) -> None:
    from v3.errors import DataError

    adapter = MusicAdapter()
    with pytest.raises(DataError, match="fewer than fragments_per_sample=13"):
        adapter.load_dataset(tiny_insnotes, MusicConfig(fragments_per_sample=13))


def test_shipped_insnotes_checkpoint_quality_floor(tmp_path: Path) -> None:
    """Codebook accuracy of the shipped model on freshly rendered notes (new seed)."""
    from v3.adapters import find_checkpoint
    from v3.checkpoint import load_model
    from v3.evaluation import evaluate

    loaded = load_model(find_checkpoint("insnotes"))
    make_insnotes(tmp_path, programs=(19, 41, 56, 68, 72), n_cycles=1, seed=987)
    ds = loaded.adapter.load_dataset(tmp_path, loaded.adapter.parse_config(loaded.config.adapter_config))
    report = evaluate(loaded, ds)
    assert report["codebook"]["one_to_one_accuracy"] >= 0.95
    assert report["named_accuracy"] >= 0.95


def test_shipped_insnotes_names_four_octaves_by_transposition_search(tmp_path: Path) -> None:
    """The one-octave codebook, transposition searched, names fresh 1 s notes over MIDI 36-84 of
    four programs it never heard (measured 0.974-0.990 on seeds 11, 12, 13 and 987)."""
    from v3music.melodies import make_note_grid
    from v3music.notes import NoteEncoder

    encoder = NoteEncoder.load("insnotes")
    make_note_grid(tmp_path, programs=(0, 24, 40, 73), low=36, high=84, cycles=1, seed=987)
    ds = encoder.loaded.adapter.load_dataset(tmp_path, encoder.config)
    names = encoder.name_fragments(ds.fragments.numpy())
    labels = ds.content_labels.numpy()
    assert len(labels) == 4 * 49
    assert np.mean(names == labels) >= 0.9
    assert set(range(36, 85)) <= set(names.tolist())  # every pitch of the range is reachable
    # `v3 eval` reports the same naming beside the stored names (which know C4-B4 only)
    from v3.evaluation import evaluate

    report = evaluate(encoder.loaded, ds)
    assert report["tool_named_accuracy"] == pytest.approx(np.mean(names == labels))
    assert report["named_accuracy"] < 0.5


def test_melodies_are_rendered_in_range_and_deterministic(tmp_path: Path) -> None:
    from v3music.melodies import make_melodies
    from v3music.synth import read_manifest

    make_melodies(tmp_path / "a", programs=(41,), files_per_program=1, seconds=6.0, low=40, high=50, seed=3)
    make_melodies(tmp_path / "b", programs=(41,), files_per_program=1, seconds=6.0, low=40, high=50, seed=3)
    entry = read_manifest(tmp_path / "a")["files"][0]
    assert all(40 <= p <= 50 for p in entry["pitches"])
    assert all(a < b for a, b in zip(entry["onsets"], entry["offsets"]))
    name = entry["path"]
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_detected_segmentation_cuts_and_labels_the_notes(tmp_path: Path) -> None:
    """Separated notes: every note is found once, at its onset, with its pitch as label."""
    import soundfile as sf

    from v3music.melodies import melody_midi
    from v3music.synth import default_soundfont, render_midi, write_manifest

    pitches = [48, 55, 62, 69, 76, 83, 60, 64, 67, 72, 50, 57]
    notes = [(0.3 + 0.8 * i, 0.8 + 0.8 * i, p, 100) for i, p in enumerate(pitches)]
    sf.write(tmp_path / "piano.wav", render_midi(melody_midi(notes, 0), sr=16000), 16000)
    write_manifest(tmp_path, [{"path": "piano.wav", "program": 0, "instrument": "piano",
                               "onsets": [n[0] for n in notes], "offsets": [n[1] for n in notes],
                               "pitches": pitches, "velocities": [100] * 12, "sounding_pitches": [None] * 12}],
                   sr=16000, seed=0, soundfont=default_soundfont())
    adapter = MusicAdapter()
    cfg = adapter.parse_config({"segmentation": "detected", "fragment_seconds": 0.128})
    ds = adapter.load_dataset(tmp_path, cfg)
    assert ds.content_labels.tolist() == pitches
    assert ds.fragments.shape == (12, cfg.n_bins, cfg.fragment_frames)


def test_whitening_removes_the_envelope_and_keeps_the_harmonic_peaks() -> None:
    from v3music.adapter import prepare_fragments

    cfg = MusicConfig(whiten_bins=25)
    feats = log_cqt(_tone(57) + _tone(69) * 0.5 + _tone(76) * 0.3, cfg.frontend())
    frags = note_fragments(feats, np.array([0.2]), frame_rate=cfg.frontend().frame_rate, seconds=0.25, frames=2)
    tilt = np.linspace(0.0, 3.0, cfg.n_bins, dtype=np.float32)[None, :, None]  # a spectral envelope change
    a, b = prepare_fragments(frags, cfg), prepare_fragments(frags + tilt, cfg)
    inner = slice(cfg.whiten_bins, cfg.n_bins - cfg.whiten_bins)  # away from the edges
    assert np.allclose(a[:, inner], b[:, inner], atol=1e-4)  # a linear tilt is gone
    assert int(np.argmax(a[0, :, 0])) in (41, 42, 43)  # MIDI 57 = bin 42 is still the top peak


def test_harmonic_salience_peaks_at_the_fundamental() -> None:
    from v3music.adapter import prepare_fragments

    cfg = MusicConfig(salience_harmonics=4)
    f0 = 50
    y = sum(_tone(f0 + 12 * np.log2(h)) / h for h in range(1, 5))
    frags = note_fragments(log_cqt(y, cfg.frontend()), np.array([0.2]), frame_rate=cfg.frontend().frame_rate,
                           seconds=0.25, frames=2)
    assert abs(int(np.argmax(prepare_fragments(frags, cfg)[0, :, 0])) - 2 * (f0 - 36)) <= 1


def test_transposition_augmentation_moves_whole_samples_by_semitones() -> None:
    adapter = MusicAdapter()
    cfg = MusicConfig(eq_db=0.0, shift_bins=6, normalize=False)
    x = torch.zeros(8, 3, cfg.n_bins, 2)
    x[:, :, 60] = 1.0
    out = adapter.augment(x, cfg, torch.Generator().manual_seed(0))
    peaks = out[..., 0].argmax(dim=2)  # [8, 3]
    assert (peaks == peaks[:, :1]).all()  # one shift per sample
    moved = peaks[:, 0] - 60
    assert set(moved.tolist()) <= {-6, -4, -2, 0, 2, 4, 6} and len(set(moved.tolist())) > 1


def test_default_augmentation_is_only_the_eq() -> None:
    adapter = MusicAdapter()
    cfg = MusicConfig()
    x = torch.randn(4, 3, cfg.n_bins, 2)
    x = x - x.flatten(2).mean(dim=2)[..., None, None]
    out = adapter.augment(x, cfg, torch.Generator().manual_seed(0))
    diff = out - x
    assert torch.allclose(diff, diff[:, :1].expand_as(diff), atol=1e-5)  # the same curve for a whole sample
    assert torch.allclose(diff[..., 0], diff[..., 1], atol=1e-5)  # and for every frame


@pytest.mark.parametrize("field", ["whiten_bins", "salience_harmonics", "shift_bins", "jitter_bins"])
def test_negative_prior_settings_are_refused(field: str) -> None:
    from v3.errors import DataError

    with pytest.raises(DataError, match=field):
        MusicAdapter().parse_config({field: -1})


def test_recalibrate_checkpoint_renames_atoms_only(tiny_insnotes: Path, tmp_path: Path) -> None:
    from v3.adapters import find_checkpoint
    from v3.checkpoint import read_checkpoint
    from v3music.calibrate import recalibrate_checkpoint

    source = find_checkpoint("insnotes")
    out = recalibrate_checkpoint(source, tmp_path / "renamed.pt", [tiny_insnotes])
    before, after = read_checkpoint(source), read_checkpoint(out)
    assert after.metadata["calibration"]["notes"] == 24
    names = after.metadata["atom_labels"]
    assert len(names) == 12 and set(names) - {-1} <= set(range(60, 72))
    assert all(torch.equal(before.state_dict[k], after.state_dict[k]) for k in before.state_dict)


def test_cli_calibrate_writes_the_new_atom_names(tiny_insnotes: Path, tmp_path: Path) -> None:
    """`v3 music calibrate` on the tiny notes relabelled an octave up: the atoms take the new names."""
    import json
    import shutil

    from click.testing import CliRunner
    from v3_cli.main import cli

    from v3.adapters import find_checkpoint
    from v3.checkpoint import load_model, read_checkpoint
    from v3music.calibrate import calibration_names

    data = tmp_path / "up-an-octave"
    shutil.copytree(tiny_insnotes, data)
    manifest = json.loads((data / "manifest.json").read_text())
    for entry in manifest["files"]:
        entry["pitches"] = [p + 12 for p in entry["pitches"]]  # MIDI 60-71 -> 72-83
    (data / "manifest.json").write_text(json.dumps(manifest))
    out = tmp_path / "renamed.pt"

    result = CliRunner().invoke(cli, ["music", "calibrate", "insnotes", str(out), str(data)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output and "from 24 notes in 1 folder" in result.output
    source = find_checkpoint("insnotes")
    before, after = read_checkpoint(source), read_checkpoint(out)
    names = after.metadata["atom_labels"]
    assert names == calibration_names(load_model(source), [data])[0]
    assert set(before.metadata["atom_labels"]) == set(range(60, 72))
    assert len(set(names) - {-1}) >= 10 and set(names) - {-1} <= set(range(72, 84))
    assert after.metadata["calibration"] == {"folders": [str(data)], "notes": 24}
    assert all(torch.equal(before.state_dict[k], after.state_dict[k]) for k in before.state_dict)


@pytest.mark.parametrize("case", ["missing folder", "existing output", "unknown checkpoint"])
def test_cli_calibrate_bad_input_is_one_line_exit_2(case: str, tiny_insnotes: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner
    from v3_cli.main import cli

    out = tmp_path / "renamed.pt"
    checkpoint, folder, needle = "insnotes", tiny_insnotes, ""
    if case == "missing folder":
        folder, needle = tmp_path / "missing", "does not exist"
    elif case == "existing output":
        out.write_bytes(b"keep me")
        needle = "already exists"
    else:
        checkpoint, needle = "no-such-model", "no such checkpoint"
    result = CliRunner().invoke(cli, ["music", "calibrate", checkpoint, str(out), str(tiny_insnotes), str(folder)])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and needle in lines[0], result.output
    if case == "existing output":
        assert out.read_bytes() == b"keep me"
    else:
        assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ([out.name] if case == "existing output" else [])


def test_random_samples_draw_distinct_notes_of_one_file(tiny_insnotes: Path) -> None:
    adapter = MusicAdapter()
    consecutive = adapter.load_dataset(tiny_insnotes, MusicConfig(fragments_per_sample=6))
    shuffled = adapter.load_dataset(tiny_insnotes, MusicConfig(fragments_per_sample=6, sample_notes="random"))
    assert shuffled.samples.shape == consecutive.samples.shape == (14, 6)
    for row in shuffled.samples.tolist():
        assert len(set(row)) == 6
        assert len({i // 12 for i in row}) == 1  # all notes from one file
    assert not torch.equal(shuffled.samples, consecutive.samples)
    again = adapter.load_dataset(tiny_insnotes, MusicConfig(fragments_per_sample=6, sample_notes="random"))
    assert torch.equal(shuffled.samples, again.samples)  # deterministic


def test_make_data_notes_renders_every_pitch_once_per_cycle(tmp_path) -> None:
    import json

    from click.testing import CliRunner
    from v3_cli.main import cli

    result = CliRunner().invoke(cli, ["music", "make-data", "notes", str(tmp_path / "grid"), "--programs", "0,40",
                                      "--low", "60", "--high", "63", "--cycles", "2", "--quiet"])
    assert result.exit_code == 0, result.output
    files = json.loads((tmp_path / "grid" / "manifest.json").read_text())["files"]
    assert [f["program"] for f in files] == [0, 40]
    for f in files:
        assert sorted(f["pitches"][:4]) == sorted(f["pitches"][4:]) == [60, 61, 62, 63]
        assert f["onsets"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
