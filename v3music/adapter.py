"""The music adapter: InsNotes-style data folders -> log-CQT note fragments."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import librosa
import numpy as np
import torch
from scipy.ndimage import uniform_filter1d
from torch import nn

from v3.adapters import Adapter
from v3.config import (
    ExperimentConfig,
    LossConfig,
    ModelConfig,
    QuantizerConfig,
    TrainConfig,
    from_dict,
)
from v3.data import FragmentDataset
from v3.errors import DataError

from .audio import load_audio
from .backbones import ConvEncoder, MLPDecoder, MLPEncoder
from .frontend import FrontEndConfig, log_cqt, note_fragments
from .segment import segment_notes
from .synth import read_manifest

__all__ = ["MusicAdapter", "MusicConfig", "normalize_fragments", "prepare_fragments"]

log = logging.getLogger(__name__)


@dataclass
class MusicConfig:
    """Settings of the music adapter (front end, fragments, backbone).

    Attributes
    ----------
    sample_rate, hop_length, fmin_midi, n_bins, bins_per_octave, log_floor
        Front end (see :class:`v3music.frontend.FrontEndConfig`).
    fragment_seconds : float
        Length of one note fragment, from its onset.
    fragment_frames : int
        Time steps a fragment is average-pooled to.
    fragments_per_sample : int
        F: consecutive notes of one file that form a sample.
    normalize : bool
        Subtract each fragment's mean log value (loudness invariance).
    hidden : int
        Width of the MLP backbones.
    encoder : str
        ``"mlp"`` (flattened fragment) or ``"conv"`` (convolutions along
        log-frequency first, see :class:`v3music.backbones.ConvEncoder`).
    eq_db : float
        Training augmentation: each sample gets a random smooth spectral
        tilt/EQ of up to about this many dB (the same for all its fragments,
        so it acts as a change of instrument); 0 disables.
    labels : str
        ``"written"`` (the MIDI note played) or ``"sounding"`` (the pitch
        measured in the rendered audio, rounded) for evaluation labels.
    segmentation : str
        ``"manifest"``: one fragment per note of the manifest (InsNotes,
        fragments aligned with the notes as in the paper); ``"detected"``:
        notes found in the audio by :func:`v3music.segment.segment_notes`,
        exactly as ``v3 transcribe`` cuts them (the manifest then only labels
        them, for naming atoms and evaluation).
    whiten_bins : int
        Spectral whitening (a timbre-invariance prior): subtract from each
        log-CQT column its moving average over this many bins, so the
        spectral envelope is removed and the harmonic peaks remain; 0
        disables. Applied before ``salience_harmonics``.
    salience_harmonics : int
        Harmonic-sum front end: bin b becomes the mean of the log values at
        the bins of harmonics 1..H above it (b + round(bins_per_octave *
        log2 h)), a pitch-salience prior; 0 disables.
    shift_bins : int
        Training augmentation: each sample is transposed by a random whole
        number of semitones (steps of bins_per_octave / 12 bins) up to this
        many bins either way, the same for all its fragments (a new
        instrument with shifted formants); 0 disables.
    jitter_bins : int
        Training augmentation: each fragment is shifted by a random number
        of bins in [-jitter_bins, jitter_bins] (detuning); 0 disables.
    sample_notes : str
        How the F fragments of a sample are chosen among one file's notes:
        ``"consecutive"`` (every run of F neighbouring notes) or ``"random"``
        (as many samples, each F distinct notes of the file drawn at random,
        fixed seed per file), so a sample spans the file's whole pitch range
        instead of the register a melody happens to be in.

    Examples
    --------
    >>> cfg = MusicConfig(fragments_per_sample=6, encoder="conv")
    >>> cfg.frontend().frame_rate  # CQT frames per second
    62.5
    >>> MusicAdapter().parse_config({"fragments_per_sample": 6, "encoder": "conv"}) == cfg
    True
    """

    # the front end's fields, flat so that `--set adapter.hop_length=...` works; defaults from FrontEndConfig
    sample_rate: int = FrontEndConfig.sample_rate
    hop_length: int = FrontEndConfig.hop_length
    fmin_midi: float = FrontEndConfig.fmin_midi
    n_bins: int = FrontEndConfig.n_bins
    bins_per_octave: int = FrontEndConfig.bins_per_octave
    log_floor: float = FrontEndConfig.log_floor
    fragment_seconds: float = 1.0
    fragment_frames: int = 2
    fragments_per_sample: int = 12
    normalize: bool = True
    hidden: int = 256
    encoder: str = "mlp"
    eq_db: float = 6.0
    labels: str = "written"
    segmentation: str = "manifest"
    whiten_bins: int = 0
    salience_harmonics: int = 0
    shift_bins: int = 0
    jitter_bins: int = 0
    sample_notes: str = "consecutive"

    def frontend(self) -> FrontEndConfig:
        """The front-end part of these settings.

        Returns
        -------
        FrontEndConfig
            Sample rate (Hz), hop (samples), lowest bin (MIDI number), bins.

        Examples
        --------
        >>> fe = MusicConfig().frontend()
        >>> fe.sample_rate, fe.hop_length, fe.fmin_midi, fe.n_bins  # 6 octaves from C2, 24 bins each
        (16000, 256, 36.0, 144)
        """
        return FrontEndConfig(**{f.name: getattr(self, f.name) for f in fields(FrontEndConfig)})


def normalize_fragments(fragments: np.ndarray) -> np.ndarray:
    """Subtract each fragment's mean log value: [N, n_bins, frames] -> same shape."""
    return fragments - fragments.reshape(len(fragments), -1).mean(axis=1)[:, None, None]


def whiten_fragments(fragments: np.ndarray, bins: int) -> np.ndarray:
    """Subtract the moving average over ``bins`` frequency bins: [N, n_bins, frames] -> same shape.

    Examples
    --------
    >>> x = np.ones((1, 8, 2), np.float32)
    >>> float(np.abs(whiten_fragments(x, 3)).max())
    0.0
    """
    smooth = uniform_filter1d(fragments.astype(np.float32), size=bins, axis=1, mode="nearest")
    return (fragments - smooth).astype(np.float32)


def harmonic_salience(fragments: np.ndarray, harmonics: int, bins_per_octave: int) -> np.ndarray:
    """Mean log value at harmonics 1..H above each bin: [N, n_bins, frames] -> same shape.

    Harmonics past the top bin are left out of the mean (so the map is linear).

    Examples
    --------
    >>> x = np.zeros((1, 60, 1), np.float32); x[0, [10, 34, 48], 0] = 1.0  # f0 at bin 10, 24 bins/octave
    >>> int(np.argmax(harmonic_salience(x, 3, 24)[0, :, 0]))
    10
    """
    n_bins = fragments.shape[1]
    total = np.zeros_like(fragments, dtype=np.float32)
    count = np.zeros((1, n_bins, 1), np.float32)
    for h in range(1, harmonics + 1):
        off = int(np.round(bins_per_octave * np.log2(h)))
        if off >= n_bins:
            break
        total[:, : n_bins - off] += fragments[:, off:]
        count[:, : n_bins - off] += 1
    return total / count


def prepare_fragments(fragments: np.ndarray, config: MusicConfig) -> np.ndarray:
    """The model's input from pooled log-CQT fragments [N, n_bins, frames]: whitening, salience, normalisation.

    Every step is linear in the log values, so a spectral curve added before
    it (EQ augmentation) can be added after it as ``prepare_fragments(curve)``.
    Training data and transcription both go through this function.
    """
    out = fragments
    if config.whiten_bins > 0:
        out = whiten_fragments(out, config.whiten_bins)
    if config.salience_harmonics > 0:
        out = harmonic_salience(out, config.salience_harmonics, config.bins_per_octave)
    if config.normalize:
        out = normalize_fragments(out)
    return out


def shift_bins(fragments: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Move each fragment up by ``shifts`` bins: [B, F, n_bins, frames], shifts [B, F] (int) -> same shape.

    Bins shifted in from outside take the fragment's minimum value.

    Examples
    --------
    >>> x = torch.arange(4.0).reshape(1, 1, 4, 1)
    >>> shift_bins(x, torch.tensor([[1]]))[0, 0, :, 0].tolist()
    [0.0, 0.0, 1.0, 2.0]
    """
    b, f, n_bins, frames = fragments.shape
    floor = fragments.flatten(2).min(dim=2).values[..., None, None]
    index = torch.arange(n_bins)[None, None, :] - shifts[..., None]  # source bin of each output bin
    valid = (index >= 0) & (index < n_bins)
    gathered = torch.gather(fragments, 2, index.clamp(0, n_bins - 1)[..., None].expand(b, f, n_bins, frames))
    return torch.where(valid[..., None], gathered, floor.expand_as(gathered))


def label_detected_notes(onsets: np.ndarray, ref_onsets: np.ndarray, ref_offsets: np.ndarray,
                         ref_pitches: np.ndarray, *, tolerance: float = 0.05) -> list[int]:
    """Label detected notes with the pitch of the reference note sounding just after their onset.

    A detected onset t gets the pitch of the latest reference note with
    onset <= t + ``tolerance`` and offset > t + ``tolerance``; -1 (unknown)
    when none is sounding. Labels only name atoms and score; they never train.

    Examples
    --------
    >>> label_detected_notes(np.array([0.0, 1.02, 3.0]), np.array([0.0, 1.0]), np.array([0.9, 2.0]), np.array([60, 62]))
    [60, 62, -1]
    """
    labels = []
    for t in onsets:
        probe = t + tolerance
        sounding = np.flatnonzero((ref_onsets <= probe) & (ref_offsets > probe))
        labels.append(int(ref_pitches[sounding[-1]]) if sounding.size else -1)
    return labels


class MusicAdapter(Adapter):
    """Monophonic notes: content = pitch, style = instrument (timbre).

    Registered as ``music`` in the ``v3.adapters`` entry points; its data
    folders are written by ``v3 music make-data``. Fragments are log-CQT
    note fragments [n_bins, fragment_frames].

    Examples
    --------
    >>> import torch
    >>> from v3 import get_adapter
    >>> adapter = get_adapter("music")
    >>> config = adapter.default_config()
    >>> cfg = adapter.parse_config(config.adapter_config)
    >>> adapter.fragment_shape(cfg)  # (n_bins, frames)
    (144, 2)
    >>> encoder, decoder = adapter.build_backbones(cfg, config.model)
    >>> encoder(torch.zeros(3, 144, 2)).shape  # [N, hidden]
    torch.Size([3, 256])
    >>> sorted(adapter.shipped_checkpoints())
    ['insnotes', 'melody', 'timbre']
    """

    name = "music"
    description = "audio notes: log-CQT fragments, content = pitch, style = instrument"

    def default_config(self) -> ExperimentConfig:
        return ExperimentConfig(
            adapter=self.name,
            model=ModelConfig(content_dim=16, style_dim=16, quantizer=QuantizerConfig(codebook_size=12, underuse_fraction=0.5)),
            loss=LossConfig(),
            train=TrainConfig(steps=1500, batch_size=32, kmeans_refit_steps=(300, 1000)),
            adapter_config=asdict(MusicConfig()),
        )

    def parse_config(self, data: dict[str, Any]) -> MusicConfig:
        cfg = from_dict(MusicConfig, data, where="adapter_config")
        if cfg.encoder not in ("mlp", "conv"):
            raise DataError(f"adapter_config.encoder must be 'mlp' or 'conv', got {cfg.encoder!r}")
        if cfg.segmentation not in ("manifest", "detected"):
            raise DataError(f"adapter_config.segmentation must be 'manifest' or 'detected', got {cfg.segmentation!r}")
        if cfg.labels not in ("written", "sounding"):
            raise DataError(f"adapter_config.labels must be 'written' or 'sounding', got {cfg.labels!r}")
        if cfg.sample_notes not in ("consecutive", "random"):
            raise DataError(f"adapter_config.sample_notes must be 'consecutive' or 'random', got {cfg.sample_notes!r}")
        for name in ("whiten_bins", "salience_harmonics", "shift_bins", "jitter_bins"):
            if getattr(cfg, name) < 0:
                raise DataError(f"adapter_config.{name} must be >= 0, got {getattr(cfg, name)}")
        return cfg

    def fragment_shape(self, adapter_config: MusicConfig) -> tuple[int, ...]:
        return (adapter_config.n_bins, adapter_config.fragment_frames)

    def build_backbones(self, adapter_config: MusicConfig, model_config: ModelConfig) -> tuple[nn.Module, nn.Module]:
        shape = self.fragment_shape(adapter_config)
        if adapter_config.encoder == "conv":
            encoder: nn.Module = ConvEncoder(shape, hidden=adapter_config.hidden)
        else:
            encoder = MLPEncoder(shape, hidden=adapter_config.hidden)
        decoder = MLPDecoder(model_config.content_dim + model_config.style_dim, shape, hidden=adapter_config.hidden)
        return encoder, decoder

    def frontend_settings(self, adapter_config: MusicConfig) -> dict[str, Any]:
        return {
            **adapter_config.frontend().to_dict(),
            "fragment_seconds": adapter_config.fragment_seconds,
            "fragment_frames": adapter_config.fragment_frames,
            "normalize": adapter_config.normalize,
            "whiten_bins": adapter_config.whiten_bins,
            "salience_harmonics": adapter_config.salience_harmonics,
        }

    def load_dataset(self, data_dir: Path, adapter_config: MusicConfig) -> FragmentDataset:
        """Load a folder written by ``v3 music make-data insnotes``.

        Each sample is ``fragments_per_sample`` consecutive notes of one file
        (one instrument); every start position gives a sample.
        """
        data_dir = Path(data_dir)
        manifest = read_manifest(data_dir)
        frontend = adapter_config.frontend()
        fragments: list[np.ndarray] = []
        content: list[int] = []
        style: list[int] = []
        samples: list[list[int]] = []
        style_names: dict[int, str] = {}
        too_short: list[str] = []
        offset = 0
        f = adapter_config.fragments_per_sample
        for entry in manifest["files"]:
            audio = load_audio(data_dir / entry["path"], sr=frontend.sample_rate)
            features = log_cqt(audio, frontend)
            if adapter_config.labels == "sounding":
                pitches = [round(p) if p is not None else -1 for p in entry["sounding_pitches"]]
            else:
                pitches = list(entry["pitches"])
            if adapter_config.segmentation == "detected":
                found = segment_notes(audio, features, frontend)
                onsets = found.onsets / frontend.frame_rate
                durations: np.ndarray | None = (found.offsets - found.onsets) / frontend.frame_rate
                pitches = label_detected_notes(onsets, np.asarray(entry["onsets"]), np.asarray(entry["offsets"]),
                                               np.asarray(pitches))
            else:
                onsets = np.asarray(entry["onsets"], dtype=np.float64)
                durations = None
            frags = note_fragments(features, onsets, frame_rate=frontend.frame_rate,
                                   seconds=adapter_config.fragment_seconds, frames=adapter_config.fragment_frames,
                                   durations=durations)
            frags = prepare_fragments(frags, adapter_config)
            n = len(frags)
            if n < f:  # too short to form a sample: skipped (an error if every file is)
                too_short.append(f"{data_dir / entry['path']}: {n} notes, fewer than fragments_per_sample={f}")
                log.warning("skipping %s", too_short[-1])
                continue
            fragments.append(frags)
            content.extend(int(p) for p in pitches)
            style.extend([int(entry["program"])] * n)
            style_names[int(entry["program"])] = str(entry.get("instrument", entry["program"]))
            if adapter_config.sample_notes == "random":
                rng = np.random.default_rng(len(fragments))  # one seed per kept file
                samples.extend([sorted((offset + rng.choice(n, f, replace=False)).tolist()) for _ in range(n - f + 1)])
            else:
                samples.extend([list(range(offset + s, offset + s + f)) for s in range(n - f + 1)])
            offset += n
        if not fragments:
            raise DataError(too_short[0] if too_short else f"{data_dir}: no files")
        content_ids = sorted({c for c in content if c >= 0})
        return FragmentDataset(
            fragments=torch.from_numpy(np.concatenate(fragments).astype(np.float32)),
            samples=torch.tensor(samples, dtype=torch.int64),
            content_labels=torch.tensor(content, dtype=torch.int64),
            style_labels=torch.tensor(style, dtype=torch.int64),
            content_names={p: librosa.midi_to_note(p, unicode=False) for p in content_ids},
            style_names=style_names,
        )

    def augment(self, fragments: torch.Tensor, adapter_config: MusicConfig, generator: torch.Generator) -> torch.Tensor:
        """Training augmentation of a batch [B, F, n_bins, frames].

        Random smooth EQ per sample (adds sum_k a_k cos(pi k b / n_bins) to
        log-CQT bin b, passed through the same linear front-end steps as the
        data), then the optional transposition per sample (``shift_bins``) and
        detuning per fragment (``jitter_bins``).
        """
        cfg = adapter_config
        out = fragments
        b, f, n_bins, _ = fragments.shape
        if cfg.eq_db > 0:
            scale = cfg.eq_db * np.log(10) / 20 / 2  # dB -> natural log amplitude, split over terms
            bins = torch.arange(n_bins, dtype=torch.float32) / n_bins
            k = torch.arange(1, 5, dtype=torch.float32)
            basis = torch.cos(torch.pi * k[:, None] * bins[None])  # [4, n_bins]
            weights = (torch.rand(b, 4, generator=generator) * 2 - 1) * scale
            curve = (weights @ basis)[:, :, None]  # [B, n_bins, 1]
            if cfg.whiten_bins > 0 or cfg.salience_harmonics > 0:
                curve = torch.from_numpy(prepare_fragments(curve.numpy(), cfg))
            elif cfg.normalize:
                curve = curve - curve.mean(dim=1, keepdim=True)
            out = out + curve[:, None].to(out.dtype)
        if cfg.shift_bins > 0:
            step = max(cfg.bins_per_octave // 12, 1)
            most = cfg.shift_bins // step
            shifts = torch.randint(-most, most + 1, (b,), generator=generator) * step
            out = shift_bins(out, shifts[:, None].expand(b, f))
        if cfg.jitter_bins > 0:
            shifts = torch.randint(-cfg.jitter_bins, cfg.jitter_bins + 1, (b, f), generator=generator)
            out = shift_bins(out, shifts)
        if cfg.normalize and (cfg.shift_bins > 0 or cfg.jitter_bins > 0):
            out = out - out.flatten(2).mean(dim=2)[..., None, None]
        return out

    def name_fragments(self, loaded: Any, fragments: torch.Tensor) -> np.ndarray | None:
        """MIDI names that ``v3 transcribe`` gives aligned fragments: for a codebook that spans
        less than an octave, by transposition search over MIDI 36-84
        (:meth:`v3music.notes.NoteEncoder.name_fragments`); None otherwise."""
        from .notes import NoteEncoder

        encoder = NoteEncoder(loaded)
        if len(encoder.moves) == 1:
            return None
        return encoder.name_fragments(fragments.numpy())

    def shipped_checkpoints(self) -> dict[str, Path]:
        folder = Path(__file__).parent / "checkpoints"
        return {p.stem: p for p in sorted(folder.glob("*.pt"))}
