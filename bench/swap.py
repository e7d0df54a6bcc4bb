"""Timbre-swap and timbre-embedding bench.

Run from the repository root::

    python bench/swap.py [--checkpoint NAME] [--n-triples 36] [--seed 0] [--out results.json]

1. **Triples.** ``--n-triples`` (a, b, target): a = melody X on program P,
   b = melody Y on program Q, target = melody X on program Q, all rendered
   with midirenderer and TimGM6mb (or ``--soundfont``) at 16 kHz. X and Y are random melodies
   (free rhythm, rests, repeated notes) in ``--low``..``--high``. P and Q are
   distinct programs drawn from ``--programs``: by default 6 of the model's
   training programs and 6 programs it never heard.
2. **Rows**, all scored against the target: ``identity`` (result = a),
   ``match-eq`` (a reference without V3: a static EQ giving a the average
   spectrum of b, see :func:`match_eq`), each swap method of
   :func:`v3music.swap.timbre_swap`, and ``oracle`` (result = target).
3. **Metrics**: log-mel L1 distance to the target (dB, 64 mel bands, 16 ms
   hop, mean over cells); "gap closed" = 1 - L1 / L1(identity), so the
   oracle closes 1.0 and a does 0.0; note F1 (mir_eval, onsets within 50 ms,
   pitch within 50 cents, offsets ignored) of ``v3 transcribe`` (its default
   model, whatever model makes the swap) on the result against X's notes; timbre: a classifier trained by this bench on separate
   renders (other melodies) of every program of ``--programs`` (MFCC mean and
   standard deviation, logistic regression) predicts Q (for the identity row
   the fraction predicted P is printed beside it).
4. **Embeddings**: leave-one-out 1-nearest-neighbour instrument accuracy
   (cosine) of :func:`v3music.timbre.TimbreModel.embed` over 4 new melodies of
   each program, reported for training programs and unseen ones separately.
5. A plain-text table on stdout, everything in ``--out`` (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import librosa
import mir_eval
import numpy as np

from v3.fileio import atomic_write
from v3music.melodies import melody_midi, random_melody
from v3music.swap import SWAP_METHODS, timbre_swap
from v3music.synth import render_midi
from v3music.timbre import DEFAULT_CHECKPOINT, TimbreModel, cosine_similarity
from v3music.transcribe import DEFAULT_CHECKPOINT as TRANSCRIBE_CHECKPOINT
from v3music.transcribe import Transcriber

SR = 16000
#: Programs of the shipped models' training sets (insnotes and timbre; a subset) and programs neither heard.
SEEN_PROGRAMS: tuple[int, ...] = (64, 19, 21, 41, 56, 71)
UNSEEN_PROGRAMS: tuple[int, ...] = (0, 4, 11, 40, 42, 73)
MELODY_SECONDS = 8.0


def render(notes: list[tuple[float, float, int, int]], program: int, soundfont: Path | None = None) -> np.ndarray:
    """Mono float32 audio at :data:`SR` of ``notes`` played by GM ``program`` (of ``soundfont``, default TimGM6mb)."""
    return render_midi(melody_midi(notes, program), soundfont=soundfont, sr=SR)


def log_mel(y: np.ndarray) -> np.ndarray:
    """Log-mel spectrogram [64, frames] in dB (power, floor 1e-10)."""
    mel = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=1024, hop_length=256, n_mels=64)
    return 10.0 * np.log10(np.maximum(mel, 1e-10))


def log_mel_l1(y: np.ndarray, target: np.ndarray) -> float:
    """Mean absolute log-mel difference (dB) over the frames both signals cover, floor -80 dB below target peak."""
    a, b = log_mel(y), log_mel(target)
    n = min(a.shape[1], b.shape[1])
    floor = b.max() - 80.0
    return float(np.mean(np.abs(np.maximum(a[:, :n], floor) - np.maximum(b[:, :n], floor))))


def mfcc_features(y: np.ndarray) -> np.ndarray:
    """Instrument-classifier features: mean and std of 20 MFCCs and their deltas [80]."""
    m = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=20)
    d = librosa.feature.delta(m)
    return np.concatenate([m.mean(1), m.std(1), d.mean(1), d.std(1)])


def note_f1(notes: list[tuple[float, float, int, int]], y: np.ndarray, transcriber: Transcriber) -> float:
    """mir_eval note F1 (onset 50 ms, pitch 50 cents, no offsets) of transcribing ``y`` against ``notes``."""
    est = transcriber.transcribe(y, SR).notes
    ref_i = np.array([[a, b] for a, b, _, _ in notes])
    ref_p = librosa.midi_to_hz(np.array([p for _, _, p, _ in notes]))
    if not est:
        return 0.0
    est_i = np.array([[n.onset, max(n.offset, n.onset + 1e-3)] for n in est])
    est_p = librosa.midi_to_hz(np.array([n.pitch for n in est]))
    _, _, f1, _ = mir_eval.transcription.precision_recall_f1_overlap(ref_i, ref_p, est_i, est_p, offset_ratio=None)
    return float(f1)


def train_classifier(programs: Sequence[int], rng: np.random.Generator, *, low: int, high: int, per_program: int = 6,
                     soundfont: Path | None = None):
    """MFCC-statistics + logistic-regression instrument classifier on fresh renders."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    feats, labels = [], []
    for p in programs:
        for _ in range(per_program):
            melody = random_melody(rng, low=low, high=high, seconds=MELODY_SECONDS)
            feats.append(mfcc_features(render(melody, p, soundfont)))
            labels.append(p)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
    clf.fit(np.array(feats), np.array(labels))
    return clf


def embedding_knn(tm: TimbreModel, programs: Sequence[int], rng: np.random.Generator, *, low: int, high: int,
                  per_program: int = 4, soundfont: Path | None = None) -> float:
    """Leave-one-out 1-NN (cosine) instrument accuracy of timbre embeddings of fresh renders (NaN for < 2 programs)."""
    if len(programs) < 2:
        return float("nan")
    embs, labels = [], []
    for p in programs:
        for _ in range(per_program):
            y = render(random_melody(rng, low=low, high=high, seconds=MELODY_SECONDS), p, soundfont)
            embs.append(tm.embed(y, SR))
            labels.append(p)
    e = np.stack(embs)
    sims = cosine_similarity(e[:, None], e[None])
    np.fill_diagonal(sims, -np.inf)
    return float(np.mean(np.array(labels)[sims.argmax(1)] == np.array(labels)))


def match_eq(a: np.ndarray, b: np.ndarray, tm: TimbreModel) -> np.ndarray:
    """Reference without V3: a static EQ that gives a the average log-CQT spectrum of b ("match EQ").

    Mean log-CQT over the frames within 40 dB of each recording's loudest frame,
    smoothed over one semitone; the difference (b - a) is applied to a's STFT
    with a's phase, as the V3 filter does.
    """
    from v3music.frontend import log_cqt
    from v3music.swap import _bins_to_stft, _gain, _stft_blocks

    fe = tm.notes.frontend

    def average(y: np.ndarray) -> np.ndarray:
        f = log_cqt(y, fe)
        level = f.max(axis=0)
        return f[:, level > level.max() - 40.0 * np.log(10) / 20].mean(axis=1)

    delta = np.convolve(average(b) - average(a), np.ones(3) / 3, mode="same")
    gain = _gain(_bins_to_stft(delta[:, None].astype(np.float32), fmin_midi=fe.fmin_midi,
                               bins_per_octave=fe.bins_per_octave, sr=SR, n_fft=1024))  # [bins, 1]: static
    out = _stft_blocks([a], lambda specs, first: specs[0] * gain, n_fft=1024, hop=256, block=len(a))
    return out * min(1.0, 0.99 / max(float(np.abs(out).max()), 1e-9))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT, help="music checkpoint (file or shipped name)")
    p.add_argument("--transcribe-checkpoint", default=TRANSCRIBE_CHECKPOINT,
                   help="model that transcribes the results for note F1 (default: v3 transcribe's)")
    p.add_argument("--n-triples", type=int, default=36, help="number of (a, b, target) triples (default 36)")
    p.add_argument("--seed", type=int, default=0, help="random seed of melodies and programs (default 0)")
    p.add_argument("--low", type=int, default=60, help="lowest MIDI pitch of the melodies (default 60)")
    p.add_argument("--high", type=int, default=71, help="highest MIDI pitch of the melodies (default 71)")
    p.add_argument("--seen", default=",".join(map(str, SEEN_PROGRAMS)),
                   help="comma-separated training programs of the model used in triples")
    p.add_argument("--unseen", default=",".join(map(str, UNSEEN_PROGRAMS)),
                   help="comma-separated programs the model never heard")
    p.add_argument("--methods", default=",".join(SWAP_METHODS), help="swap methods to run (comma-separated)")
    p.add_argument("--soundfont", type=Path, default=None,
                   help="render every program with this .sf2 instead of TimGM6mb (e.g. bench.sf2 from "
                        "bench/make_soundfont.py, with --seen '' --unseen 0,1,2,3)")
    p.add_argument("--out", type=Path, default=None, help="write all numbers as JSON here")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    seen = [int(v) for v in args.seen.split(",") if v]
    unseen = [int(v) for v in args.unseen.split(",") if v]
    programs = seen + unseen
    methods = [m for m in args.methods.split(",") if m]
    rng = np.random.default_rng(args.seed)
    tm = TimbreModel(args.checkpoint)
    transcriber = Transcriber(args.transcribe_checkpoint)
    t0 = time.perf_counter()
    clf = train_classifier(programs, rng, low=args.low, high=args.high, soundfont=args.soundfont)
    print(f"classifier trained on {6 * len(programs)} renders in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    rows: dict[str, list[dict[str, Any]]] = {r: [] for r in ["identity", "match-eq", *methods, "oracle"]}
    swap_seconds: dict[str, float] = {m: 0.0 for m in methods}
    audio_seconds = 0.0
    for i in range(args.n_triples):
        p, q = (int(v) for v in rng.choice(programs, size=2, replace=False))
        x = random_melody(rng, low=args.low, high=args.high, seconds=MELODY_SECONDS)
        y = random_melody(rng, low=args.low, high=args.high, seconds=MELODY_SECONDS)
        a, b, target = (render(m, prog, args.soundfont) for m, prog in ((x, p), (y, q), (x, q)))
        audio_seconds += len(a) / SR
        results = {"identity": a, "match-eq": match_eq(a, b, tm), "oracle": target}
        for m in methods:
            t = time.perf_counter()
            results[m] = timbre_swap(a, b, SR, model=tm, method=m)
            swap_seconds[m] += time.perf_counter() - t
        for name, result in results.items():
            predicted = int(clf.predict(mfcc_features(result)[None])[0])
            rows[name].append({"triple": i, "P": p, "Q": q, "q_unseen": q in unseen,
                               "log_mel_l1": log_mel_l1(result, target),
                               "note_f1": note_f1(x, result, transcriber),
                               "predicted": predicted})
        print(f"triple {i + 1}/{args.n_triples}: P={p} Q={q}", file=sys.stderr)

    summary = {}
    identity_l1 = np.array([r["log_mel_l1"] for r in rows["identity"]])
    for name, rs in rows.items():
        l1 = np.array([r["log_mel_l1"] for r in rs])
        unseen_q = np.array([r["q_unseen"] for r in rs])
        summary[name] = {
            "log_mel_l1_db": float(l1.mean()),
            "gap_closed": float(1.0 - l1.mean() / identity_l1.mean()),
            "gap_closed_unseen_q": float(1.0 - l1[unseen_q].mean() / identity_l1[unseen_q].mean()),
            "note_f1": float(np.mean([r["note_f1"] for r in rs])),
            "classified_q": float(np.mean([r["predicted"] == r["Q"] for r in rs])),
            "classified_p": float(np.mean([r["predicted"] == r["P"] for r in rs])),
        }
        if name in swap_seconds:
            summary[name]["speed_x_realtime"] = audio_seconds / swap_seconds[name]
    knn = {"seen": embedding_knn(tm, seen, rng, low=args.low, high=args.high, soundfont=args.soundfont),
           "unseen": embedding_knn(tm, unseen, rng, low=args.low, high=args.high, soundfont=args.soundfont)}

    cols = ["log_mel_l1_db", "gap_closed", "gap_closed_unseen_q", "note_f1", "classified_q", "classified_p",
            "speed_x_realtime"]
    print(f"\n{args.n_triples} triples, programs seen {seen}, unseen {unseen}, pitches {args.low}-{args.high}, "
          f"checkpoint {args.checkpoint}, load average {os.getloadavg()[0]:.2f}")
    print(f"{'row':<12}" + "".join(f"{c:>20}" for c in cols))
    for name, s in summary.items():
        print(f"{name:<12}" + "".join(f"{s[c]:>20.3f}" if c in s else f"{'-':>20}" for c in cols))
    print(f"\ntimbre-embedding 1-NN instrument accuracy (4 melodies per program): "
          f"training programs {knn['seen']:.3f}, unseen programs {knn['unseen']:.3f}")
    report = {"args": {k: str(v) for k, v in vars(args).items()}, "summary": summary, "embedding_knn": knn,
              "rows": rows}
    if args.out is not None:
        atomic_write(args.out, lambda tmp: tmp.write_text(json.dumps(report, indent=2)))
    return report


if __name__ == "__main__":
    main()
