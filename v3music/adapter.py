"""The music adapter: InsNotes-style data folders -> log-CQT note fragments."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import librosa
import numpy as np
import torch
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

__all__ = ["MusicAdapter", "MusicConfig", "normalize_fragments"]

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
    """

    sample_rate: int = 16000
    hop_length: int = 256
    fmin_midi: float = 36.0
    n_bins: int = 144
    bins_per_octave: int = 24
    log_floor: float = 1e-4
    fragment_seconds: float = 1.0
    fragment_frames: int = 2
    fragments_per_sample: int = 12
    normalize: bool = True
    hidden: int = 256
    encoder: str = "mlp"
    eq_db: float = 6.0
    labels: str = "written"
    segmentation: str = "manifest"

    def frontend(self) -> FrontEndConfig:
        return FrontEndConfig(
            sample_rate=self.sample_rate,
            hop_length=self.hop_length,
            fmin_midi=self.fmin_midi,
            n_bins=self.n_bins,
            bins_per_octave=self.bins_per_octave,
            log_floor=self.log_floor,
        )


def normalize_fragments(fragments: np.ndarray) -> np.ndarray:
    """Subtract each fragment's mean log value: [N, n_bins, frames] -> same shape."""
    return fragments - fragments.reshape(len(fragments), -1).mean(axis=1)[:, None, None]


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
    """Monophonic notes: content = pitch, style = instrument (timbre)."""

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
            if adapter_config.normalize:
                frags = normalize_fragments(frags)
            n = len(frags)
            if n < f:  # too short to form a sample: skipped (an error if every file is)
                too_short.append(f"{data_dir / entry['path']}: {n} notes, fewer than fragments_per_sample={f}")
                log.warning("skipping %s", too_short[-1])
                continue
            fragments.append(frags)
            content.extend(int(p) for p in pitches)
            style.extend([int(entry["program"])] * n)
            style_names[int(entry["program"])] = str(entry.get("instrument", entry["program"]))
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
        """Random smooth EQ per sample: adds sum_k a_k cos(pi k b / n_bins) to log-CQT bin b."""
        if adapter_config.eq_db <= 0:
            return fragments
        b, _, n_bins, _ = fragments.shape
        scale = adapter_config.eq_db * np.log(10) / 20 / 2  # dB -> natural log amplitude, split over terms
        bins = torch.arange(n_bins, dtype=torch.float32) / n_bins
        k = torch.arange(1, 5, dtype=torch.float32)
        basis = torch.cos(torch.pi * k[:, None] * bins[None])  # [4, n_bins]
        weights = (torch.rand(b, 4, generator=generator) * 2 - 1) * scale
        curve = weights @ basis  # [B, n_bins]
        out = fragments + curve[:, None, :, None]
        if adapter_config.normalize:
            out = out - out.flatten(2).mean(dim=2)[..., None, None]
        return out

    def shipped_checkpoints(self) -> dict[str, Path]:
        folder = Path(__file__).parent / "checkpoints"
        return {p.stem: p for p in sorted(folder.glob("*.pt"))}
