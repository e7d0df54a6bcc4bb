"""Notes of a recording and their V3 encodings: the stage transcription and timbre share.

audio (mono, the model's rate) -> log-CQT -> notes (:func:`v3music.segment.segment_notes`)
-> one note-aligned fragment per note -> content code, quantised content and
style vector of each note.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from v3.adapters import find_checkpoint
from v3.checkpoint import LoadedModel, load_model
from v3.errors import InputError

from .adapter import MusicAdapter, MusicConfig, prepare_fragments, shift_bins
from .frontend import log_cqt, note_fragments, without_steady_tones
from .intervals import DEFAULT_PITCH_CONTEXT, consensus_pitches, profile_shift
from .segment import DEFAULT_ONSET_SENSITIVITY, MIN_ARTICULATION_DB, MIN_ATTACK_FLUX, segment_notes

__all__ = ["EncodedNotes", "NoteEncoder", "join_unarticulated", "join_vibrato_swings"]

_BATCH = 512

#: MIDI pitches a transcription names by default (C2-C6).
DEFAULT_PITCH_RANGE = (36, 84)
#: Semitones between the transpositions a one-octave codebook is searched over.
DEFAULT_SEARCH_STEP = 12
#: Then every semitone within this many of the best of them is tried too (research log T33).
DEFAULT_REFINE_SEMITONES = 2
#: A name n found by transposition search is moved an octave down when the note's spectrum also
#: holds a partial at n - 12 within OCTAVE_BELOW_DB of its strongest bin and one at n + 7 (the
#: third harmonic of n - 12, which no harmonic of n falls on) within OCTAVE_THIRD_DB: a low note
#: whose upper partials the search matched (research log T50: the choir over MIDI 36-84 0.816 ->
#: 0.918 named, the oboe 0.918 -> 0.959; the 8 unseen programs unchanged).
OCTAVE_BELOW_DB = 6.0
OCTAVE_THIRD_DB = 12.0
#: A part at most OCTAVE_ATTACK_SECONDS long, split from the note that follows it with no
#: articulation (a legato split) and named an octave from it, is that note's attack: TimGM6mb's
#: bassoon reads an octave low for its first 64 ms. It is joined to the note and takes its name
#: (research log T87: the bassoon at C4-B4 0.832 -> 0.928 note F1, a plucked voice's note; no
#: other dev set changed).
OCTAVE_ATTACK_SECONDS = 0.1
#: A note that follows another with no gap and takes that note's name may be a new pitch that
#: the previous note, still ringing, drowned. Such a note is named again from what rose at its
#: onset: its log-CQT frames with the mean magnitude of the RISE_BEFORE_FRAMES frames before the
#: onset taken away. The new name is kept when that rise holds at least RISE_SHARE of the note's
#: energy (RISE_SHARE_UNARTICULATED for a note with an onset flux under MIN_ATTACK_FLUX times the
#: recording's typical, which the join would otherwise fold into the note before it) and lies
#: less than an octave from the old one: a note played again at its pitch also rises, brighter,
#: and its rise is then named by a harmonic, an octave or more away (research log T74, T75).
#: A vibrato can swing a held note's spectrum far enough for the detector to cut the note and for
#: a part to be named a semitone away. A run of unarticulated parts, each at most
#: VIBRATO_SWING_SECONDS long, named a semitone from the held note and with a spectrum within
#: VIBRATO_SWING_CENTS of its (a semitone moves it 100), which the next part returns to, is joined
#: into the held note (research log T117: a sung vowel +0.007 note F1, 30-cent vibrato +0.004, no
#: check set lower).
VIBRATO_SWING_SECONDS = 0.25
VIBRATO_SWING_CENTS = 50.0
RISE_BEFORE_FRAMES = 3
RISE_SHARE = 0.1
RISE_SHARE_UNARTICULATED = 0.2
RISE_GAP_FRAMES = 2
#: A rise after a release named like the note before it is that note's release swelling, and is
#: dropped, unless it begins at least REPLAY_GAP_SECONDS after the note before was heard to end and
#: peaks within REPLAY_DB of that note's peak: then it is the note played again, and it stays
#: (research log T123: 3 of the 277 such rises on the 43 check sets, all real repeats; within 6 dB,
#: 5 real and 6 swells).
REPLAY_GAP_SECONDS = 0.02
REPLAY_DB = 4.0


def octave_below(fragments: np.ndarray, names: np.ndarray, *, fmin_midi: float, bins_per_semitone: int,
                 lowest: int, below_db: float = OCTAVE_BELOW_DB, third_db: float = OCTAVE_THIRD_DB) -> np.ndarray:
    """The names [N] with each moved an octave down where the fragment says the note is an octave lower.

    A harmonic note n has partials at n, n + 12, n + 19, n + 24, ...; one an
    octave lower also at n - 12 and n + 7. Where a fragment's mean log-CQT
    [n_bins, frames] (natural log of magnitude, any offset) reaches, within
    one bin, ``below_db`` of its maximum at n - 12 and ``third_db`` at n + 7,
    the name becomes n - 12 (never below ``lowest``; negative names stay).

    Examples
    --------
    >>> bins = np.full((1, 144, 2), -10.0)  # 24 bins per octave from MIDI 36
    >>> for midi, db in ((48, 0.0), (60, -3.0), (67, -8.0)):  # C3 with its 2nd and 3rd harmonics
    ...     bins[0, 2 * (midi - 36)] = db / 8.686
    >>> octave_below(bins, np.array([60]), fmin_midi=36, bins_per_semitone=2, lowest=36).tolist()
    [48]
    >>> bins[0, 2 * (67 - 36)] = -10.0  # no third harmonic: an octave, not a low note
    >>> octave_below(bins, np.array([60]), fmin_midi=36, bins_per_semitone=2, lowest=36).tolist()
    [60]
    """
    if len(names) == 0:
        return names
    db = fragments.mean(axis=2) * (20.0 / np.log(10.0))  # [N, bins]
    rows, last = np.arange(len(db)), db.shape[1] - 1

    def level_at(midi: np.ndarray) -> np.ndarray:  # the loudest of the 3 bins around each note's MIDI pitch
        centre = np.round((midi - fmin_midi) * bins_per_semitone).astype(int)
        return np.max([db[rows, np.clip(centre + d, 0, last)] for d in (-1, 0, 1)], axis=0)

    top = db.max(axis=1)
    lower = ((names >= 0) & (names - 12 >= lowest) & (level_at(names - 12) >= top - below_db)
             & (level_at(names + 7) >= top - third_db))
    return np.where(lower, names - 12, names)


@dataclass
class EncodedNotes:
    """The notes found in a stretch of audio, with their encodings.

    Attributes
    ----------
    onsets, offsets : ndarray[N] (int64)
        Note start and end, in samples of the encoded audio (model's rate).
    peak_db : ndarray[N]
        Loudest short-window level of each note, dB.
    attack_db : ndarray[N]
        Level change where each note starts, dB (:attr:`v3music.segment.Segments.attack_db`).
    attack_flux : ndarray[N]
        Onset flux where each note starts over the recording's typical flux
        (:attr:`v3music.segment.Segments.attack_flux`).
    note_offs : ndarray[N] (int64)
        Where each note is heard to end, in samples, at most ``offsets``
        (:attr:`v3music.segment.Segments.note_offs`).
    after_release : ndarray[N] (bool)
        The note starts where the level rose again after a release, or in the
        held tail after a note-off, not at an onset
        (:attr:`v3music.segment.Segments.after_release`).
    fragments : ndarray[N, n_bins, frames] (float32)
        The model's input for each note (normalised if the model says so).
    codes : ndarray[N] (int64)
        Content atom of each note.
    quantized : ndarray[N, Dc] (float32)
        The atom vectors.
    style : ndarray[N, Ds] (float32)
        Style (timbre) vector of each note.
    starts : ndarray[N] (int64)
        Where each note is heard to begin, in samples, at most ``onsets``
        (:attr:`v3music.segment.Segments.starts`): what a transcription reports.
    """

    onsets: np.ndarray
    offsets: np.ndarray
    peak_db: np.ndarray
    attack_db: np.ndarray
    attack_flux: np.ndarray
    note_offs: np.ndarray
    after_release: np.ndarray
    fragments: np.ndarray
    codes: np.ndarray
    quantized: np.ndarray
    style: np.ndarray
    starts: np.ndarray

    def __len__(self) -> int:
        return len(self.onsets)

    def select(self, keep: np.ndarray) -> EncodedNotes:
        """The notes where the boolean or index array ``keep`` selects."""
        return EncodedNotes(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))


def join_unarticulated(notes: EncodedNotes, names: np.ndarray, *, gap: int, attack: int = 0,
                       min_db: float = MIN_ARTICULATION_DB, min_flux: float = MIN_ATTACK_FLUX,
                       replay_gap: int | None = None,
                       replay_db: float = REPLAY_DB) -> tuple[EncodedNotes, np.ndarray]:
    """Join each note that continues the one before it unarticulated.

    A note is joined to the previous one when both have the same name (>= 0),
    it starts at most ``gap`` samples after the previous one ends, the
    level changes less than ``min_db`` where it starts
    (:attr:`EncodedNotes.attack_db`) and its onset flux is less than
    ``min_flux`` times the recording's typical flux
    (:attr:`EncodedNotes.attack_flux`): one held note that the detector cut
    where only its spectrum flickered. The joined note keeps the first
    part's onset, encoding and fragment, the last part's offset and
    note-off, and the louder peak. A note that starts where the level rose
    again after a release, or in the tail after a note-off
    (:attr:`EncodedNotes.after_release`), and has the same name as the note
    before it is dropped instead: it was that note's release or tail, and
    the note before it keeps its own end; but with ``replay_gap``, one that begins at
    least ``replay_gap`` samples after the note before it is heard to end
    (:attr:`EncodedNotes.note_offs`) and peaks at most ``replay_db`` under it is
    that note played again, and stays as a note of its own. A note at most ``attack`` samples
    long, followed within ``gap`` by a note named an octave from it whose
    level changes less than ``min_db`` where it starts (whatever its flux),
    is that note's attack: the two are joined under the second one's name.

    Parameters
    ----------
    notes : EncodedNotes
    names : ndarray[N] (int)
        MIDI name of each note; negative for none (never joined).
    gap : int
        Largest gap, in samples.
    attack : int
        Longest attack read an octave off, in samples (0: none).
    min_db : float
        Level change that makes a new note.
    min_flux : float
        Relative onset flux that makes a new note.
    replay_gap : int or None
        Smallest gap, in samples, after the note before was heard to end, for a
        rise after a release named like it to be that note played again (None:
        never; such rises are always dropped).
    replay_db : float
        How far under the note before such a rise may peak, in dB.

    Returns
    -------
    notes : EncodedNotes
    names : ndarray[M]

    Examples
    --------
    >>> notes = EncodedNotes(onsets=np.array([0, 100, 200]), offsets=np.array([100, 200, 300]),
    ...                      peak_db=np.array([0.0, 1.0, 0.0]), attack_db=np.array([30.0, 0.5, 0.5]),
    ...                      attack_flux=np.array([9.0, 1.0, 5.0]),  # the third: a soft dip but a strike
    ...                      note_offs=np.array([90, 180, 250]), after_release=np.zeros(3, bool),
    ...                      fragments=np.zeros((3, 2, 1)), codes=np.zeros(3, np.int64),
    ...                      quantized=np.zeros((3, 1)), style=np.zeros((3, 1)), starts=np.array([0, 100, 200]))
    >>> joined, names = join_unarticulated(notes, np.array([64, 64, 64]), gap=0)
    >>> joined.onsets.tolist(), joined.offsets.tolist(), joined.note_offs.tolist(), names.tolist()
    ([0, 200], [200, 300], [180, 250], [64, 64])

    A rise after the release of a note, named like that note, is dropped; one with a new name stays:

    >>> notes.after_release[2] = True
    >>> [join_unarticulated(notes, np.array([60, 62, n]), gap=0)[1].tolist() for n in (62, 65)]
    [[60, 62], [60, 62, 65]]

    Unless it begins a while after that note is heard to end (sample 180) and is nearly as loud:
    the note played again, which stays even though its level hardly changed where it began:

    >>> kept = join_unarticulated(notes, np.array([60, 62, 62]), gap=0, replay_gap=20, replay_db=4.0)
    >>> kept[0].onsets.tolist(), kept[1].tolist()
    ([0, 100, 200], [60, 62, 62])
    >>> notes.peak_db[2] = -5.0  # 6 dB under the note before: its release swelling
    >>> join_unarticulated(notes, np.array([60, 62, 62]), gap=0, replay_gap=20, replay_db=4.0)[1].tolist()
    [60, 62]

    A short first note an octave off, with the second one unarticulated, is the second one's attack:

    >>> notes.after_release[2] = False
    >>> [join_unarticulated(notes, np.array([52, 64, 60]), gap=0, attack=a)[1].tolist() for a in (0, 100)]
    [[52, 64, 60], [64, 60]]
    """
    names = np.array(names)
    keep: list[int] = []
    offsets, note_offs, peak = notes.offsets.copy(), notes.note_offs.copy(), notes.peak_db.copy()
    for i in range(len(notes)):
        if keep:
            last = keep[-1]
            if notes.after_release[i] and names[i] >= 0 and names[i] == names[last]:
                if not (replay_gap is not None and notes.onsets[i] - note_offs[last] >= replay_gap
                        and notes.peak_db[i] >= peak[last] - replay_db):
                    continue  # the release of the note before
                keep.append(i)  # the note played again: articulated, so never joined
                continue
            if (names[i] >= 0 and names[i] == names[last] and notes.onsets[i] - offsets[last] <= gap
                    and notes.attack_db[i] < min_db and notes.attack_flux[i] < min_flux):
                offsets[last], note_offs[last] = notes.offsets[i], notes.note_offs[i]
                peak[last] = max(peak[last], notes.peak_db[i])
                continue
            if (names[i] >= 0 and names[last] >= 0 and abs(int(names[i]) - int(names[last])) == 12
                    and offsets[last] - notes.onsets[last] <= attack and notes.onsets[i] - offsets[last] <= gap
                    and notes.attack_db[i] < min_db):
                offsets[last], note_offs[last] = notes.offsets[i], notes.note_offs[i]
                peak[last] = max(peak[last], notes.peak_db[i])
                names[last] = names[i]
                continue
        keep.append(i)
    joined = replace(notes, offsets=offsets, note_offs=note_offs, peak_db=peak)
    joined = joined.select(np.asarray(keep, dtype=np.int64))
    return joined, names[keep]


def join_vibrato_swings(notes: EncodedNotes, names: np.ndarray, *, gap: int, longest: int, bins_per_octave: int,
                        max_cents: float = VIBRATO_SWING_CENTS, min_db: float = MIN_ARTICULATION_DB,
                        min_flux: float = MIN_ATTACK_FLUX) -> tuple[EncodedNotes, np.ndarray]:
    """Join the parts a vibrato's swings cut from a held note back into it.

    A run of notes, each unarticulated (level change under ``min_db``, onset
    flux under ``min_flux`` times the typical, not after a release), at most
    ``longest`` samples long, starting within ``gap`` samples of the note
    before it, named a semitone from the held note (the kept note before the
    run) and with a fragment whose spectrum lies within ``max_cents`` of the
    held note's (:func:`v3music.intervals.profile_shift`; a semitone is 100
    cents), is joined into the held note when the note after the run is
    named like the held note and is unarticulated too; so is that note.

    Parameters
    ----------
    notes : EncodedNotes
    names : ndarray[N] (int)
        MIDI name of each note; negative for none (never joined).
    gap, longest : int
        Largest gap and longest swing, in samples.
    bins_per_octave : int
        CQT resolution of the fragments.

    Returns
    -------
    notes : EncodedNotes
    names : ndarray[M]

    Examples
    --------
    A held E4 with a part cut out by its vibrato and named F4 (its partials
    where the E4's are), and a real F4 slurred between two E4s (two bins,
    a semitone, higher):

    >>> profile = np.zeros(48); profile[[8, 32, 46]] = [1.0, 0.6, 0.4]
    >>> frag = lambda shift: np.stack([np.roll(profile, shift)] * 2, axis=1)
    >>> def held(f4):
    ...     return EncodedNotes(onsets=np.array([0, 100, 200]), offsets=np.array([100, 200, 900]),
    ...                         peak_db=np.zeros(3), attack_db=np.array([30.0, 1.0, 1.0]),
    ...                         attack_flux=np.array([9.0, 1.0, 1.0]), note_offs=np.array([100, 200, 900]),
    ...                         after_release=np.zeros(3, bool), fragments=np.stack([frag(0), f4, frag(0)]),
    ...                         codes=np.zeros(3, np.int64), quantized=np.zeros((3, 1)), style=np.zeros((3, 1)),
    ...                         starts=np.array([0, 100, 200]))
    >>> for f4 in (frag(0), frag(2)):
    ...     joined, names = join_vibrato_swings(held(f4), np.array([64, 65, 64]), gap=0, longest=400,
    ...                                         bins_per_octave=24)
    ...     print(names.tolist(), joined.offsets.tolist())
    [64] [900]
    [64, 65, 64] [100, 200, 900]
    """
    names = np.asarray(names)
    max_bins = int(max_cents / (1200.0 / bins_per_octave))
    quiet = (notes.attack_db < min_db) & (notes.attack_flux < min_flux) & ~notes.after_release
    lengths = notes.offsets - notes.onsets
    offsets, note_offs, peak = notes.offsets.copy(), notes.note_offs.copy(), notes.peak_db.copy()
    keep: list[int] = []
    i = 0
    while i < len(notes):
        if keep and names[keep[-1]] >= 0:
            held, j = keep[-1], i
            while (j < len(notes) and quiet[j] and names[j] >= 0 and abs(int(names[j]) - int(names[held])) == 1
                   and lengths[j] <= longest and notes.onsets[j] - (offsets[held] if j == i else notes.offsets[j - 1]) <= gap
                   and abs(profile_shift(notes.fragments[held], notes.fragments[j], max_bins=2 * max_bins + 2))
                   <= max_bins):
                j += 1
            if (i < j < len(notes) and quiet[j] and names[j] == names[held]
                    and notes.onsets[j] - notes.offsets[j - 1] <= gap):
                offsets[held], note_offs[held] = notes.offsets[j], notes.note_offs[j]
                peak[held] = max(peak[held], float(notes.peak_db[i : j + 1].max()))
                i = j + 1
                continue
        keep.append(i)
        i += 1
    joined = replace(notes, offsets=offsets, note_offs=note_offs, peak_db=peak)
    return joined.select(np.asarray(keep, dtype=np.int64)), names[keep]


class NoteEncoder:
    """Finds the notes of mono audio and encodes each with a music model.

    Parameters
    ----------
    loaded : LoadedModel
        A model of the music adapter.
    onset_sensitivity, min_note_seconds, silence_db : float
        Passed to :func:`v3music.segment.segment_notes`.
    pitch_range : (int, int)
        Lowest and highest MIDI name a note may get. A model whose named atoms
        span less than an octave (``insnotes``: C4-B4) reaches the whole range
        by transposition search (:meth:`search_transpositions`).
    search_step : int
        Semitones between the transpositions searched (1: every semitone;
        12: whole octaves only).
    refine : int
        After a search in octaves, every semitone within this many of the
        best octave is tried too (0: none).

    Examples
    --------
    >>> from v3.adapters import find_checkpoint
    >>> from v3.checkpoint import load_model
    >>> encoder = NoteEncoder(load_model(find_checkpoint("insnotes")))
    >>> t = np.arange(16000) / 16000
    >>> notes = encoder.encode(0.5 * np.sin(2 * np.pi * 440 * t).astype(np.float32))
    >>> len(notes), notes.style.shape
    (1, (1, 16))
    """

    def __init__(self, loaded: LoadedModel, *, onset_sensitivity: float = DEFAULT_ONSET_SENSITIVITY,
                 min_note_seconds: float = 0.05, silence_db: float = 40.0,
                 pitch_range: tuple[int, int] = DEFAULT_PITCH_RANGE,
                 search_step: int = DEFAULT_SEARCH_STEP, refine: int = DEFAULT_REFINE_SEMITONES) -> None:
        if not isinstance(loaded.adapter, MusicAdapter):
            raise InputError(f"{loaded.path}: not a music model (adapter {loaded.adapter.name!r})")
        if not 0.0 <= onset_sensitivity <= 1.0:
            raise InputError(f"onset sensitivity {onset_sensitivity:g} is not in [0, 1]")
        if min_note_seconds < 0:
            raise InputError(f"minimum note length {min_note_seconds:g} s is negative")
        low, high = (int(p) for p in pitch_range)
        if not 0 <= low <= high <= 127:
            raise InputError(f"pitch range {low}-{high}: need MIDI numbers 0 <= lowest <= highest <= 127")
        if search_step not in (1, 12):
            raise InputError(f"search step {search_step}: must be 1 (semitones) or 12 (octaves)")
        if not 0 <= refine < 12:
            raise InputError(f"refine {refine}: must be 0-11 semitones")
        self.pitch_range = (low, high)
        self.search_step = int(search_step)
        self.refine = int(refine)
        self.loaded = loaded
        self.config: MusicConfig = loaded.adapter.parse_config(loaded.config.adapter_config)
        self.frontend = self.config.frontend()
        self.onset_sensitivity = onset_sensitivity
        self.min_note_seconds = min_note_seconds
        self.silence_db = silence_db
        self.atom_names = np.asarray(loaded.atom_labels, dtype=np.int64)
        self.moves = self._moves()

    def _moves(self) -> np.ndarray:
        """Transpositions t [T] (semitones) a note's fragment is moved up by before its atom
        names it (name = atom's name - t).

        Only ``[0]`` for a codebook whose named atoms span an octave or more; for
        a one-octave codebook, every multiple of :attr:`search_step` whose moved
        names meet :attr:`pitch_range` and whose move stays inside the CQT.
        """
        named = self.atom_names[self.atom_names >= 0]
        if named.size == 0 or named.max() - named.min() >= 12:
            return np.zeros(1, np.int64)
        low, high = self.pitch_range
        semitones = 12 * self.config.n_bins // self.config.bins_per_octave
        return np.array([t for t in range(-semitones + 1, semitones) if t % self.search_step == 0
                         and named.min() - t <= high and named.max() - t >= low], np.int64)

    @classmethod
    def load(cls, model: LoadedModel | Path | str, *, device: str = "cpu", **settings: Any) -> NoteEncoder:
        """A NoteEncoder for a loaded model, a checkpoint file or a shipped checkpoint name.

        ``settings`` are the keyword arguments of the constructor.
        """
        from v3.trainer import resolve_device

        loaded = model if isinstance(model, LoadedModel) else load_model(find_checkpoint(model),
                                                                         device=resolve_device(device))
        return cls(loaded, **settings)

    @property
    def sample_rate(self) -> int:
        """Sample rate (Hz) of the model's front end."""
        return self.frontend.sample_rate

    def name_notes(self, notes: EncodedNotes, *, context: int = DEFAULT_PITCH_CONTEXT,
                   features: np.ndarray | None = None) -> np.ndarray:
        """MIDI name of each note [N]: the checkpoint's atom names, agreed between neighbouring
        notes (:func:`v3music.intervals.consensus_pitches`); -1 where the atom has no name.

        With ``features``, the log-CQT [n_bins, frames] the notes were found in,
        a note that took the name of the note still ringing before it is named
        again from what rose at its onset (:meth:`rise_names`).

        Examples
        --------
        >>> encoder = NoteEncoder.load("insnotes")
        >>> t = np.arange(16000) / 16000
        >>> y = np.concatenate([0.2 * sum(np.sin(2 * np.pi * k * f * t) / k for k in range(1, 6))
        ...                     for f in (261.63, 392.0)])  # C4, G4
        >>> encoder.name_notes(encoder.encode(y)).tolist()
        [60, 67]
        """
        labels = self.atom_names
        if labels.size == 0 or len(notes) == 0:
            return np.full(len(notes), -1, np.int64)
        named = labels[labels >= 0]
        vocabulary = {int(a - t) for a in named for t in self.moves}
        if len(self.moves) > 1:
            low, high = self.pitch_range
            vocabulary = {p for p in vocabulary if low <= p <= high}
        names = consensus_pitches(self.own_names(notes), notes.fragments, vocabulary=sorted(vocabulary),
                                  bins_per_semitone=self.frontend.bins_per_octave / 12.0, context=context)
        return names if features is None else self.rise_names(notes, names, features)

    def rise_names(self, notes: EncodedNotes, names: np.ndarray, features: np.ndarray) -> np.ndarray:
        """``names`` [N] with each note that repeats the name of the note before it named again from
        what rose at its onset, where that says it is a new pitch (see :data:`RISE_SHARE`).

        ``features`` is the log-CQT [n_bins, frames] of the audio the notes were
        found in. Only notes that start within :data:`RISE_GAP_FRAMES` of the
        previous note's end are tried.

        Examples
        --------
        A vibraphone B4, soft, after a loud G#4 that still rings (the bench's
        seed 0, melody 10): alone, the B4 takes the G#4's name.

        >>> from v3music.melodies import melody_midi
        >>> from v3music.synth import render_midi
        >>> encoder = NoteEncoder.load("insnotes")
        >>> rows = [(0.37, 0.65, 66, 73), (0.65, 0.78, 68, 125), (0.87, 1.25, 71, 58), (1.35, 2.32, 70, 57)]
        >>> y = render_midi(melody_midi(rows, 11), sr=16000)
        >>> features = log_cqt(y, encoder.frontend)
        >>> notes = encoder.encode(y, features=features)
        >>> encoder.name_notes(notes).tolist(), encoder.name_notes(notes, features=features).tolist()
        ([66, 68, 68, 70], [66, 68, 71, 70])
        """
        fe = self.frontend
        starts, ends = notes.onsets // fe.hop_length, notes.offsets // fe.hop_length
        tried = [k for k in range(1, len(notes)) if names[k] >= 0 and names[k] == names[k - 1]
                 and starts[k] - ends[k - 1] <= RISE_GAP_FRAMES and starts[k] >= RISE_BEFORE_FRAMES]
        if not tried:
            return names
        span = max(round(self.config.fragment_seconds * fe.frame_rate), 1)
        rises, kept = [], []
        for k in tried:
            first = int(starts[k])
            last = min(max(int(ends[k]), first + 1), first + span, features.shape[1])
            if last <= first:
                continue
            before = np.exp(features[:, first - RISE_BEFORE_FRAMES : first]).mean(axis=1, keepdims=True)
            note = np.exp(features[:, first:last])
            rise = np.maximum(note - before, 0.0)  # a steady tone (hum) sounded before too: it does not rise
            share = RISE_SHARE if notes.attack_flux[k] >= MIN_ATTACK_FLUX else RISE_SHARE_UNARTICULATED
            if float((rise**2).sum()) < share * float((note**2).sum()):
                continue
            local = np.log(np.maximum(rise, 1e-3 * note.max())).astype(np.float32)
            rises.append(note_fragments(local, np.zeros(1), frame_rate=fe.frame_rate,
                                        seconds=self.config.fragment_seconds, frames=self.config.fragment_frames,
                                        durations=np.array([(last - first) / fe.frame_rate])))
            kept.append(k)
        if not kept:
            return names
        renamed = self.name_fragments(prepare_fragments(np.concatenate(rises), self.config))
        out = names.copy()
        for k, name in zip(kept, renamed):
            if name >= 0 and 0 < abs(int(name) - int(names[k])) < 12:
                out[k] = name
        return out

    def own_names(self, notes: EncodedNotes) -> np.ndarray:
        """Each note's own MIDI name [N] (-1: none): its atom's name, or, for a codebook that
        spans less than an octave, the name of its transposition search (:meth:`name_fragments`)."""
        if len(self.moves) == 1:
            return np.where(notes.codes >= 0, self.atom_names[notes.codes], -1)
        return self.name_fragments(notes.fragments)

    def name_fragments(self, fragments: np.ndarray) -> np.ndarray:
        """MIDI name of each prepared fragment [N, n_bins, frames] -> [N] (-1: none).

        The atom's name minus the transposition the fragment was moved up by
        (:meth:`search_transpositions`), an octave lower where the fragment's
        partials say so (:func:`octave_below`).

        Examples
        --------
        A2 and A5 (five harmonics each), below and above the C4-B4 that ``insnotes`` learnt:

        >>> from v3music.frontend import log_cqt, note_fragments
        >>> from v3music.adapter import prepare_fragments
        >>> encoder = NoteEncoder.load("insnotes")
        >>> t = np.arange(16000) / 16000
        >>> tones = [0.2 * sum(np.sin(2 * np.pi * k * f * t) / k for k in range(1, 6)) for f in (110.0, 880.0)]
        >>> fe = encoder.frontend
        >>> frags = np.concatenate([note_fragments(log_cqt(y, fe), np.zeros(1), frame_rate=fe.frame_rate,
        ...                                        seconds=1.0, frames=2) for y in tones])
        >>> encoder.name_fragments(prepare_fragments(frags, encoder.config)).tolist()
        [45, 81]
        """
        return self.search_names(fragments, *self.search_transpositions(fragments))

    def search_names(self, fragments: np.ndarray, codes: np.ndarray, moves: np.ndarray) -> np.ndarray:
        """MIDI names [N] (-1: none) of prepared fragments [N, n_bins, frames] whose atoms ``codes`` and
        moves ``moves`` came from :meth:`search_transpositions`: the atom's name minus the move, an
        octave lower where the fragment's partials say so (:func:`octave_below`)."""
        atoms = np.where(codes >= 0, self.atom_names[np.maximum(codes, 0)], -1)
        names = np.where(atoms >= 0, atoms - moves, -1)
        fe = self.frontend
        return octave_below(fragments, names, fmin_midi=fe.fmin_midi, bins_per_semitone=fe.bins_per_octave // 12,
                            lowest=self.pitch_range[0])

    @torch.no_grad()
    def search_transpositions(self, fragments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Atom and transposition of each prepared fragment [N, n_bins, frames].

        A codebook whose atoms span one octave names the pitches of that
        octave only. Each fragment is moved up by every transposition t of
        :attr:`moves` (whole semitones of log-CQT bins); the model encodes and
        decodes each moved fragment, and the move it reconstructs best (least
        mean squared error) is the one that brings the note onto an atom of
        the octave the model learnt. The note's name is that atom's name minus
        t. Moves whose name would leave :attr:`pitch_range` are not taken. No
        label is involved: the move comes from the model's own fit, and the
        pair (atom, t) is the note's symbol.

        Returns
        -------
        codes : ndarray[N] (int64)
            Atom of the chosen move; -1 where no move gives a name in range.
        moves : ndarray[N] (int64)
            The move t, in semitones (0 for a codebook that spans an octave or more).
        """
        n = len(fragments)
        if n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        frags = torch.from_numpy(np.ascontiguousarray(fragments, dtype=np.float32))
        moves = np.repeat(self.moves[:, None], n, axis=1)  # [T, N]
        codes, errors = self._try_moves(frags, moves)
        best = errors.argmin(axis=0)
        columns = np.arange(n)
        if len(self.moves) > 1 and self.refine > 0:  # every semitone within `refine` of the best octave
            near = np.array([j for j in range(-self.refine, self.refine + 1) if j != 0])
            near_moves = moves[best, columns][None] + near[:, None]
            near_codes, near_errors = self._try_moves(frags, near_moves)
            moves = np.concatenate([moves[best, columns][None], near_moves])
            codes = np.concatenate([codes[best, columns][None], near_codes])
            errors = np.concatenate([errors[best, columns][None], near_errors])
            best = errors.argmin(axis=0)
        found = np.isfinite(errors[best, columns])
        return np.where(found, codes[best, columns], -1), np.where(found, moves[best, columns], 0)

    def _try_moves(self, frags: torch.Tensor, moves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Atoms [T, N] and reconstruction errors [T, N] of fragments [N, n_bins, frames] moved up by
        ``moves`` [T, N] semitones; the error is infinite where the name leaves :attr:`pitch_range`."""
        model, (count, n) = self.loaded.model, moves.shape
        device = next(model.parameters()).device
        shifts = torch.from_numpy(moves * (self.config.bins_per_octave // 12))  # [T, N] bins
        moved = shift_bins(frags[None].expand(count, -1, -1, -1), shifts).reshape(-1, *frags.shape[1:])
        if self.config.normalize:  # bins moved in change the mean (a no-op for the move 0)
            moved = moved - moved.flatten(1).mean(dim=1)[:, None, None]
        flat_errors, flat_codes = np.empty(len(moved)), np.empty(len(moved), np.int64)
        for first in range(0, len(moved), _BATCH):
            x = moved[first : first + _BATCH].to(device)[:, None]
            enc = model.encode(x)
            rebuilt = model.decode(enc.quantized, enc.style)
            flat_errors[first : first + len(x)] = ((rebuilt - x) ** 2).flatten(1).mean(dim=1).float().cpu().numpy()
            flat_codes[first : first + len(x)] = enc.codes[:, 0].cpu().numpy()
        codes, errors = flat_codes.reshape(count, n), flat_errors.reshape(count, n)
        if len(self.moves) > 1:
            atoms = self.atom_names[codes]
            names = atoms - moves
            low, high = self.pitch_range
            errors[(atoms < 0) | (names < low) | (names > high)] = np.inf
        return codes, errors

    @torch.no_grad()
    def encode(self, mono: np.ndarray, *, start: int = 0, stop: int | None = None,
               features: np.ndarray | None = None) -> EncodedNotes:
        """Encode the notes of ``mono`` [samples] (model's rate) whose onset sample is in [start, stop).

        ``features`` is the log-CQT of ``mono`` if already computed.
        """
        fe = self.frontend
        stop = len(mono) if stop is None else stop
        if features is None:
            features = log_cqt(mono, fe)
        found = segment_notes(mono, features, fe, onset_sensitivity=self.onset_sensitivity,
                              min_note_seconds=self.min_note_seconds, silence_db=self.silence_db)
        keep = (found.onsets * fe.hop_length >= start) & (found.onsets * fe.hop_length < stop)
        on, off = found.onsets[keep].astype(np.int64), found.offsets[keep].astype(np.int64)
        model = self.loaded.model
        if len(on) == 0:
            dc, ds = model.config.content_dim, model.config.style_dim
            return EncodedNotes(on, off, found.peak_db[keep], found.attack_db[keep], found.attack_flux[keep],
                                found.note_offs[keep].astype(np.int64), found.after_release[keep],
                                np.zeros((0, *model.fragment_shape), np.float32), np.zeros(0, np.int64),
                                np.zeros((0, dc), np.float32), np.zeros((0, ds), np.float32),
                                found.starts[keep].astype(np.int64) * fe.hop_length)
        # the model names what the notes play, not a hum under them
        frags = note_fragments(without_steady_tones(features), on / fe.frame_rate, frame_rate=fe.frame_rate,
                               seconds=self.config.fragment_seconds, frames=self.config.fragment_frames,
                               durations=(off - on) / fe.frame_rate)
        frags = prepare_fragments(frags, self.config)
        device = next(model.parameters()).device
        codes, quantized, style = [], [], []
        for first in range(0, len(frags), _BATCH):
            enc = model.encode(torch.from_numpy(frags[first : first + _BATCH]).to(device)[:, None])
            codes.append(enc.codes[:, 0].cpu().numpy())
            quantized.append(enc.quantized[:, 0].float().cpu().numpy())
            style.append(enc.style[:, 0].float().cpu().numpy())
        return EncodedNotes(
            onsets=on * fe.hop_length,
            offsets=off * fe.hop_length,
            peak_db=found.peak_db[keep],
            attack_db=found.attack_db[keep],
            attack_flux=found.attack_flux[keep],
            note_offs=found.note_offs[keep].astype(np.int64) * fe.hop_length,
            after_release=found.after_release[keep],
            fragments=frags,
            codes=np.concatenate(codes).astype(np.int64),
            quantized=np.concatenate(quantized),
            style=np.concatenate(style),
            starts=found.starts[keep].astype(np.int64) * fe.hop_length,
        )

    @torch.no_grad()
    def decode(self, quantized: np.ndarray, style: np.ndarray) -> np.ndarray:
        """Decode content [N, Dc] and style [N, Ds] to fragments [N, n_bins, frames]."""
        model = self.loaded.model
        device = next(model.parameters()).device
        out = [model.decode(torch.from_numpy(quantized[i : i + _BATCH]).to(device)[:, None],
                            torch.from_numpy(style[i : i + _BATCH]).to(device)[:, None])[:, 0].float().cpu().numpy()
               for i in range(0, len(quantized), _BATCH)]
        return np.concatenate(out) if out else np.zeros((0, *model.fragment_shape), np.float32)
