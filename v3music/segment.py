"""Note segmentation: where notes start and stop, with no pitch and no labels.

Used by transcription, and by training on unsegmented recordings, so that
the fragments a model learns from are cut exactly as at inference.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, fields

import librosa
import numpy as np
from scipy.ndimage import uniform_filter1d

from .frontend import FrontEndConfig, without_steady_tones
from .intervals import STEADY_HEAD_FRAMES, STEADY_PATIENCE_FRAMES, frame_moves, steady_frames

__all__ = ["ABSOLUTE_SILENCE_DB", "DEFAULT_ONSET_SENSITIVITY", "Segments", "articulation_db", "onset_features",
           "relative_flux", "segment_notes"]

# Frame level (dB, see onset_features) below which audio is silent whatever
# the rest of the recording does: about -95 dBFS for a sine, below 16-bit noise.
ABSOLUTE_SILENCE_DB = -50.0
#: Default onset sensitivity of every note detector (transcription, timbre tools). Measured with
#: bench/transcribe.py (insnotes, C4-B4, note F1, seeds 0 / 1): 0.5 -> 0.730 / 0.697, 0.7 -> 0.803 /
#: 0.767, 0.85 -> 0.821 / 0.791; with 20 dB SNR noise and a 0.5 s room (seed 1): 0.549, 0.592, 0.529.
#: 0.7 is best on the degraded audio and close to best on clean renders (measured before the
#: noise floor below was added; research log T8-T10).
DEFAULT_ONSET_SENSITIVITY = 0.7
#: Onset novelty ignores what does not rise this far above the noise floor of its frequency bin,
#: the bin's median level over the quietest NOISE_PERCENTILE percent of frames.
NOISE_MARGIN_DB = 6.0
NOISE_PERCENTILE = 10.0
#: The short-window flux that times onsets and attacks (:func:`onset_features`) floors each STFT bin
#: FLUX_NOISE_MARGIN_DB over its noise floor: white noise's periodogram passes its median by 6 dB in
#: about 6 % of bins and frames (2^-4), by 8 dB in 1.3 %. At 6 dB that flicker raised the recording's
#: typical flux (:func:`relative_flux`) and shrank every attack against it (a vibraphone C#4 struck
#: again read 12x the typical flux clean, 1.2x under 15 dB of noise; a piano E4 struck again under
#: 20 dB of noise and a room 3.5x, under :data:`MIN_ATTACK_FLUX`, and was joined to the E4 before
#: it: 4.3x at 8 dB). Research log T132: note F1 +0.008 on four noisy sets (+0.018 note+offset),
#: +0.004 on four more drawn to check it; no clean set loses more than 0.001 of it. 10 dB gained
#: more under noise but split a note at a short window's seam.
FLUX_NOISE_MARGIN_DB = 8.0
#: The level's own floor (the tests of held notes in a tail and of legato splits) is the median of
#: the quietest LEVEL_FLOOR_PERCENTILE percent of frames: in a melody played with few rests the
#: quietest tenth of the frames are soft notes, and a soft violin note held after a louder one was
#: taken for the louder one's release (research log T84: raw pitch +0.0011 / +0.0024 on the dev /
#: fresh sets, note F1 +0.0005 on both).
LEVEL_FLOOR_PERCENTILE = 2.0
#: A note is noise (hiss, dither, rumble), and dropped, when in most of its log-CQT frames no bin
#: stands NOISE_PEAK_DB over the mean of the NOISE_PEAK_BINS bins around it (the median over the
#: note's frames of each frame's highest peak): the notes of the check sets reach 20 dB or more
#: (10-14 dB for a few soft notes under 20 dB of white noise and a room), the segments the detector
#: cut from white, pink or brown noise 8-11.4 dB. White noise at any level had made 14-24 notes in
#: 5 s; dither, which the absolute silence level had kept out, made 25 once quiet recordings were
#: raised for analysis (research log T118).
NOISE_PEAK_DB = 12.0
NOISE_PEAK_BINS = 13
#: A soft note under noise may have no onset of its own: the segment it lies in (from the noise
#: after the note before, say) is then mostly noise. Its longest run of frames with such a peak
#: is kept as a note if it lasts PITCHED_RUN_SECONDS and the level rises PITCHED_RUN_RISE_DB
#: where it begins (a room's tail, pitched too, only decays). Research log T129: a cello D#4 6 dB
#: over white noise at 20 dB SNR after a 0.5 s room, 0.76 s after the note before.
PITCHED_RUN_SECONDS = 0.15
PITCHED_RUN_RISE_DB = 3.0
#: A note that fades out under the silence threshold (a struck or plucked note decaying, a soft note
#: 40 dB under the loudest one) is heard to end (:attr:`Segments.note_offs`) only where its level
#: falls FADE_OUT_DB lower still, or to NOISE_MARGIN_DB over the level's floor: a mallet held 1.7 s
#: ended 0.27 s before its note-off, a soft pluck 0.9 s. Its segment (the fragment the model names,
#: the joins) still ends at the threshold. Research log T104: raw pitch +0.0028 to +0.0050 and
#: note+offset F1 +0.0026 to +0.0077 on four groups of check sets, note F1 unchanged.
FADE_OUT_DB = 20.0
#: A run of sounding frames (above the silence threshold) shorter than this is noise flickering
#: across the threshold, not a note: it is taken as silence. Such a flicker just before a note used
#: to start the note there and hide its real onset (within the 80 ms minimum gap), and the note
#: was then dropped as too short. 3 frames at 16 ms; 2 frames and 4 frames measured too (research log
#: T57): note F1 +0.009 / +0.004 with 30 dB SNR white noise (seeds 1 / 0), +0.004 with expression
#: (seed 5), no dev set lower.
MIN_SOUNDING_SECONDS = 0.048
#: A note ends where its release begins: the first frame after its loudest one from which the
#: short-window level falls more than RELEASE_DROP_DB within RELEASE_WINDOW_SECONDS. Measured with
#: bench/transcribe.py (note+offset F1): 0.508 -> 0.683 (insnotes, seed 0, where 9 dB / 0.1 s was
#: chosen among 12 pairs), 0.511 -> 0.627 (seed 1), 0.403 -> 0.530 (seed 1, 20 dB SNR and a room),
#: 0.443 -> 0.584 (melody model, MIDI 36-84); research log T13.
RELEASE_DROP_DB = 9.0
RELEASE_WINDOW_SECONDS = 0.1
#: The cut then moves on, within that window, to the last frame whose level is still within this
#: many dB of the level where the fall was first seen: a fall found RELEASE_WINDOW_SECONDS ahead
#: may begin only at the window's end (an abrupt stop), and cutting there early cut the note's
#: own end off. Research log T42: note+offset F1 +0.010 to +0.038 and raw pitch +0.006 to +0.018
#: on every TimGM6mb dev set (seed 0: 0.834 -> 0.852, 0.945 -> 0.961).
RELEASE_HELD_DB = 1.5
#: Where a note is *heard* to end (its note-off, :attr:`Segments.note_offs`, see :func:`_note_off`):
#: a fall of NOTE_OFF_DROP_DB within NOTE_OFF_WINDOW_SECONDS beyond the level's trend over the
#: NOTE_OFF_TREND_SECONDS before it, after which the level stays down for NOTE_OFF_HOLD_SECONDS (a
#: sax's note-off drops 5-7 dB in 50 ms and then rings on, which the rule above misses; a natural
#: decay follows its trend, and a vibrato's dips come back up). Too eager to cut notes for encoding
#: and for the articulation join, so used for the output only. Research log T23: note+offset F1
#: 0.741 -> 0.813 (seed 0), 0.698 -> 0.792 (seed 2); raw pitch 0.933 -> 0.928, 0.901 -> 0.881.
NOTE_OFF_DROP_DB = 4.0
NOTE_OFF_WINDOW_SECONDS = 0.048
NOTE_OFF_TREND_SECONDS = 0.064
NOTE_OFF_HOLD_SECONDS = 0.3
#: A smaller fall (NOTE_OFF_SOFT_DROP_DB beyond the trend) is a note-off too when the note is
#: plainly ending: NOTE_OFF_HOLD_SECONDS later the level is NOTE_OFF_DEEP_DB below where the fall
#: began. TimGM6mb's alto sax falls only 3.9 dB in 48 ms at its note-offs and then decays about
#: 50 dB/s. Research log T44: note+offset F1 +0.003 to +0.068 on 16 of 19 dev sets, the rest
#: unchanged (seed 3 0.782 -> 0.809); raw pitch within -0.004.
NOTE_OFF_SOFT_DROP_DB = 2.5
NOTE_OFF_DEEP_DB = 13.0
#: When the next note starts before NOTE_OFF_HOLD_SECONDS are over, such a smaller fall counts if
#: the level falls on the same pace up to it (NOTE_OFF_DEEP_DB over the fall's window and the
#: hold). The bench's bowed and FM voices release over 0.12-0.15 s, 3-3.5 dB in 48 ms, and the
#: next note often starts 0.05-0.1 s after the note-off: such notes ran on to the next onset.
#: Each note-off then moves on, within the fall's window, to the last frame still within
#: NOTE_OFF_HELD_DB of the level where the fall was first seen (where the fall begins, as
#: RELEASE_HELD_DB for the release cut). Research log T103: note+offset F1 +0.029 on the 23 dev
#: sets (numpy voices 0.793 -> 0.856, noise and room 0.744 -> 0.800, vibrato 0.780 -> 0.819),
#: raw pitch +0.001, note F1 unchanged.
NOTE_OFF_HELD_DB = 2.5
#: A larger fall is a note-off only if NOTE_OFF_HOLD_SECONDS later the level is NOTE_OFF_ENDING_DB
#: below where the fall began (when the note lasts that long): a note that goes on at a lower
#: level (a bowed attack settling, a diminuendo, a soft note rising under the previous one's
#: release) is not ending. Research log T47: raw pitch +0.002 to +0.026 on 20 of 23 dev sets
#: (seed 2 0.928 -> 0.947, vibrato 0.874 -> 0.900), note+offset F1 -0.007 to +0.008, note F1 unchanged.
NOTE_OFF_ENDING_DB = 9.0
#: Under noise a soft note cannot fall NOTE_OFF_ENDING_DB (or :data:`NOTE_OFF_DEEP_DB`) below its
#: level: a fall to within NOTE_OFF_FLOOR_DB of the recording's level floor counts as that far.
#: Research log T134: note+offset F1 +0.008 on four noisy sets, +0.007 on four more drawn to check it
#: (onset-matched notes there ended a median 0.38 s late), seed 0 under 20 dB of hum +0.018; no set
#: without noise or hum moves.
NOTE_OFF_FLOOR_DB = 1.5
#: A note is split where its spectrum moves by a semitone or more with no onset (legato): judged
#: on its frames within PITCH_MOVE_LEVEL_DB of its peak, each part at least MIN_SPLIT_FRAMES long
#: (:func:`v3music.intervals.steady_frames`). Measured (research log T14): note F1 0.882 -> 0.886,
#: raw pitch 0.887 -> 0.915 on seed 0 (chosen among 5 variants); 0.864 -> 0.883 and 0.877 -> 0.901
#: on seed 1; melody model 0.725 -> 0.749. 13 dB (T86) split brass scoops and overlaps: not kept.
PITCH_MOVE_LEVEL_DB = 10.0
MIN_SPLIT_FRAMES = 4
#: A soft note slurred after a short, louder one lies under that 10 dB: where the loud frames hold
#: no move, the quieter stretch after them is judged too. A move into it counts if, for
#: QUIET_MOVE_SECONDS from the move on, the level stays above the noise floor and within
#: :data:`TAIL_FLAT_DB` (a held note, not a decay) and at least QUIET_MOVE_AGREEMENT of those frames
#: moved by the same interval (a plucked note's decaying partials flicker between intervals).
#: Research log T127: a flute's tremolo swell started a segment 100 ms before a note 12-15 dB
#: softer, whose onset then went to the swell.
QUIET_MOVE_SECONDS = 0.2
QUIET_MOVE_AGREEMENT = 0.75
#: ... and the split goes back to the strongest short-window flux of the SPLIT_REFINE_SECONDS
#: before the frame where the new spectrum took over (research log T25: note F1 0.866 -> 0.930 on
#: the bench's own synthesisers, 0.919 -> 0.928 on seed 0, 0.948 -> 0.969 on song seed 1, with
#: 0.1 s). T76 doubled it: a slow attack (an alto sax slurred a semitone down under vibrato) takes
#: over 0.1 s to dominate (mean note F1 +0.0027 over 23 dev sets, +0.0024 over 10 fresh ones).
SPLIT_REFINE_SECONDS = 0.2
#: The split compares each frame's spectrum with the note's first frames; a steady tone (mains hum)
#: in every frame makes them alike and holds the split back. Bins whose floor stands
#: SPLIT_STEADY_TONE_DB or more above their neighbours' are taken out for that comparison
#: (:func:`v3music.frontend.without_steady_tones`; stricter than the 6 dB with which the notes are
#: named, at which the splits of four clean recordings changed too). Research log T82: 20 dB hum on
#: seeds 0 / 1 / 8, note F1 +0.023 / +0.003 / +0.027; no set without hum changed.
SPLIT_STEADY_TONE_DB = 15.0
#: A note that follows a note of the same pitch with no gap is a new note only if the level
#: dips or rises at least MIN_ARTICULATION_DB where it starts (:func:`articulation_db`) or its
#: onset flux (largest of its first 3 frames) is at least MIN_ATTACK_FLUX times the recording's
#: typical flux (:func:`relative_flux`: a strike or a pluck); otherwise the onset was a flicker of the
#: spectrum inside one held note (:func:`v3music.notes.join_unarticulated`). Research log T16
#: (2 dB, no flux test: note F1 0.887 -> 0.896 on seed 0) and T21 (3x: restrikes measured 7-47x,
#: cuts 0.1-3.4x); T53 raised 3x to 4x, above the largest cut: a flute's vibrato made cuts at
#: 3.0-3.5x (note F1 +0.001 to +0.008 on 15 of 25 dev sets, -0.002 on two).
MIN_ARTICULATION_DB = 8.0
MIN_ATTACK_FLUX = 4.0
#: A soft note played legato after a louder one has no onset: the louder note's release
#: cut ends it and what follows looked like its tail. Where the level after such a cut
#: settles within TAIL_FLAT_DB for TAIL_HOLD_SECONDS, at least TAIL_ABOVE_FLOOR_DB above the
#: recording's noise floor (a release decays; a held note does not), a note starts where the
#: level fell fastest, with no attack, so :func:`v3music.notes.join_unarticulated` joins it
#: back when it has the same name. Research log T27: raw pitch 0.896 -> 0.912 on seed 2,
#: 0.824 -> 0.852 with the four-octave model; note F1 0 to +0.006.
TAIL_FLAT_DB = 8.0
TAIL_HOLD_SECONDS = 0.25
TAIL_ABOVE_FLOOR_DB = 10.0
#: A note found so has no attack of its own unless its relative flux (:func:`relative_flux`) over
#: its first 3 frames reaches TAIL_ATTACK_FLUX: an electric piano D4 played again 58 ms after the
#: D4 before it was released, 14 dB softer (a flux of 4.8), was joined to it as its tail. Research
#: log T98: note F1 +0.0002 / +0.0012 on the dev / other-instrument sets, no set lower; 4 gains
#: half as much, 2 costs seed 1 a note.
TAIL_ATTACK_FLUX = 3.0
#: The same test runs after each note-off found inside a note (:func:`_split_at_tails`): a soft
#: note slurred after a louder one whose level falls, but not by RELEASE_DROP_DB within
#: RELEASE_WINDOW_SECONDS, was heard only as the louder note's long tail. It is only looked for
#: after NOTE_OFF_TAIL_HEAD_SECONDS of note (a struck note's first decay is not a note-off).
#: Research log T83: raw pitch +0.0016 / +0.0011 on the dev / fresh sets, seed 3 +0.0107,
#: note F1 +0.0007 / +0.0000.
NOTE_OFF_TAIL_HEAD_SECONDS = 0.1
#: The release may still be decaying where it fell fastest while a soft note (one that swells
#: from nothing, say) has begun under it: when neither that test nor a rise after the release
#: (:func:`_rise_after_release`) finds a note, the settled stretch is looked for up to
#: TAIL_SEARCH_SECONDS later, and must then not fall more than TAIL_FALL_DB from its first to
#: its last quarter (an electric piano's release tail decays that slowly and still falls).
#: Research log T60: with expression (seeds 0 / 1 / 5) note F1 +0.004 / +0.003 / +0.005 and raw
#: pitch +0.010 / +0.014 / +0.004; raw pitch +0.003 to +0.009 on five more dev sets; no note F1 lower.
TAIL_SEARCH_SECONDS = 0.1
TAIL_FALL_DB = 2.0
#: When none of those finds a note after a release cut, a level that falls and then rises
#: SLOW_RISE_DB within SLOW_RISE_SECONDS of the cut to a held stretch (as :data:`TAIL_FLAT_DB`,
#: :data:`TAIL_HOLD_SECONDS`) is a note played again softly (:func:`_slow_rise_after_release`):
#: a release only decays. TimGM6mb's electric piano F4 played again at velocity 50 after
#: velocity 119 swells 7.4 dB over 0.45 s under the first one's release, and the 1.8 s note was
#: lost. Research log T96: raw pitch +0.0079 / +0.0052 on seeds 1 / 3, no other set changed.
SLOW_RISE_DB = 6.0
SLOW_RISE_SECONDS = 0.6
#: Sound that begins after silence starts a note only if its level rises RISE_MARGIN_DB above
#: the silence threshold within RISE_CHECK_SECONDS (hysteresis): a release that hovers at the
#: threshold crosses it again and again, and each crossing made a 60-100 ms note (cello and
#: vibraphone tails). Research log T32: note F1 0.936 -> 0.944 on seed 0, 0.946 -> 0.952 on
#: seed 1; 0.876 -> 0.909 with noise and a room; margins of 6-20 dB are alike on clean audio.
RISE_MARGIN_DB = 15.0
RISE_CHECK_SECONDS = 0.1
#: A fall that comes back up is a tremolo's dip, not a release or a note-off: from the lowest
#: frame within the fall's window the level rises TREMOLO_REBOUND_DB within
#: TREMOLO_REBOUND_SECONDS, with no relative flux (:func:`relative_flux`) of TREMOLO_REBOUND_FLUX
#: or more there (that would be a new note's attack, :data:`RELEASE_RISE_DB`). TimGM6mb's
#: vibraphone swells and dips by 6-12 dB about five times a second, and a dip of 9 dB in 0.1 s
#: cut a held vibraphone note at its first dip (a 0.6 s note ended after 0.27 s). Research log T94.
TREMOLO_REBOUND_DB = 5.0
TREMOLO_REBOUND_SECONDS = 0.15
TREMOLO_REBOUND_FLUX = 2.5
#: After a note's release (:func:`_release_start`) the level may rise again while it still
#: sounds: a soft note after a short rest the release fills, whose attack neither the CQT
#: novelty nor the flux onsets see (cello notes 17-19 dB below the loudest one, flux ratios of
#: 2-4). A local minimum of the level followed by a rise of RELEASE_RISE_DB within 3 frames,
#: with a relative flux of at least RELEASE_RISE_FLUX there, starts a note
#: (:attr:`Segments.after_release`); one named like the note before it is dropped, not joined
#: (:func:`v3music.notes.join_unarticulated`): the release itself swelled. Research log T39.
RELEASE_RISE_DB = 3.0
RELEASE_RISE_FLUX = 1.0
#: A peak of the short-window flux at least this many times the recording's typical flux
#: (:func:`relative_flux`) is an onset even where the CQT novelty shows none: attacks after
#: short rests that the previous note's release fills (alto sax), and quick legato changes.
#: Research log T22: note F1 0.906 -> 0.914 (seed 0), 0.916 -> 0.930 (seed 2), melody model
#: 0.776 -> 0.800; no dev set worse (4, 5, 6, 8 and 10 measured).
FLUX_ONSET_RATIO = 6.0
#: So is a peak of at least RISE_FLUX_RATIO times the typical flux where the level also rises
#: RISE_FLUX_DB or more within RISE_FLUX_SECONDS (from the lowest of the 3 frames up to the
#: peak): a held note played again louder at its own pitch, as an organ does, with no dip
#: before it. Research log T91: note F1 +0.0003 to +0.0016 on each group of check sets (other
#: instruments: the organ and soprano sax set +0.0047), no set lower.
RISE_FLUX_RATIO = 5.0
RISE_FLUX_DB = 5.0
RISE_FLUX_SECONDS = 0.1
#: The typical flux of :func:`relative_flux` is never taken below this (mean dB rise per bin): a
#: clean synthetic decay has almost no flux between its attacks (90th percentile 0.0003 for a
#: Karplus-Strong pluck), and 0.01 dB of numerical ripple must not look like an attack. TimGM6mb's
#: renders lie far above it (0.023-0.87 on the bench's dev sets; research log T24).
MIN_TYPICAL_FLUX = 0.02
#: A candidate onset where the level falls at least this much (dB) from the frame before it to the
#: frame after it, and does not rise again by RELEASE_CLICK_RISE_DB before the next candidate
#: (within 0.11 s), is the click of an abrupt stop, not an attack (:func:`_release_clicks`).
#: Research log T43: the bench's own SoundFont 0.936 -> 0.957 note F1 (reed 0.87 -> 0.91),
#: TimGM6mb sets within -0.002.
RELEASE_CLICK_DROP_DB = 8.0
RELEASE_CLICK_RISE_DB = 1.5
#: Each onset may move back this far (s) from where the novelty was backtracked to, onto the
#: strongest short-window flux (:func:`_refine_onsets`): on a rippling novelty (vibrato, a slow
#: attack over a ringing note) backtracking stops at a shallow minimum after the attack began.
#: Research log T41: the bench's bowed voice 0.84 -> 0.89 note F1 (voices seed 0); measured with
#: T42-T43, the 19 dev sets move by -0.004 to +0.014 note F1.
ONSET_LOOKBACK_SECONDS = 0.1
#: An attack that rises over several frames (a low flute or sax sample, played slower by the
#: SoundFont's transposition) begins where its flux first reaches this fraction of its maximum,
#: walking back from the maximum over contiguous frames: the strongest flux can come 50 ms after
#: the note began. Research log T69: mean note F1 +0.0013 over 27 dev sets and +0.0033 over 6 fresh
#: ones (noise and room +0.013).
ATTACK_START_FRACTION = 0.5
#: A note found at an onset is heard to begin up to ATTACK_LEVEL_BACK_SECONDS before it, on the
#: frame after the lowest level there, when the level rose ATTACK_LEVEL_RISE_DB or more from that
#: frame to the onset: a slow attack's flux peaks after its level began to rise (an accordion A4
#: was found 50 ms late again and again). Only the reported start moves (:attr:`Segments.starts`);
#: the model still reads each note from its onset, which names the notes as before. Research log
#: T92: raw pitch +0.0024 to +0.0038 on every group of check sets, note F1 +0.0063 on the other
#: instruments, no set lower.
ATTACK_LEVEL_BACK_SECONDS = 0.048
ATTACK_LEVEL_RISE_DB = 3.0
#: A note played again at the same pitch with no attack the onset detector sees (a re-tongued
#: sax, a flute, a violin re-bowed) shows as a dip of the level inside the held sound: a local
#: minimum RESTRIKE_DIP_DB below the 5 frames before it and RESTRIKE_RISE_DB below the 5 after
#: it, with no dip half as deep within RESTRIKE_ISOLATION_SECONDS (a tremolo or vibrato dips as
#: deep, but again and again), before the note's note-off and at least RESTRIKE_END_SECONDS
#: before its end (later, it is the next note's attack). Research log T49: note F1 up to +0.015
#: (four octaves) and +0.006 (seed 2), within -0.001 on every dev set; these were the largest
#: group of notes the detector did not find (76 of 124 on eight dev sets: repeated pitches).
RESTRIKE_DIP_DB = 3.0
RESTRIKE_RISE_DB = 6.0
RESTRIKE_ISOLATION_SECONDS = 0.3
RESTRIKE_END_SECONDS = 0.16
#: A note played again softer at the same pitch shows no rise after its dip: TimGM6mb's alto sax,
#: held at 17.7 dB, fell 3.4 dB within 3 frames where it was played again at a lower velocity and
#: went on at 14-15 dB. A dip of RESTRIKE_DIP_DB within 3 frames counts as well where the level
#: was held (within RESTRIKE_STEADY_DB) for RESTRIKE_HOLD_SECONDS before the fall and holds
#: (never 1 dB under the dip, its last frame within RESTRIKE_HOLD_DB of its first) as long after
#: it (:func:`_softer_restrikes`): a release decays on, and a struck note decays before it. Research
#: log T97: note F1 +0.0005 to +0.0012 and note+offset +0.0012 to +0.0034 on every group of check sets.
RESTRIKE_HOLD_SECONDS = 0.16
RESTRIKE_HOLD_DB = 2.0
RESTRIKE_STEADY_DB = 2.0


@dataclass
class Segments:
    """Notes found in a recording, as CQT frame indices.

    Attributes
    ----------
    onsets, offsets : ndarray[n_notes] (int)
        First frame and end frame (exclusive) of each note.
    peak_db : ndarray[n_notes]
        Loudest short-window frame level of each note, in dB.
    attack_db : ndarray[n_notes]
        How much the level changes where the note starts, in dB: the larger of
        the dip below the preceding frames and the rise after it
        (:func:`articulation_db`). A note after silence has a large one; a
        note that only its spectrum starts (a flicker inside a held note, or
        legato) has almost none. A note played again at a dip of a held sound
        (:func:`_restrike_dips`) counts as articulated: at least
        :data:`MIN_ARTICULATION_DB`.
    attack_flux : ndarray[n_notes]
        Largest relative onset flux (:func:`relative_flux`) of the note's
        first 3 frames (for an onset moved back by :data:`ONSET_LOOKBACK_SECONDS`,
        of the 3 frames from the strongest flux no more than 2 frames before
        its backtracked onset): a struck or plucked restart is many times the
        typical; a flicker inside a held note is about 1.
    note_offs : ndarray[n_notes] (int)
        Where the note is heard to end (exclusive frame): the first sharp
        fall of its level that stays down (:func:`_note_off`), at most
        ``offsets``; a release tail rings on after it. A note that fades
        under the silence threshold with no such fall is heard up to
        :data:`FADE_OUT_DB` lower (never past the next note's start).
    after_release : ndarray[n_notes] (bool)
        The note starts where the level rose again after the previous note's
        release (:func:`_rise_after_release`), or where a held note sounds on
        after the previous note's note-off (:func:`_split_at_tails`), not at
        an onset: named like the previous note, it is that note's tail.
    starts : ndarray[n_notes] (int)
        Where the note is heard to begin (a frame, at most ``onsets``): the
        onset, or where a slow attack's level began to rise before it
        (:func:`_attack_starts`), never at or before the previous note's
        onset. For output; ``onsets`` is where the note is read.
    """

    onsets: np.ndarray
    offsets: np.ndarray
    peak_db: np.ndarray
    attack_db: np.ndarray
    attack_flux: np.ndarray
    note_offs: np.ndarray
    after_release: np.ndarray
    starts: np.ndarray


def _peak_heights(features: np.ndarray) -> np.ndarray:
    """Height (dB) of each frame's highest spectral peak over the mean of the
    :data:`NOISE_PEAK_BINS` bins around it, from a log-CQT [n_bins, frames] (natural log): [frames]."""
    db = features * (20.0 / np.log(10.0))
    return (db - uniform_filter1d(db, size=NOISE_PEAK_BINS, axis=0, mode="nearest")).max(axis=0)


def _pitched(peaks: np.ndarray, onsets: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Whether each note [onsets[i], offsets[i]) (frames) has a spectral peak in most of its
    frames (``peaks`` from :func:`_peak_heights`, at least :data:`NOISE_PEAK_DB`); an empty
    one counts as pitched.

    Examples
    --------
    >>> frames = np.zeros((48, 100))
    >>> frames[[10, 34], 50:] = 3.0  # two partials, 24 dB over the mean of the bins around them, from frame 50
    >>> _pitched(_peak_heights(frames), np.array([0, 50, 99]), np.array([50, 100, 99])).tolist()
    [False, True, True]
    """
    return np.array([b <= a or float(np.median(peaks[a:b])) >= NOISE_PEAK_DB for a, b in zip(onsets, offsets)],
                    bool)


def _pitched_run(peaks: np.ndarray, level: np.ndarray, start: int, end: int, *,
                 min_frames: int) -> tuple[int, int] | None:
    """The longest run of frames in [start, end) whose spectral peak (``peaks``) reaches
    :data:`NOISE_PEAK_DB`, as (first, end) frames, if it lasts ``min_frames`` and
    ``level`` (dB) rises :data:`PITCHED_RUN_RISE_DB` from the 3 frames before its first
    frame to its first 5; None otherwise.

    Examples
    --------
    >>> peaks = np.concatenate([np.full(20, 8.0), np.full(12, 20.0), np.full(8, 8.0)])  # noise, a note, noise
    >>> level = np.concatenate([np.full(20, -48.0), np.full(12, -42.0), np.full(8, -48.0)])
    >>> _pitched_run(peaks, level, 0, 40, min_frames=10)
    (20, 32)
    >>> _pitched_run(peaks, np.full(40, -48.0), 0, 40, min_frames=10) is None  # pitched, but no rise: a tail
    True
    """
    pitched = np.concatenate([[0], (peaks[start:end] >= NOISE_PEAK_DB).astype(np.int8), [0]])
    edges = np.diff(pitched)
    firsts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if firsts.size == 0:
        return None
    longest = int(np.argmax(ends - firsts))
    first, last = start + int(firsts[longest]), start + int(ends[longest])
    if last - first < min_frames:
        return None
    rise = float(level[first : first + 5].max() - level[max(first - 3, 0) : first + 1].min())
    return (first, last) if rise >= PITCHED_RUN_RISE_DB else None


def _without_short_runs(mask: np.ndarray, min_frames: int) -> np.ndarray:
    """``mask`` [frames] (bool) with its runs of True shorter than ``min_frames`` set False.

    Noise near the silence threshold flickers across it; a run of a frame or
    two is such a flicker, not a note (a shorter note is dropped anyway).

    Examples
    --------
    >>> mask = np.array([0, 1, 0, 0, 1, 1, 1, 0, 1, 1], bool)
    >>> _without_short_runs(mask, 3).astype(int).tolist()
    [0, 0, 0, 0, 1, 1, 1, 0, 0, 0]
    """
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = mask.copy()
    for a, b in zip(starts, ends):
        if b - a < min_frames:
            out[a:b] = False
    return out


def articulation_db(level: np.ndarray, onsets: np.ndarray) -> np.ndarray:
    """Level change (dB) where each note starts: the larger of the dip and the rise.

    At onset frame b: dip = mean level over frames b-6..b-2 minus the lowest of
    frames b-2..b+1; rise = highest of frames b..b+3 minus that lowest one.

    Parameters
    ----------
    level : ndarray[frames]
        Short-window frame level, dB (:func:`onset_features`).
    onsets : ndarray[n_notes] (int)
        Onset frames.

    Returns
    -------
    ndarray[n_notes]

    Examples
    --------
    >>> level = np.array([-60.0] * 8 + [0.0] * 8 + [-4.0, -8.0] + [0.0] * 8 + [0.0] * 8)
    >>> articulation_db(level, np.array([8, 17, 30])).round(1).tolist()  # after silence, a re-attack, held
    [60.0, 8.0, 0.0]
    """
    out = np.zeros(len(onsets))
    for i, b in enumerate(np.asarray(onsets, dtype=int)):
        low = level[max(b - 2, 0) : b + 2].min()
        before = level[max(b - 6, 0) : max(b - 1, 1)].mean()
        out[i] = max(before - low, level[b : b + 4].max() - low)
    return out


def relative_flux(flux: np.ndarray, sounding: np.ndarray) -> np.ndarray:
    """Onset flux relative to the recording's typical flux: ``flux`` over its 90th percentile on the sounding
    frames (at least :data:`MIN_TYPICAL_FLUX`).

    Inside a held note the short-window flux flickers around 1 on this
    scale; a strike, a pluck or a tongued attack is many times that.

    Parameters
    ----------
    flux : ndarray[frames]
        Short-window onset strength (:func:`onset_features`).
    sounding : ndarray[frames] (bool)
        Frames that are not silent.

    Returns
    -------
    ndarray[frames]

    Examples
    --------
    >>> flux = np.array([0.0, 8.0, 1.0, 1.0, 1.0, 1.2, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    >>> relative_flux(flux, flux > 0)[[1, 5]].round(1).tolist()  # a strike, a flicker
    [6.7, 1.0]
    """
    typical = float(np.percentile(flux[sounding], 90)) if sounding.any() else 0.0
    return flux / max(typical, MIN_TYPICAL_FLUX)


def _noise_floor(db: np.ndarray, level: np.ndarray | None = None, *,
                 percentile: float = NOISE_PERCENTILE) -> np.ndarray:
    """Noise floor [bins] of levels ``db`` [frames, bins]: each bin's median over the quietest frames.

    The quietest ``percentile`` percent of frames (by ``level``
    [frames], default the frames' mean dB) are the rests or the softest
    moments; in clean audio they are silence, so the floor stays far below
    any note.
    """
    if level is None:
        level = db.mean(axis=1)
    quiet = level <= np.percentile(level, percentile)
    return np.median(db[quiet], axis=0)


def onset_features(audio: np.ndarray, *, sample_rate: int, hop_length: int, n_fft: int = 512,
                   chunk_frames: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Onset strength and level per frame from a short-window STFT, in bounded memory.

    The log-CQT's low bins use windows of several hundred milliseconds, which
    smear energy far before a note starts; onsets and silence are therefore
    timed on an STFT of ``n_fft`` samples (32 ms at 16 kHz) on the same frame
    grid (frame k is centred on sample k * hop_length).

    Parameters
    ----------
    audio : ndarray[samples]
        Mono float audio.
    sample_rate, hop_length : int
        Hz and samples; frames match :func:`v3music.frontend.log_cqt`.
    n_fft : int
        STFT window in samples.
    chunk_frames : int
        Frames computed at a time.

    Returns
    -------
    strength : ndarray[frames]
        SuperFlux-style onset strength (dB flux, frequency max-filter of 3
        bins), on levels floored 60 dB below the loudest bin and
        :data:`FLUX_NOISE_MARGIN_DB` above each bin's noise floor (its median
        over the quietest frames, the lowest of the chunks'), so steady noise
        makes no flux.
    level_db : ndarray[frames]
        Frame level in dB (power summed over bins).
    """
    n_frames = 1 + len(audio) // hop_length
    padded = np.pad(audio.astype(np.float32), (n_fft // 2, n_fft // 2 + hop_length))
    window = np.hanning(n_fft).astype(np.float32)

    def chunks():  # yields (first frame, power [count, bins])
        for first in range(0, n_frames, chunk_frames):
            count = min(chunk_frames, n_frames - first)
            start = first * hop_length
            frames = np.lib.stride_tricks.sliding_window_view(
                padded[start : start + (count - 1) * hop_length + n_fft], n_fft)[::hop_length][:count]
            yield first, np.abs(np.fft.rfft(frames * window, axis=1)) ** 2

    # pass 1: frame levels, the loudest bin and each bin's noise floor, which set the floor of pass 2
    level = np.zeros(n_frames, dtype=np.float32)
    top = 1e-10
    noise: np.ndarray | None = None
    for first, power in chunks():
        level[first : first + len(power)] = 10.0 * np.log10(power.sum(axis=1) + 1e-10)
        top = max(top, float(power.max()))
        quiet = _noise_floor(10.0 * np.log10(power + 1e-10))
        noise = quiet if noise is None else np.minimum(noise, quiet)
    assert noise is not None  # chunks() yields at least one block
    floor = np.maximum(10.0 * np.log10(top) - 60.0, noise + FLUX_NOISE_MARGIN_DB)  # [bins]
    strength = np.zeros(n_frames, dtype=np.float32)
    previous: np.ndarray | None = None
    for first, power in chunks():
        db = np.maximum(10.0 * np.log10(power + 1e-10), floor)
        before = np.concatenate([(db[:1] if previous is None else previous[None]), db[:-1]])
        # SuperFlux: compare with the max over neighbouring bins of the previous frame
        widened = np.maximum(before, np.maximum(np.roll(before, 1, axis=1), np.roll(before, -1, axis=1)))
        strength[first : first + len(power)] = np.maximum(db - widened, 0.0).mean(axis=1)
        previous = db[-1]
    return strength, level


def _refine_onsets(onsets: np.ndarray, peaks: np.ndarray, flux: np.ndarray, *, reach: int,
                   lookback: int = 2, start_fraction: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Move each onset frame to the attack of the flux maximum in its window.

    The window is [onset - lookback, min(onset + reach, peak + 1, next onset)).
    The attack begins at the maximum, or earlier where the frames before it
    keep a flux of at least ``start_fraction`` times the maximum (contiguous,
    within the window; 0 keeps the maximum itself).

    ``peaks`` [n_onsets] are the novelty peaks the onsets were backtracked from:
    a note has begun by the time its novelty peaks, so a later flux (a breath or
    tremolo inside the note) is never taken for its attack. The window also
    starts ``lookback`` frames before the backtracked onset (never at or
    before the previous refined onset): on a novelty that ripples (vibrato,
    a slow attack over a ringing note) backtracking stops at a shallow
    minimum after the attack began. An onset with no flux at all in its
    window is dropped: nothing rises there in the short window, and the
    CQT's long kernels only saw something far off (such as an abrupt end of
    the recording).

    Returns
    -------
    refined : ndarray[M] (int)
        The onsets.
    attacks : ndarray[M] (int)
        Where each onset's attack strength is read: the flux maximum from 2
        frames before the backtracked onset only (the refined onset if there
        is none). Reading it at the earlier maximum that ``lookback`` may find
        would make a ripple of a held note look like an attack (research log T41).

    Examples
    --------
    >>> flux = np.zeros(20)
    >>> flux[[5, 9]] = [2.0, 1.0]  # the attack at 5, a ripple at 9
    >>> _refine_onsets(np.array([8]), np.array([10]), flux, reach=4)[0].tolist()  # backtracked to 8
    [9]
    >>> [x.tolist() for x in _refine_onsets(np.array([8]), np.array([10]), flux, reach=4, lookback=4)]
    [[5], [9]]
    >>> flux[[6, 7, 8]] = [0.1, 0.9, 1.5]  # a slow attack: over half its maximum the frame before
    >>> _refine_onsets(np.array([8]), np.array([10]), flux, reach=4, lookback=2, start_fraction=0.5)[0].tolist()
    [7]
    """
    refined: list[int] = []
    attacks: list[int] = []
    for i, o in enumerate(onsets):
        floor = refined[-1] + 1 if refined else 0
        lo = max(int(o) - lookback, floor)
        hi = min(int(o) + reach, int(peaks[i]) + 1, int(onsets[i + 1]) if i + 1 < len(onsets) else len(flux))
        if hi <= lo:
            refined.append(int(o))
            attacks.append(int(o))
        elif flux[lo:hi].max() > 0.0:
            top = lo + int(np.argmax(flux[lo:hi]))
            first = top
            while start_fraction > 0.0 and first > lo and flux[first - 1] >= start_fraction * flux[top]:
                first -= 1
            refined.append(first)
            near = max(int(o) - 2, floor)
            attacks.append(near + int(np.argmax(flux[near:hi])) if hi > near and flux[near:hi].max() > 0.0
                           else refined[-1])
    return np.asarray(refined, dtype=int), np.asarray(attacks, dtype=int)


def _attack_starts(onsets: np.ndarray, level: np.ndarray, *, back: int, rise_db: float) -> np.ndarray:
    """Where each onset's attack is heard to begin: the frame after the lowest ``level``
    (dB) of the ``back`` frames before the onset (never at or before the previous onset)
    if the level rose ``rise_db`` or more from there to the onset, else the onset.

    Examples
    --------
    >>> level = np.array([10.0, 10.0, 9.0, 2.0, 6.0, 11.0, 12.0])  # a dip, then a slow rise to frame 5
    >>> _attack_starts(np.array([5]), level, back=3, rise_db=3.0).tolist()
    [4]
    >>> _attack_starts(np.array([5]), level, back=3, rise_db=12.0).tolist()  # no rise that large
    [5]
    """
    starts = []
    previous = -1
    for onset in onsets.tolist():
        lo = max(onset - back, previous + 1, 0)
        lowest = lo + int(np.argmin(level[lo : onset + 1]))
        starts.append(min(lowest + 1, onset) if level[onset] - level[lowest] >= rise_db else onset)
        previous = onset
    return np.asarray(starts, dtype=int)


def _after_previous(starts: np.ndarray, onsets: np.ndarray) -> np.ndarray:
    """``starts`` moved no earlier than the frame after the previous note's onset (``onsets`` ascending).

    Examples
    --------
    >>> _after_previous(np.array([8, 9, 12]), np.array([10, 11, 13])).tolist()  # 9 lies before 10 + 1
    [8, 11, 12]
    """
    if len(starts) < 2:
        return starts
    return np.maximum(starts, np.concatenate([[starts[0]], onsets[:-1] + 1]))


def _rebounds(level: np.ndarray, rel_flux: np.ndarray, k: int, *, window: int, reach: int,
              rise_db: float = TREMOLO_REBOUND_DB, max_flux: float = TREMOLO_REBOUND_FLUX) -> bool:
    """Whether the fall of ``level`` (dB) from frame k comes back up: a tremolo's dip, not an ending.

    From the lowest of frames k..k + ``window``, the level rises ``rise_db``
    or more within ``reach`` frames while ``rel_flux`` stays under
    ``max_flux`` (no new attack). False if fewer than ``reach`` frames follow.

    Examples
    --------
    >>> dip = np.array([20.0, 16.0, 11.0, 13.0, 17.0, 18.0, 17.0])  # down 9 dB and up 7
    >>> _rebounds(dip, np.zeros(7), 0, window=2, reach=3)
    True
    >>> _rebounds(dip, np.array([0, 0, 0, 3.0, 0, 0, 0]), 0, window=2, reach=3)  # with an attack's flux
    False
    >>> _rebounds(np.array([20.0, 16.0, 11.0, 10.0, 9.0, 8.0, 7.0]), np.zeros(7), 0, window=2, reach=3)
    False
    """
    low = k + int(np.argmin(level[k : k + window + 1]))
    after = level[low : low + reach + 1]
    return (len(after) > reach and float(after.max() - level[low]) >= rise_db
            and float(rel_flux[low : low + reach + 1].max()) < max_flux)


def _release_start(level: np.ndarray, start: int, end: int, *, drop_db: float, window: int,
                   held_db: float = RELEASE_HELD_DB, rel_flux: np.ndarray | None = None,
                   rebound: int = 0) -> tuple[int, int]:
    """Where the release of the note in frames [start, end) is first seen, and the end frame of the note.

    The release is seen at the first frame k after the note's loudest one
    from which ``level`` (dB) falls more than ``drop_db`` within ``window``
    frames; the note ends at the last of frames k..k + ``window`` whose
    level is within ``held_db`` of level[k] (where the fall begins). Both
    are ``end`` if there is no such fall, and never before ``start + 1``.
    With ``rel_flux`` (the relative flux, :func:`relative_flux`), a fall
    that comes back up within ``rebound`` frames (:func:`_rebounds`, a
    tremolo's dip) is skipped.

    Examples
    --------
    >>> stop = np.array([20.0] * 10 + [0.0] * 10)  # an abrupt stop after frame 9
    >>> _release_start(stop, 0, 20, drop_db=9.0, window=6)  # seen from frame 4 on (before T42 it ended there)
    (4, 9)
    >>> fade = 20.0 - 2.0 * np.maximum(np.arange(20.0) - 4, 0)  # a steady fall from frame 4
    >>> _release_start(fade, 0, 20, drop_db=9.0, window=6)
    (3, 4)
    >>> tremolo = np.array([20.0] * 4 + [10.0, 16.0, 18.0] * 2 + [18.0] * 4 + [0.0] * 6)  # dips, then a stop
    >>> _release_start(tremolo, 0, 20, drop_db=9.0, window=2)  # at the first dip
    (2, 3)
    >>> _release_start(tremolo, 0, 20, drop_db=9.0, window=2, rel_flux=np.zeros(20), rebound=3)  # at the stop
    (12, 13)
    """
    lv = level[start:end]
    top = int(np.argmax(lv))
    if len(lv) <= top + window:
        return end, end
    for k in (np.flatnonzero(lv[top + window :] - lv[top:-window] < -drop_db) + top).tolist():
        if rel_flux is not None and _rebounds(lv, rel_flux[start:end], k, window=window, reach=rebound):
            continue
        held = np.flatnonzero(lv[k : k + window + 1] >= lv[k] - held_db)
        return max(start + k, start + 1), max(start + k + int(held[-1]), start + 1)
    return end, end


def _release_clicks(starts: np.ndarray, level: np.ndarray, *, drop_db: float = RELEASE_CLICK_DROP_DB,
                    rise_db: float = RELEASE_CLICK_RISE_DB, window: int = 7) -> np.ndarray:
    """Which candidate onsets [N] (sorted frames) are the click of an abrupt stop, not an attack.

    A note that stops abruptly (a short release, an organ, a damped string)
    spreads its last frame's energy over many bins, so the flux peaks there as
    at an attack. Such a candidate k has ``level`` (dB) falling ``drop_db`` or
    more from frame k - 1 to frame k + 1, staying below level[k - 1] over
    frames k + 1..k + 3, and not rising ``rise_db`` above its low of frames
    k + 1..k + 2 in frames k + 3 .. min(k + ``window``, next candidate - 1) - 1
    (the next candidate after k + 1).

    Examples
    --------
    >>> level = np.array([20.0] * 10 + [19.0, 5.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0] + [15.0] * 10)
    >>> _release_clicks(np.array([10, 18]), level).tolist()  # a stop at 10, a note at 18
    [True, False]
    >>> level[13:18] = [4.0, 9.0, 12.0, 12.0, 12.0]  # a soft note rising after the fall
    >>> _release_clicks(np.array([10, 18]), level).tolist()
    [False, False]
    """
    clicks = np.zeros(len(starts), dtype=bool)
    for i, k in enumerate(starts.tolist()):
        if k < 3 or k + window > len(level):
            continue
        before = float(level[k - 1])
        if level[k + 1] > before - drop_db or level[k + 1 : k + 4].max() >= before:
            continue
        following = np.searchsorted(starts, k + 1, side="right")  # the next candidate after k + 1
        stop = min(k + window, int(starts[following]) - 1 if following < len(starts) else k + window)
        low = float(level[k + 1 : k + 3].min())
        clicks[i] = stop <= k + 3 or float(level[k + 3 : stop].max()) - low < rise_db
    return clicks


#: A dip of the level this deep either way is a dip at all (for :func:`_restrike_dips`' isolation).
_SOME_DIP_DB = 3.0


def _restrike_dips(level: np.ndarray, sounding: np.ndarray, *, dip_db: float, rise_db: float,
                   isolation: int) -> np.ndarray:
    """Frames [M] where a held sound dips and rises again as at a restruck note (sorted).

    A sounding frame k that is a local minimum of ``level`` (dB): the
    loudest of the 5 frames before it is ``dip_db`` or more above it, the
    loudest of the 5 after it ``rise_db`` or more; and isolated: no other
    local minimum with both at least :data:`_SOME_DIP_DB` and the smaller of
    the two at least half this one's lies within ``isolation`` frames. A
    tremolo or a vibrato dips as deep, but again and again.

    Examples
    --------
    >>> level = np.full(60, 20.0)
    >>> level[28:33] = [17.0, 12.0, 10.0, 14.0, 19.0]  # one dip: a restruck note at frame 30
    >>> _restrike_dips(level, level > 0, dip_db=3.0, rise_db=6.0, isolation=15).tolist()
    [30]
    >>> level[[8, 18, 40, 50]] = 11.0  # the same dip every 10 frames: a tremolo
    >>> _restrike_dips(level, level > 0, dip_db=3.0, rise_db=6.0, isolation=15).tolist()
    []
    """
    k = np.arange(5, len(level) - 6)
    k = k[(level[k] <= level[k - 1]) & (level[k] < level[k + 1]) & sounding[k]]
    if not k.size:
        return k
    windows = np.lib.stride_tricks.sliding_window_view(level, 5)  # windows[j] = level[j : j + 5]
    fall, rise = windows[k - 5].max(axis=1) - level[k], windows[k + 1].max(axis=1) - level[k]
    some = (fall >= _SOME_DIP_DB) & (rise >= _SOME_DIP_DB)
    k, fall, rise = k[some], fall[some], rise[some]
    size = np.minimum(fall, rise)
    found = [frame for frame, a, b, depth in zip(k.tolist(), fall.tolist(), rise.tolist(), size.tolist())
             if a >= dip_db and b >= rise_db
             and not ((np.abs(k - frame) <= isolation) & (k != frame) & (size >= 0.5 * depth)).any()]
    return np.asarray(found, dtype=int)


def _softer_restrikes(level: np.ndarray, sounding: np.ndarray, *, dip_db: float, hold: int, isolation: int,
                      hold_db: float = RESTRIKE_HOLD_DB, steady_db: float = RESTRIKE_STEADY_DB) -> np.ndarray:
    """Frames [M] where a held sound is played again softer: a sharp dip with no rise after it (sorted).

    A sounding frame k that is a local minimum of ``level`` (dB), ``dip_db``
    or more under the loudest of the 3 frames before it, where the ``hold``
    frames before those 3 lie within ``steady_db`` of each other (a held
    sound, not a decaying one) and the ``hold`` frames after k never fall 1
    dB under level[k], the last within ``hold_db`` of the first (the new
    note holds; a release decays on). Isolated as in :func:`_restrike_dips`:
    no other local minimum whose fall is half as deep within ``isolation``
    frames.

    Examples
    --------
    >>> level = np.array([20.0] * 15 + [19.0, 17.5, 16.0] + [16.5] * 15)  # held, then 4 dB softer
    >>> _softer_restrikes(level, level > 0, dip_db=3.0, hold=10, isolation=15).tolist()
    [17]
    >>> decay = np.array([20.0] * 15 + [19.0, 17.5, 16.0] + list(16.5 - 0.8 * np.arange(15)))  # a release
    >>> _softer_restrikes(decay, decay > 0, dip_db=3.0, hold=10, isolation=15).tolist()
    []
    """
    k = np.arange(hold + 3, len(level) - hold - 1)
    k = k[(level[k] <= level[k - 1]) & (level[k] < level[k + 1]) & sounding[k]]
    if not k.size:
        return k
    fall = np.array([level[f - 3 : f].max() for f in k.tolist()]) - level[k]
    found = []
    for f, depth in zip(k.tolist(), fall.tolist()):
        before, after = level[f - 3 - hold : f - 3], level[f + 1 : f + 1 + hold]
        if (depth >= dip_db and float(before.max() - before.min()) <= steady_db
                and float(after.min()) >= level[f] - 1.0 and after[-1] >= after[0] - hold_db
                and not ((np.abs(k - f) <= isolation) & (k != f) & (fall >= 0.5 * depth)).any()):
            found.append(f)
    return np.asarray(found, dtype=int)


def _note_in_tail(level: np.ndarray, cut: int, end: int, *, window: int, hold: int, floor_db: float,
                  delays: int = 0) -> int | None:
    """Start frame of a held note in the tail frames [cut, end) after a release cut; None if none.

    The note starts where ``level`` (dB) falls fastest within ``window`` + 1
    frames of ``cut``; it is there if, from 2 frames later, the level stays
    within :data:`TAIL_FLAT_DB` for ``hold`` frames, all more than
    :data:`TAIL_ABOVE_FLOOR_DB` above ``floor_db``. With ``delays`` > 0 the
    stretch that stays may also begin up to ``delays`` frames later (the note
    then starts that much later), if it does not fall more than
    :data:`TAIL_FALL_DB` from its first quarter to its last.

    Examples
    --------
    >>> fall = np.linspace(20.0, 8.0, 4)
    >>> held = np.concatenate([np.full(10, 20.0), fall, np.full(30, 7.0)])  # a soft legato note
    >>> _note_in_tail(held, 10, 44, window=3, hold=16, floor_db=-40.0)
    11
    >>> release = np.concatenate([np.full(10, 20.0), 20.0 - 2.0 * np.arange(34)])  # a decay
    >>> _note_in_tail(release, 10, 44, window=3, hold=16, floor_db=-80.0) is None
    True
    >>> slow = np.concatenate([np.full(10, 20.0), 19.0 - 2.5 * np.arange(8), np.full(30, 1.0)])  # found late
    >>> _note_in_tail(slow, 10, 46, window=3, hold=16, floor_db=-40.0), _note_in_tail(slow, 10, 46, window=3,
    ...     hold=16, floor_db=-40.0, delays=6)
    (None, 14)
    """
    if end - cut < hold + window + 4:
        return None
    start = cut + int(np.argmin(np.diff(level[cut : cut + window + 2]))) + 1
    quarter = max(hold // 4, 1)
    for delay in range(delays + 1):
        settled = level[start + 2 + delay : start + 2 + delay + hold]
        if (len(settled) < hold or float(settled.max() - settled.min()) >= TAIL_FLAT_DB
                or float(settled.min()) <= floor_db + TAIL_ABOVE_FLOOR_DB):
            continue
        if delay and float(settled[-quarter:].mean() - settled[:quarter].mean()) < -TAIL_FALL_DB:
            continue
        return start + delay
    return None


def _slow_rise_after_release(level: np.ndarray, cut: int, end: int, *, window: int, reach: int, hold: int,
                             floor_db: float, rise_db: float = SLOW_RISE_DB) -> int | None:
    """Start frame of a note played again softly under a release cut at ``cut``; None if none.

    From its lowest frame within ``reach`` frames of ``cut``, the level (dB)
    rises ``rise_db`` or more to a stretch of ``hold`` frames (beginning
    within ``reach``) that stays within :data:`TAIL_FLAT_DB` and more than
    :data:`TAIL_ABOVE_FLOOR_DB` above ``floor_db``, in frames [cut, end). A
    release only decays; this one had a note under it. The note starts where
    the level fell fastest within ``window`` + 1 frames of ``cut`` (where the
    note before ended, as in :func:`_note_in_tail`).

    Examples
    --------
    >>> release = 20.0 - 2.0 * np.arange(1.0, 11.0)  # a release cut at frame 10...
    >>> again = np.concatenate([np.full(10, 20.0), release, np.linspace(0.0, 8.0, 15), np.full(30, 8.0)])
    >>> _slow_rise_after_release(again, 10, len(again), window=3, reach=30, hold=16, floor_db=-40.0)
    11
    >>> decay = np.concatenate([np.full(10, 20.0), 20.0 - 0.5 * np.arange(1.0, 56.0)])  # ...and a decay alone
    >>> _slow_rise_after_release(decay, 10, len(decay), window=3, reach=30, hold=16, floor_db=-40.0) is None
    True
    """
    lv = level[cut:end]
    if len(lv) < reach + hold:
        return None
    low = int(np.argmin(lv[:reach]))
    for k in range(low + 1, reach):
        settled = lv[k : k + hold]
        if (float(settled.min() - lv[low]) >= rise_db and float(settled.max() - settled.min()) < TAIL_FLAT_DB
                and float(settled.min()) > floor_db + TAIL_ABOVE_FLOOR_DB):
            return cut + int(np.argmin(np.diff(lv[: window + 2]))) + 1
    return None


def _rise_after_release(level: np.ndarray, rel_flux: np.ndarray, first: int, end: int, *, rise_db: float,
                        min_flux: float) -> int | None:
    """Start frame of a note whose level rises again in frames [first, end) after a release; None if none.

    The first local minimum k of ``level`` (dB) in [first, end - 4) from which
    the level rises ``rise_db`` or more within 3 frames while the relative flux
    (:func:`relative_flux`) reaches ``min_flux`` there; the note starts at the
    largest relative flux of frames k..k+3.

    Examples
    --------
    >>> release = 20.0 - 1.5 * np.arange(12.0)  # a release decaying 1.5 dB per frame...
    >>> level = np.concatenate([release, 4.0 + 2.5 * np.arange(1.0, 5.0), np.full(8, 14.0)])  # ...then a soft note
    >>> flux = np.zeros(len(level))
    >>> flux[13] = 2.5
    >>> _rise_after_release(level, flux, 1, len(level), rise_db=3.0, min_flux=1.0)
    13
    >>> _rise_after_release(release, np.ones(12), 1, 12, rise_db=3.0, min_flux=1.0) is None  # a decay alone
    True
    """
    for k in range(max(first, 1), end - 4):
        if (level[k] <= level[k - 1] and level[k] < level[k + 1] and level[k + 1 : k + 4].max() - level[k] >= rise_db
                and rel_flux[k : k + 4].max() >= min_flux):
            return k + int(np.argmax(rel_flux[k : k + 4]))
    return None


def _note_off(level: np.ndarray, start: int, end: int, *, drop_db: float, window: int, trend: int,
              hold: int, soft_drop_db: float = NOTE_OFF_SOFT_DROP_DB,
              deep_db: float = NOTE_OFF_DEEP_DB, ending_db: float = NOTE_OFF_ENDING_DB,
              held_db: float = NOTE_OFF_HELD_DB, rel_flux: np.ndarray | None = None, rebound: int = 0,
              floor_db: float = -np.inf) -> int:
    """End frame (exclusive) where the note in frames [start, end) is heard to end; ``end`` if none.

    The first frame k from the note's loudest one on (and at least ``trend``
    frames into the note) from which ``level`` (dB) falls more than
    ``drop_db`` within ``window`` frames beyond its own trend (its slope since
    the later of k - ``trend`` and the loudest frame, if falling), and then
    stays more than ``drop_db / 2`` below level[k] for ``hold`` frames (or to
    ``end``), its last frame ``ending_db`` or more below level[k] if the
    note lasts that long (the note is ending, not going on more softly). A
    fall of more than ``soft_drop_db`` only counts if that last frame lies
    ``deep_db`` or more below level[k] (the note is ending, not dipping);
    where the note ends before those ``hold`` frames are over, its last
    frame must lie below level[k] by ``deep_db`` times the share of
    ``window + hold`` frames that it is from k (falling on the same pace).
    The note-off is the last frame within ``window`` of k whose level is
    within ``held_db`` of level[k] (where the fall begins).
    With ``rel_flux`` (:func:`relative_flux`), a fall that comes back up
    within ``rebound`` frames (:func:`_rebounds`, a tremolo) does not count.
    Neither depth is asked below :data:`NOTE_OFF_FLOOR_DB` over ``floor_db``
    (the recording's level floor: noise).

    Examples
    --------
    >>> tail = list(14.0 - 0.5 * np.arange(30))  # a release decaying 0.5 dB per frame
    >>> ended = np.array([0.0] * 6 + [20.0] * 20 + tail)  # a note-off at frame 26
    >>> _note_off(ended, 6, 56, drop_db=4.0, window=3, trend=4, hold=19)  # the last frame at the note's level
    25
    >>> softer = np.array([0.0] * 6 + [20.0] * 20 + [14.0] * 30)  # the note goes on 6 dB softer
    >>> _note_off(softer, 6, 56, drop_db=4.0, window=3, trend=4, hold=19)
    56
    >>> decay = 20.0 - 0.5 * np.arange(50)  # a steady decay of 0.5 dB per frame
    >>> _note_off(decay, 0, 50, drop_db=4.0, window=3, trend=4, hold=19)
    50
    >>> ending = np.array([0.0] * 6 + [20.0] * 20 + list(18.0 - 0.8 * np.arange(30)))  # 2 dB, then 0.8 dB/frame
    >>> _note_off(ending, 6, 56, drop_db=4.0, window=3, trend=4, hold=19)  # 2.8 dB from frame 24, then 18 dB
    26
    >>> dip = np.array([0.0] * 6 + [20.0] * 20 + [18.0, 17.0, 16.4] + [20.0] * 27)  # the same fall, recovered
    >>> _note_off(dip, 6, 56, drop_db=4.0, window=3, trend=4, hold=19)
    56
    >>> release = np.array([0.0] * 6 + [20.0] * 20 + list(18.7 - 1.3 * np.arange(6)))  # 3.9 dB per 3 frames
    >>> _note_off(release, 6, 32, drop_db=4.0, window=3, trend=4, hold=19)  # the next note starts at frame 32
    26
    >>> _note_off(dip, 6, 32, drop_db=4.0, window=3, trend=4, hold=19)  # a dip just before the next note
    32
    >>> noisy = np.array([0.0] * 6 + [20.0] * 20 + list(np.maximum(18.7 - 1.3 * np.arange(30), 14.0)))
    >>> _note_off(noisy, 6, 56, drop_db=4.0, window=3, trend=4, hold=19)  # 6 dB down: into the noise?
    56
    >>> _note_off(noisy, 6, 56, drop_db=4.0, window=3, trend=4, hold=19, floor_db=13.0)  # yes: noise at 13 dB
    26
    """
    lv = level[start:end]
    top = int(np.argmax(lv))
    for k in (np.flatnonzero(lv[top + window :] - lv[top:-window] < -min(drop_db, soft_drop_db)) + top).tolist():
        if k < trend:  # the first moments of a struck note decay fast: not a note-off
            continue
        ref = max(k - trend, top)
        slope = min(float(lv[k] - lv[ref]) * window / max(k - ref, 1), 0.0)
        fall = float(lv[k + window] - lv[k]) - slope
        after = lv[k + window : k + window + hold]
        reachable = max(float(lv[k]) - floor_db - NOTE_OFF_FLOOR_DB, 0.0)  # how far it can fall into the noise
        if fall >= -drop_db:
            deep = min(deep_db * (window + len(after)) / (window + hold), reachable)
            if fall >= -soft_drop_db or after[-1] > lv[k] - deep:
                continue
        elif len(after) == hold and after[-1] > lv[k] - min(ending_db, reachable):
            continue
        if rel_flux is not None and _rebounds(lv, rel_flux[start:end], k, window=window, reach=rebound):
            continue
        if after.max() < lv[k] - drop_db / 2:
            begins = k + int(np.flatnonzero(lv[k : k + window + 1] >= lv[k] - held_db)[-1])
            return max(start + begins, start + 1)
    return end


def _split_at_tails(parts: list[tuple[int, int]], level: np.ndarray, *, window: int, hold: int, head: int,
                    floor_db: float, min_frames: int,
                    note_off_frames: dict[str, int],
                    rel_flux: np.ndarray | None = None) -> tuple[list[tuple[int, int, int]], list[int]]:
    """``parts`` (first, last frame) split where a held note sounds on after a part's note-off.

    A part whose note-off (:func:`_note_off`, at least ``head`` frames in)
    is followed by a held note (:func:`_note_in_tail`: ``window``, ``hold``,
    ``floor_db``) ends where that note starts; the new part is tested the
    same way. Parts shorter than ``min_frames`` are not made.
    ``note_off_frames`` and ``rel_flux`` go to :func:`_note_off`.

    Returns
    -------
    parts : list of (first, last, note_off)
        With each part's note-off (:func:`_note_off`).
    starts : list of int
        First frames of the parts found in a tail.

    Examples
    --------
    A loud note, then a soft one held 13 dB lower from frame 26 on:

    >>> level = np.concatenate([np.zeros(5), np.full(20, 20.0), np.linspace(18.0, 8.0, 4), np.full(40, 7.0)])
    >>> frames = dict(window=3, trend=4, hold=19)
    >>> _split_at_tails([(5, 69)], level, window=3, hold=16, head=6, floor_db=-40.0, min_frames=4,
    ...                 note_off_frames=frames)
    ([(5, 26, 26), (26, 69, 69)], [26])

    A note that decays after its note-off is left whole:

    >>> decay = np.concatenate([np.zeros(5), np.full(20, 20.0), 18.0 - 1.5 * np.arange(44)])
    >>> _split_at_tails([(5, 69)], decay, window=3, hold=16, head=6, floor_db=-80.0, min_frames=4,
    ...                 note_off_frames=frames)
    ([(5, 69, 25)], [])
    """
    out: list[tuple[int, int, int]] = []
    starts: list[int] = []
    todo = list(reversed(parts))
    while todo:
        first, last = todo.pop()
        ends = _note_off(level, first, last, drop_db=NOTE_OFF_DROP_DB, rel_flux=rel_flux, floor_db=floor_db,
                         **note_off_frames)
        held = None
        if head <= ends - first and ends < last:
            held = _note_in_tail(level, ends, last, window=window, hold=hold, floor_db=floor_db)
        if held is None or held - first < min_frames or last - held < min_frames:
            out.append((first, last, ends))
            continue
        out.append((first, held, _note_off(level, first, held, drop_db=NOTE_OFF_DROP_DB, rel_flux=rel_flux,
                                           floor_db=floor_db, **note_off_frames)))
        starts.append(held)
        todo.append((held, last))
    return out, starts


def _quiet_move(features: np.ndarray, level: np.ndarray, head: int, judged: int, end: int, *,
                bins_per_semitone: float, floor_db: float, hold: int) -> int | None:
    """Frame where a soft note takes over in the quieter frames [judged, end) of a note
    whose loud frames [head, judged) hold no move (slurred after it); None if none.

    The frames from ``judged`` on that stay :data:`NOISE_MARGIN_DB` above
    ``floor_db`` (and the last loud ones, where a move may begin) are judged
    against the note's first frames (:func:`steady_frames`), if some ``hold``
    of them in a row stay within :data:`TAIL_FLAT_DB` at all. A move counts if
    the ``hold`` frames from it are all among them, their level stays within
    :data:`TAIL_FLAT_DB`, and at least :data:`QUIET_MOVE_AGREEMENT` of them
    moved by the same interval.

    Examples
    --------
    >>> profile = np.zeros(96); profile[[10, 34, 48, 58]] = [1.0, 0.6, 0.4, 0.3]
    >>> cqt = np.stack([profile] * 10 + [np.roll(profile, 6)] * 20, axis=1)  # a minor third up...
    >>> held = np.concatenate([np.full(10, 20.0), np.full(20, 5.0)])  # ...held 15 dB softer
    >>> _quiet_move(cqt, held, 0, 10, 30, bins_per_semitone=2, floor_db=-40.0, hold=12)
    10
    >>> decay = np.concatenate([np.full(10, 20.0), 5.0 - np.arange(20.0)])  # a decay is no held note
    >>> _quiet_move(cqt, decay, 0, 10, 30, bins_per_semitone=2, floor_db=-40.0, hold=12) is None
    True
    >>> flicker = np.stack([profile] * 10 + [np.roll(profile, 2 + 2 * (k % 2)) for k in range(20)], axis=1)
    >>> _quiet_move(flicker, held, 0, 10, 30, bins_per_semitone=2, floor_db=-40.0, hold=12) is None  # 1 or 2 up
    True
    """
    above = level[judged:end] > floor_db + NOISE_MARGIN_DB
    audible = judged + (int(np.argmin(above)) if not above.all() else len(above))
    if audible - judged < hold:
        return None
    windows = np.lib.stride_tricks.sliding_window_view(level[judged:audible], hold)
    if not (windows.max(axis=1) - windows.min(axis=1) < TAIL_FLAT_DB).any():
        return None  # no held stretch at all (a decay): nothing to judge
    reference = features[:, head : head + STEADY_HEAD_FRAMES]
    lo = max(judged - STEADY_PATIENCE_FRAMES + 1, head + STEADY_HEAD_FRAMES)  # a move may begin just before
    steady = steady_frames(np.concatenate([reference, features[:, lo:audible]], axis=1),
                           bins_per_semitone=bins_per_semitone)
    cut = lo + steady - STEADY_HEAD_FRAMES
    if cut + hold > audible:
        return None
    settled = level[cut : cut + hold]
    if float(settled.max() - settled.min()) >= TAIL_FLAT_DB:
        return None
    moves = frame_moves(np.concatenate([reference, features[:, cut : cut + hold]], axis=1),
                        bins_per_semitone=bins_per_semitone)
    intervals, counts = np.unique(moves, return_counts=True)
    best = int(np.argmax(counts))
    if intervals[best] == 0 or counts[best] < QUIET_MOVE_AGREEMENT * hold:
        return None
    return cut


def _split_at_pitch_moves(features: np.ndarray, level: np.ndarray, flux: np.ndarray, start: int, end: int, *,
                          bins_per_semitone: float, min_frames: int, floor_db: float, refine: int,
                          quiet_hold: int) -> list[int]:
    """Boundaries ``[start, ..., end]`` of the parts of note frames [start, end) whose
    spectrum stays within a semitone. Only the frames from the first to the last within
    :data:`PITCH_MOVE_LEVEL_DB` of the part's peak and :data:`NOISE_MARGIN_DB` above the
    recording's noise floor ``floor_db`` are judged, so neither a noisy lead-in nor the
    release tail counts as a move; where they hold none, a soft note held ``quiet_hold``
    frames after them may (:func:`_quiet_move`). The spectrum has moved only once the new
    note dominates, so each boundary then goes back to the strongest short-window ``flux``
    of the ``refine`` frames before it (where the new note rose)."""
    bounds = [start]
    while True:
        first = bounds[-1]
        threshold = max(level[first:end].max() - PITCH_MOVE_LEVEL_DB, floor_db + NOISE_MARGIN_DB)
        loud = first + np.flatnonzero(level[first:end] > threshold)
        if loud.size == 0:
            return bounds + [end]
        head, judged = int(loud[0]), int(loud[-1]) + 1
        cut = head + steady_frames(features[:, head:judged], bins_per_semitone=bins_per_semitone)
        if cut >= judged:  # no move while loud; a soft note held after them may still come
            quiet = _quiet_move(features, level, head, judged, end, bins_per_semitone=bins_per_semitone,
                                floor_db=floor_db, hold=quiet_hold)
            if quiet is None:
                return bounds + [end]
            cut = quiet
        if cut - first < min_frames or end - cut < min_frames:
            return bounds + [end]
        lo = max(cut - refine, first + min_frames)
        cut = lo + int(np.argmax(flux[lo : cut + 1]))
        bounds.append(cut)


def segment_notes(
    mono: np.ndarray,
    features: np.ndarray,
    fe: FrontEndConfig,
    *,
    onset_sensitivity: float = DEFAULT_ONSET_SENSITIVITY,
    min_note_seconds: float = 0.05,
    silence_db: float = 40.0,
) -> Segments:
    """Find the notes of a monophonic recording.

    Onsets are peaks of a SuperFlux-style novelty of the log-CQT (dB values
    floored 60 dB below the peak and :data:`NOISE_MARGIN_DB` above each bin's
    noise floor, frequency max-filter of 3 bins, 80 ms
    minimum gap, backtracked to the preceding minimum), each then moved to the
    strongest short-window (32 ms) flux from 100 ms before it to its novelty
    peak (at most 250 ms after it), because the CQT's long low-frequency
    kernels respond before a note starts; a note may also start
    where sound begins after silence (if its level rises :data:`RISE_MARGIN_DB`
    above the silence threshold within :data:`RISE_CHECK_SECONDS`), or at a
    peak of the short-window flux
    :data:`FLUX_ONSET_RATIO` times the recording's typical flux
    (:func:`relative_flux`) with no other onset within 80 ms (whatever the
    sensitivity); a candidate where the level drops abruptly and does not
    rise again is the click of a note that stopped, not an onset
    (:func:`_release_clicks`). Sound and silence are timed with the
    short-window level of :func:`onset_features`, since the CQT's long
    low-frequency windows make energy appear before a note starts; a run of
    sounding frames shorter than :data:`MIN_SOUNDING_SECONDS` is noise
    flickering across the threshold and counts as silence. A note ends
    at the next onset, where the level falls ``silence_db`` below the
    recording's loudest frame, or where its release begins: the level falling
    more than :data:`RELEASE_DROP_DB` within :data:`RELEASE_WINDOW_SECONDS`
    after the note's loudest frame, whichever comes first (unless that would
    leave less than ``min_note_seconds``: a struck note that decays fast is
    kept to its end). Where the level after such a release settles instead of
    decaying, a soft note was played legato: a note with no attack starts
    there (:func:`_note_in_tail`, :data:`TAIL_FLAT_DB`); otherwise, where the
    level rises again while the release still sounds, a soft note starts
    there (:func:`_rise_after_release`, :data:`RELEASE_RISE_DB`); otherwise,
    where the level settles up to :data:`TAIL_SEARCH_SECONDS` later (a soft
    note that began under a release still decaying). A note whose
    spectrum then moves by a semitone or more
    (a legato change of pitch with no onset; steady tones such as mains hum
    left out of the comparison, :data:`SPLIT_STEADY_TONE_DB`; a softer held
    stretch after the loud frames judged too, :func:`_quiet_move`) is split where
    the new note rose (:data:`SPLIT_REFINE_SECONDS`), and a part of one pitch is split again
    where its level dips and rises once, as when a held note is played again
    with no attack the onset detector sees (:func:`_restrike_dips`,
    :data:`RESTRIKE_RISE_DB`), or dips sharply and holds at a lower level
    (:func:`_softer_restrikes`, played again softer). Each part also gets the frame where it is
    heard to end (:attr:`Segments.note_offs`); where a held note sounds on
    after that, at a lower level, a new part starts there
    (:func:`_split_at_tails`, a soft note slurred after a louder one). A fall
    that comes back up within :data:`TREMOLO_REBOUND_SECONDS` with no attack is
    a tremolo's dip: neither a release nor a note-off (:func:`_rebounds`); a
    level that swells :data:`SLOW_RISE_DB` under a release is a note played
    again softly (:func:`_slow_rise_after_release`). A note with no spectral
    peak in most of its frames is noise and dropped (:data:`NOISE_PEAK_DB`),
    but its longest pitched run, where the level rises, stays as a soft note
    (:func:`_pitched_run`).

    Parameters
    ----------
    mono : ndarray[samples]
        Audio at ``fe.sample_rate``.
    features : ndarray[n_bins, frames]
        Its log-CQT (:func:`v3music.frontend.log_cqt`).
    fe : FrontEndConfig
    onset_sensitivity : float
        0-1; peak-picking delta ``0.4 * (1 - sensitivity) + 0.02`` on the
        normalised onset strength.
    min_note_seconds : float
        Shorter notes are dropped.
    silence_db : float
        Silence threshold below the loudest frame, in dB.

    Returns
    -------
    Segments
    """

    short_flux, level = onset_features(mono, sample_rate=fe.sample_rate, hop_length=fe.hop_length)
    loud = level.max()
    active = (level > loud - silence_db) & (level > ABSOLUTE_SILENCE_DB)
    active = _without_short_runs(active, max(round(MIN_SOUNDING_SECONDS * fe.frame_rate), 1))
    db = features * (20.0 / np.log(10.0))
    n = min(db.shape[1], len(level))  # the two frame grids match; guard the last frame
    noise = _noise_floor(db[:, :n].T, level[:n])[:, None]
    db = np.maximum(db, np.maximum(db.max() - 60.0, noise + NOISE_MARGIN_DB))
    env = librosa.onset.onset_strength(S=db, sr=fe.sample_rate, hop_length=fe.hop_length, max_size=3)
    min_gap = max(round(0.08 * fe.frame_rate), 1)
    peaks = librosa.onset.onset_detect(onset_envelope=env, sr=fe.sample_rate, hop_length=fe.hop_length,
                                       backtrack=False, delta=0.4 * (1.0 - onset_sensitivity) + 0.02,
                                       wait=min_gap, units="frames")
    onsets = librosa.onset.onset_backtrack(peaks, env) if len(peaks) else peaks  # librosa refuses no peaks
    # The CQT's long low-frequency kernels see a note coming: move each onset to
    # the strongest short-window flux from ONSET_LOOKBACK_SECONDS before it to its novelty peak
    # (at most 250 ms after it, never past the next onset).
    onsets, attack_frames = _refine_onsets(np.asarray(onsets, dtype=int), np.asarray(peaks, dtype=int), short_flux,
                                           reach=max(round(0.25 * fe.frame_rate), 1),
                                           lookback=max(round(ONSET_LOOKBACK_SECONDS * fe.frame_rate), 1),
                                           start_fraction=ATTACK_START_FRACTION)
    attack_at = dict(zip(onsets.tolist(), attack_frames.tolist()))  # other starts read their own frame
    heard_at = dict(zip(onsets.tolist(), _attack_starts(onsets, level, rise_db=ATTACK_LEVEL_RISE_DB,
                                                        back=round(ATTACK_LEVEL_BACK_SECONDS * fe.frame_rate)).tolist()))
    # a note may also start where sound begins after silence, if it then rises well above the threshold
    rises = np.flatnonzero(active[1:] & ~active[:-1]) + 1
    if active[0]:
        rises = np.concatenate([[0], rises])
    threshold = max(float(loud) - silence_db, ABSOLUTE_SILENCE_DB)
    check = max(round(RISE_CHECK_SECONDS * fe.frame_rate), 1)
    rises = rises[[float(level[r : r + check].max()) > threshold + RISE_MARGIN_DB for r in rises]]
    found = np.concatenate([onsets, rises]).astype(int)
    # and at a strong short-window flux peak that no onset is near
    rel_flux = relative_flux(short_flux, active)
    flux_peaks = np.flatnonzero((rel_flux[1:-1] >= rel_flux[:-2]) & (rel_flux[1:-1] > rel_flux[2:])) + 1
    rise_frames = max(round(RISE_FLUX_SECONDS * fe.frame_rate), 1)
    strong = np.array([k for k in flux_peaks.tolist() if rel_flux[k] >= FLUX_ONSET_RATIO
                       or (rel_flux[k] >= RISE_FLUX_RATIO
                           and level[k : k + rise_frames + 1].max() - level[max(k - 2, 0) : k + 1].min() >= RISE_FLUX_DB)],
                      dtype=int)
    strong = strong[active[strong]]
    if found.size:
        strong = strong[np.abs(strong[:, None] - found[None]).min(axis=1) >= min_gap]
    starts = np.unique(np.concatenate([found, strong])).astype(int)
    starts = starts[~_release_clicks(starts, level)]
    merged: list[int] = []
    for s in starts:
        if not merged or s - merged[-1] >= min_gap:
            merged.append(int(s))
    n_frames = len(level)
    release_window = max(round(RELEASE_WINDOW_SECONDS * fe.frame_rate), 1)
    split_frames = max(MIN_SPLIT_FRAMES, round(min_note_seconds * fe.frame_rate))
    split_refine = max(round(SPLIT_REFINE_SECONDS * fe.frame_rate), 1)
    quiet_hold = max(round(QUIET_MOVE_SECONDS * fe.frame_rate), 1)
    level_floor = float(_noise_floor(level[:, None], percentile=LEVEL_FLOOR_PERCENTILE)[0])
    heard = (level > max(threshold - FADE_OUT_DB, ABSOLUTE_SILENCE_DB)) & (level > level_floor + NOISE_MARGIN_DB)
    note_off_frames = {name: max(round(seconds * fe.frame_rate), 1) for name, seconds in
                       (("window", NOTE_OFF_WINDOW_SECONDS), ("trend", NOTE_OFF_TREND_SECONDS),
                        ("hold", NOTE_OFF_HOLD_SECONDS), ("rebound", TREMOLO_REBOUND_SECONDS))}
    tail_hold = max(round(TAIL_HOLD_SECONDS * fe.frame_rate), 1)
    tail_search = round(TAIL_SEARCH_SECONDS * fe.frame_rate)
    slow_reach = max(round(SLOW_RISE_SECONDS * fe.frame_rate), 1)
    tail_head = max(round(NOTE_OFF_TAIL_HEAD_SECONDS * fe.frame_rate), 1)
    move_features = without_steady_tones(features, min_db=SPLIT_STEADY_TONE_DB)  # hum does not hold a split back
    isolation = max(round(RESTRIKE_ISOLATION_SECONDS * fe.frame_rate), 1)
    restrike_at = np.union1d(
        _restrike_dips(level, active, dip_db=RESTRIKE_DIP_DB, rise_db=RESTRIKE_RISE_DB, isolation=isolation),
        _softer_restrikes(level, active, dip_db=RESTRIKE_DIP_DB, isolation=isolation,
                          hold=max(round(RESTRIKE_HOLD_SECONDS * fe.frame_rate), 1))).astype(int)
    restrike_end = max(round(RESTRIKE_END_SECONDS * fe.frame_rate), 1)
    restrikes: set[int] = set()  # starts of notes played again at a dip of a held sound
    in_tails: set[int] = set()  # starts of notes found in a release's tail (no attack unless their flux shows one)
    after_release: set[int] = set()  # starts of notes where the level rose again after a release
    on, off, peak, note_off = [], [], [], []
    i = 0
    while i < len(merged):  # a note found in a tail joins the list as the next start
        s = merged[i]
        nxt = merged[i + 1] if i + 1 < len(merged) else n_frames
        i += 1
        seg = active[s:nxt]
        if not seg.any():
            continue
        first = s + int(np.argmax(seg))
        silent_after = np.flatnonzero(~active[first:nxt])
        end = first + int(silent_after[0]) if silent_after.size else nxt
        fades_out = end if silent_after.size else -1  # where the note falls under the silence threshold
        seen, cut = _release_start(level, s, end, drop_db=RELEASE_DROP_DB, window=release_window,
                                   rel_flux=rel_flux, rebound=note_off_frames["rebound"])
        # a note whose level falls that fast from its attack on is a struck or plucked note that
        # decays quickly, not a release: keep it to its end rather than cut it to nothing (judged
        # where the fall is first seen: T42's later cut made a plucked note look held)
        if (seen - s) / fe.frame_rate >= min_note_seconds:
            held = _note_in_tail(level, cut, end, window=release_window, hold=tail_hold, floor_db=level_floor)
            rise = None
            if held is None:  # or where the level rises again while the release still sounds
                rise = _rise_after_release(level, rel_flux, max(cut + 1, s + min_gap), end,
                                           rise_db=RELEASE_RISE_DB, min_flux=RELEASE_RISE_FLUX)
            if held is None and rise is None:  # or where it settles a little later, under a decaying release
                held = _note_in_tail(level, cut, end, window=release_window, hold=tail_hold,
                                     floor_db=level_floor, delays=tail_search)
            if held is None and rise is None:  # or a note played again softly, that swells under the release
                soft_again = _slow_rise_after_release(level, cut, end, window=release_window, reach=slow_reach,
                                                      hold=tail_hold, floor_db=level_floor)
                if soft_again is not None:
                    merged.insert(i, soft_again)
                    restrikes.add(soft_again)  # articulated: neither dropped nor joined as a tail
                    cut = soft_again
            if held is not None:  # this note ends where the held one starts
                merged.insert(i, held)
                in_tails.add(held)
                cut = held
            elif rise is not None:
                merged.insert(i, rise)
                after_release.add(rise)
                cut = rise
            end = cut
        elif (end - s) / fe.frame_rate < min_note_seconds:
            continue
        bounds = _split_at_pitch_moves(move_features, level, short_flux, s, end,
                                       bins_per_semitone=fe.bins_per_octave / 12.0,
                                       min_frames=split_frames, floor_db=level_floor, refine=split_refine,
                                       quiet_hold=quiet_hold)
        parts: list[tuple[int, int]] = []  # each part of one pitch is split again where it is played again
        for first, last in itertools.pairwise(bounds):
            again = restrike_at[(restrike_at >= first + min_gap) & (restrike_at <= last - restrike_end)]
            if again.size:
                again = again[again < _note_off(level, first, last, drop_db=NOTE_OFF_DROP_DB, rel_flux=rel_flux,
                                                floor_db=level_floor, **note_off_frames)]
            restrikes.update(again.tolist())
            parts.extend(itertools.pairwise([first, *again.tolist(), last]))
        # a held note after a note-off starts a note, which is dropped if named like the one before
        # (it was that note's tail: the note keeps its own end), as after a release
        ended, tails = _split_at_tails(parts, level, window=release_window, hold=tail_hold, head=tail_head,
                                       floor_db=level_floor, min_frames=split_frames,
                                       note_off_frames=note_off_frames, rel_flux=rel_flux)
        after_release.update(tails)
        for first, last, ends in ended:
            if last == ends == fades_out:  # no note-off before it fades out: heard until it is gone
                gone = np.flatnonzero(~(active | heard)[last:nxt])
                ends = last + int(gone[0]) if gone.size else nxt
            on.append(first)
            off.append(last)
            peak.append(float(level[first:last].max()))
            note_off.append(ends)
    onsets = np.asarray(on, dtype=int)
    attack_db = articulation_db(level, onsets)
    read_at = [attack_at.get(b, b) for b in onsets.tolist()]
    attack_flux = np.array([rel_flux[b : b + 3].max() for b in read_at], dtype=float)
    unstruck = np.isin(onsets, np.fromiter(in_tails, dtype=int, count=len(in_tails)))
    unstruck &= attack_flux < TAIL_ATTACK_FLUX  # a note found in a tail that has an attack of its own is struck
    attack_db[unstruck] = 0.0
    attack_flux[unstruck] = 0.0
    restruck = np.isin(onsets, np.fromiter(restrikes, dtype=int, count=len(restrikes)))
    attack_db[restruck] = np.maximum(attack_db[restruck], MIN_ARTICULATION_DB)  # articulated: never joined
    offsets = np.asarray(off, dtype=int)
    starts = _after_previous(np.array([heard_at.get(b, b) for b in onsets.tolist()], dtype=int), onsets)
    peaks = _peak_heights(features)
    keep = _pitched(peaks, onsets, offsets)  # noise that the level and flux took for notes
    kept = Segments(onsets[keep], offsets[keep], np.asarray(peak, dtype=float)[keep], attack_db[keep],
                    attack_flux[keep], np.asarray(note_off, dtype=int)[keep],
                    np.isin(onsets, np.fromiter(after_release, dtype=int, count=len(after_release)))[keep],
                    starts[keep])
    # a soft note inside such noise, with no onset of its own, keeps its pitched frames
    run_frames = max(round(PITCHED_RUN_SECONDS * fe.frame_rate), 1)
    candidates = [_pitched_run(peaks, level, a, b, min_frames=run_frames)
                  for a, b in zip(onsets[~keep].tolist(), offsets[~keep].tolist())]
    runs = [run for run in candidates if run is not None]
    if not runs:
        return kept
    firsts = np.array([first for first, _ in runs], dtype=int)
    lasts = np.array([last for _, last in runs], dtype=int)
    soft = Segments(firsts, lasts, np.array([level[a:b].max() for a, b in runs], dtype=float),
                    np.maximum(articulation_db(level, firsts), MIN_ARTICULATION_DB),  # after noise: articulated
                    np.array([rel_flux[a : a + 3].max() for a in firsts.tolist()], dtype=float),
                    np.array([_note_off(level, a, b, drop_db=NOTE_OFF_DROP_DB, rel_flux=rel_flux,
                                        floor_db=level_floor, **note_off_frames) for a, b in runs], dtype=int),
                    np.zeros(len(runs), bool), firsts)
    order = np.argsort(np.concatenate([kept.onsets, soft.onsets]), kind="stable")
    return Segments(*(np.concatenate([getattr(kept, field.name), getattr(soft, field.name)])[order]
                      for field in fields(Segments)))

