"""Evaluation metrics for a learned codebook and for content/style embeddings.

Everything here works on plain arrays and knows nothing of music or images:
a *code* is the index of the codebook atom an item was quantised to, a
*label* is an integer class id from the dataset (``< 0`` means "unknown"
wherever a function says so), and a *vector* is one row of an embedding
matrix.

Three families of functions:

* codebook interpretability: :func:`confusion_matrix`,
  :func:`majority_mapping`, :func:`hungarian_mapping`,
  :func:`codebook_accuracy` and the bundle :func:`codebook_report`;
* embedding quality and leakage: :func:`knn_accuracy`,
  :func:`chance_accuracy`, :func:`retrieval_pr_auc` and the bundle
  :func:`disentanglement_report`;
* figures: :func:`plot_confusion` and :func:`plot_tsne`, which write PNG files
  atomically and never touch matplotlib's global (pyplot) state.

All functions return values and never print; bad arguments raise
:class:`v3.errors.InputError` with the offending value in the message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from v3.errors import InputError
from v3.fileio import atomic_write

__all__ = [
    "CodebookReport",
    "DisentanglementReport",
    "chance_accuracy",
    "codebook_accuracy",
    "codebook_report",
    "confusion_matrix",
    "disentanglement_report",
    "hungarian_mapping",
    "knn_accuracy",
    "majority_mapping",
    "plot_confusion",
    "plot_tsne",
    "retrieval_pr_auc",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
LabelNames = Sequence[str] | Mapping[int, str]

# Cells of the distance matrix computed at once by retrieval_pr_auc (~32 MiB of float64).
_DISTANCE_CHUNK_CELLS = 4_000_000
# plot_confusion writes the count into each cell when the matrix has at most this many cells.
_ANNOTATE_MAX_CELLS = 400
# plot_tsne uses exact t-SNE up to this many points (Barnes-Hut beyond).
_TSNE_EXACT_MAX_POINTS = 1000
# plot_tsne draws a legend up to this many classes and a colour bar beyond.
_LEGEND_MAX_CLASSES = 24


# --------------------------------------------------------------------------------------------
# argument checking
# --------------------------------------------------------------------------------------------


def _int_1d(name: str, values: npt.ArrayLike) -> IntArray:
    """Return ``values`` as a non-empty 1-D int64 array or raise InputError."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(f"{name} is empty (shape {arr.shape})")
    if arr.dtype.kind not in "iu":
        raise InputError(f"{name} must hold integers, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _float_2d(name: str, values: npt.ArrayLike) -> FloatArray:
    """Return ``values`` as a finite, non-empty [N, D] float64 array or raise InputError."""
    arr = np.asarray(values)
    if arr.ndim != 2:
        raise InputError(f"{name} must be 2-D [N, D], got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(f"{name} is empty (shape {arr.shape})")
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        n_bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise InputError(f"{name} holds {n_bad} NaN or Inf value(s) (shape {arr.shape})")
    return arr


def _same_length(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    if a.shape[0] != b.shape[0]:
        raise InputError(f"{name_a} and {name_b} differ in length: {a.shape[0]} != {b.shape[0]}")


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{name}={value!r} must be a positive integer")
    return int(value)


def _confusion(confusion: npt.ArrayLike) -> npt.NDArray[Any]:
    """Check a confusion matrix: 2-D, real, finite, non-negative (may have 0 columns)."""
    arr = np.asarray(confusion)
    if arr.ndim != 2:
        raise InputError(f"confusion must be 2-D [n_codes, n_labels], got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise InputError(f"confusion has no rows (shape {arr.shape})")
    if arr.dtype.kind not in "iuf":
        raise InputError(f"confusion must hold counts, got dtype {arr.dtype}")
    if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < 0):
        raise InputError(
            f"confusion must be finite and non-negative, got min {arr.min()} (shape {arr.shape})"
        )
    return arr


# --------------------------------------------------------------------------------------------
# codebook interpretability
# --------------------------------------------------------------------------------------------


def confusion_matrix(
    codes: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    n_codes: int | None = None,
    n_labels: int | None = None,
) -> IntArray:
    """Count how often each codebook atom co-occurs with each label.

    Parameters
    ----------
    codes : array_like of int, shape [N]
        Atom index of each item, ``0 <= codes < n_codes``.
    labels : array_like of int, shape [N]
        Label of each item, ``labels < n_labels``; items with a negative label
        are "unknown" and not counted.
    n_codes : int, optional
        Codebook size (rows). Defaults to ``codes.max() + 1``.
    n_labels : int, optional
        Number of labels (columns). Defaults to the largest known label + 1
        (0 if no label is known).

    Returns
    -------
    numpy.ndarray of int64, shape [n_codes, n_labels]
        ``confusion[a, l]`` is the number of items with code ``a`` and label ``l``.

    Raises
    ------
    InputError
        If the arrays are empty, not 1-D, not integer, differ in length, or hold
        a code or label outside the given range.

    Examples
    --------
    >>> confusion_matrix([0, 0, 1, 2], [1, 1, 0, -1], n_codes=3, n_labels=2)
    array([[0, 2],
           [1, 0],
           [0, 0]])
    """
    codes_a = _int_1d("codes", codes)
    labels_a = _int_1d("labels", labels)
    _same_length("codes", codes_a, "labels", labels_a)
    if codes_a.min() < 0:
        raise InputError(f"codes must be >= 0, got min {codes_a.min()}")
    if n_codes is None:
        n_codes = int(codes_a.max()) + 1
    n_codes = _positive_int("n_codes", n_codes)
    if codes_a.max() >= n_codes:
        raise InputError(f"codes must be < n_codes={n_codes}, got max {codes_a.max()}")

    known = labels_a >= 0
    if n_labels is None:
        n_labels = int(labels_a[known].max()) + 1 if known.any() else 0
    elif isinstance(n_labels, bool) or not isinstance(n_labels, (int, np.integer)) or n_labels < 0:
        raise InputError(f"n_labels={n_labels!r} must be a non-negative integer")
    n_labels = int(n_labels)
    if known.any() and labels_a[known].max() >= n_labels:
        raise InputError(f"labels must be < n_labels={n_labels}, got max {labels_a.max()}")

    flat = codes_a[known] * n_labels + labels_a[known]
    counts = np.bincount(flat, minlength=n_codes * n_labels)
    return counts.reshape(n_codes, n_labels).astype(np.int64, copy=False)


def majority_mapping(confusion: npt.ArrayLike) -> IntArray:
    """Map each atom to the label it co-occurs with most often.

    Several atoms may map to the same label (many-to-one). Ties go to the
    smallest label index.

    Parameters
    ----------
    confusion : array_like, shape [n_codes, n_labels]
        Non-negative counts, e.g. from :func:`confusion_matrix`.

    Returns
    -------
    numpy.ndarray of int64, shape [n_codes]
        Label of each atom, or -1 for atoms whose row is all zero (never used).

    Examples
    --------
    >>> majority_mapping([[3, 1], [0, 0], [2, 5]])
    array([ 0, -1,  1])
    """
    conf = _confusion(confusion)
    mapping = np.full(conf.shape[0], -1, dtype=np.int64)
    if conf.shape[1] == 0:
        return mapping
    used = conf.sum(axis=1) > 0
    mapping[used] = np.argmax(conf[used], axis=1)
    return mapping


def hungarian_mapping(confusion: npt.ArrayLike) -> IntArray:
    """Assign atoms to labels one-to-one, maximising the number of matched items.

    Solves the linear assignment problem with
    :func:`scipy.optimize.linear_sum_assignment`. Each label receives at most
    one atom and each atom at most one label.

    Parameters
    ----------
    confusion : array_like, shape [n_codes, n_labels]
        Non-negative counts, e.g. from :func:`confusion_matrix`.

    Returns
    -------
    numpy.ndarray of int64, shape [n_codes]
        Label of each atom, or -1 for atoms left without a label (there are
        ``n_codes - n_labels`` of them when ``n_codes > n_labels``). When
        ``n_codes <= n_labels`` every atom is assigned, unused ones included;
        an assignment worth zero items is arbitrary but harmless.

    Examples
    --------
    >>> hungarian_mapping([[5, 0], [4, 1], [0, 0]])
    array([ 0,  1, -1])
    """
    conf = _confusion(confusion)
    mapping = np.full(conf.shape[0], -1, dtype=np.int64)
    if conf.shape[1] == 0:
        return mapping
    rows, cols = linear_sum_assignment(conf.astype(np.float64), maximize=True)
    mapping[rows] = cols
    return mapping


def _mapped_accuracy(conf: npt.NDArray[Any], mapping: IntArray) -> float:
    """Fraction of counted items whose atom maps to their label."""
    total = conf.sum()
    if total == 0:
        raise InputError("no item has a known label (all labels < 0), accuracy is undefined")
    rows = np.flatnonzero(mapping >= 0)
    hits = conf[rows, mapping[rows]].sum()
    return float(hits / total)


def codebook_accuracy(
    codes: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    mapping: str | npt.ArrayLike = "majority",
    n_codes: int | None = None,
    n_labels: int | None = None,
) -> float:
    """Fraction of labelled items whose atom maps to their own label.

    Parameters
    ----------
    codes : array_like of int, shape [N]
        Atom index of each item.
    labels : array_like of int, shape [N]
        Label of each item; items with a negative label are ignored.
    mapping : {"majority", "hungarian"} or array_like of int, shape [n_codes]
        ``"majority"`` maps every atom to its most frequent label
        (:func:`majority_mapping`, many-to-one); ``"hungarian"`` uses the best
        one-to-one assignment (:func:`hungarian_mapping`). An int array is used
        as a fixed atom -> label map (e.g. one fitted on a training split and
        stored with a checkpoint); -1 entries never count as correct.
    n_codes, n_labels : int, optional
        As in :func:`confusion_matrix`. With a fixed ``mapping`` array,
        ``n_codes`` defaults to its length.

    Returns
    -------
    float
        Accuracy in [0, 1].

    Raises
    ------
    InputError
        For bad arrays (see :func:`confusion_matrix`), an unknown mapping name,
        a mapping array of the wrong shape, or when no label is known.

    Examples
    --------
    >>> codebook_accuracy([2, 2, 0, 1], [0, 0, 1, 1], mapping="majority")
    1.0
    >>> codebook_accuracy([2, 2, 0, 1], [0, 0, 1, 1], mapping="hungarian")
    0.75
    """
    if isinstance(mapping, str):
        if mapping not in ("majority", "hungarian"):
            raise InputError(f"mapping={mapping!r} must be 'majority', 'hungarian' or an array")
        conf = confusion_matrix(codes, labels, n_codes=n_codes, n_labels=n_labels)
        mapping_a = majority_mapping(conf) if mapping == "majority" else hungarian_mapping(conf)
        return _mapped_accuracy(conf, mapping_a)

    mapping_a = _int_1d("mapping", mapping)
    if n_codes is None:
        n_codes = mapping_a.shape[0]
    elif n_codes != mapping_a.shape[0]:
        raise InputError(f"mapping has {mapping_a.shape[0]} entries but n_codes={n_codes}")
    conf = confusion_matrix(codes, labels, n_codes=n_codes, n_labels=n_labels)
    if mapping_a.max() >= conf.shape[1]:
        # A fixed map may name labels absent from this split: pad the columns with zeros.
        pad = int(mapping_a.max()) + 1 - conf.shape[1]
        conf = np.pad(conf, ((0, 0), (0, pad)))
    return _mapped_accuracy(conf, mapping_a)


def _readonly(arr: np.ndarray) -> np.ndarray:
    out = np.array(arr, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class CodebookReport:
    """How well the atoms of a codebook line up with ground-truth labels.

    Attributes
    ----------
    majority_accuracy : float
        :func:`codebook_accuracy` with the many-to-one majority mapping, in [0, 1].
    one_to_one_accuracy : float
        :func:`codebook_accuracy` with the one-to-one Hungarian mapping, in [0, 1].
    n_used_atoms : int
        Number of atoms that at least one item was quantised to (labelled or not).
    atom_purity : float
        Mean over atoms used by labelled items of the fraction of their items
        carrying their majority label, weighted by how many labelled items each
        atom holds, in [0, 1]. With this weighting it equals
        ``majority_accuracy``.
    confusion : numpy.ndarray of int64, shape [n_codes, n_labels]
        Read-only counts from :func:`confusion_matrix`.
    majority_map : numpy.ndarray of int64, shape [n_codes]
        Read-only majority atom -> label map, -1 for unused atoms.
    """

    majority_accuracy: float
    one_to_one_accuracy: float
    n_used_atoms: int
    atom_purity: float
    confusion: np.ndarray = field(repr=False)
    majority_map: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-able plain types (floats, ints, nested lists).

        Examples
        --------
        >>> import json
        >>> r = codebook_report([0, 1], [1, 0], n_codes=2, n_labels=2)
        >>> json.dumps(r.to_dict())[:26]
        '{"majority_accuracy": 1.0,'
        """
        return {
            "majority_accuracy": float(self.majority_accuracy),
            "one_to_one_accuracy": float(self.one_to_one_accuracy),
            "n_used_atoms": int(self.n_used_atoms),
            "atom_purity": float(self.atom_purity),
            "confusion": np.asarray(self.confusion).astype(int).tolist(),
            "majority_map": np.asarray(self.majority_map).astype(int).tolist(),
        }


def codebook_report(
    codes: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    n_codes: int,
    n_labels: int,
) -> CodebookReport:
    """Summarise how atoms relate to labels in one :class:`CodebookReport`.

    Parameters
    ----------
    codes : array_like of int, shape [N]
        Atom index of each item, ``0 <= codes < n_codes``.
    labels : array_like of int, shape [N]
        Label of each item, ``labels < n_labels``; negative labels are unknown
        and only count towards ``n_used_atoms``.
    n_codes : int
        Codebook size.
    n_labels : int
        Number of labels.

    Returns
    -------
    CodebookReport

    Raises
    ------
    InputError
        For bad arrays (see :func:`confusion_matrix`) or when no label is known.

    Examples
    --------
    >>> r = codebook_report([0, 0, 1, 2, 3], [1, 1, 0, 0, -1], n_codes=5, n_labels=2)
    >>> r.majority_accuracy, r.one_to_one_accuracy, r.n_used_atoms
    (1.0, 0.75, 4)
    >>> r.majority_map.tolist()
    [1, 0, 0, -1, -1]
    """
    conf = confusion_matrix(codes, labels, n_codes=n_codes, n_labels=n_labels)
    maj = majority_mapping(conf)
    majority_acc = _mapped_accuracy(conf, maj)
    one_to_one_acc = _mapped_accuracy(conf, hungarian_mapping(conf))
    usage = conf.sum(axis=1)
    used = usage > 0
    purity = float(np.average(conf[used].max(axis=1) / usage[used], weights=usage[used]))
    n_used = int(np.unique(np.asarray(codes)).size)
    return CodebookReport(
        majority_accuracy=majority_acc,
        one_to_one_accuracy=one_to_one_acc,
        n_used_atoms=n_used,
        atom_purity=purity,
        confusion=_readonly(conf),
        majority_map=_readonly(maj),
    )


# --------------------------------------------------------------------------------------------
# embedding quality
# --------------------------------------------------------------------------------------------


def knn_accuracy(
    vectors: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    k: int = 5,
    metric: str = "euclidean",
) -> float:
    """Leave-one-out k-nearest-neighbour classification accuracy.

    Each item is predicted by a majority vote of the labels of its ``k``
    nearest *other* items; a tie between labels goes to the tied label of the
    nearest neighbour. Duplicate points are handled: the item's own index is
    excluded, whatever position the neighbour search returns it at.

    Parameters
    ----------
    vectors : array_like of float, shape [N, D]
        One embedding per item; must be finite.
    labels : array_like of int, shape [N]
        Class id of each item. All values, negative ones included, are treated
        as classes: drop unknown items before calling.
    k : int, default 5
        Number of neighbours, ``1 <= k <= N - 1``.
    metric : str, default "euclidean"
        Any metric name :class:`sklearn.neighbors.NearestNeighbors` accepts
        (e.g. "euclidean", "cosine", "manhattan").

    Returns
    -------
    float
        Fraction of items predicted correctly, in [0, 1].

    Raises
    ------
    InputError
        For bad arrays, lengths that differ, ``k`` out of range or an unknown metric.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> knn_accuracy(x, [0, 0, 0, 1, 1, 1], k=2)
    1.0
    """
    x = _float_2d("vectors", vectors)
    y = _int_1d("labels", labels)
    _same_length("vectors", x, "labels", y)
    n = x.shape[0]
    k = _positive_int("k", k)
    if k > n - 1:
        raise InputError(f"k={k} needs at least {k + 1} items, got {n}")
    if not isinstance(metric, str):
        raise InputError(f"metric={metric!r} must be a metric name")

    try:
        # imported here, not with the module: transcription and swapping never need it
        from sklearn.neighbors import NearestNeighbors

        nn = NearestNeighbors(n_neighbors=k + 1, metric=metric).fit(x)
    except ValueError as exc:
        raise InputError(f"metric={metric!r} is not usable: {exc}") from exc
    idx = nn.kneighbors(x, return_distance=False)  # [N, k+1], nearest first

    rows = np.arange(n)
    is_self = idx == rows[:, None]
    # With more than k+1 duplicates, self may be missing from its own list: drop the farthest.
    is_self[~is_self.any(axis=1), -1] = True
    neigh = idx[~is_self].reshape(n, k)  # row-major boolean indexing keeps nearest-first order

    classes, y_enc = np.unique(y, return_inverse=True)
    neigh_lab = y_enc[neigh]  # [N, k]
    votes = np.zeros((n, classes.size), dtype=np.int64)
    np.add.at(votes, (np.repeat(rows, k), neigh_lab.ravel()), 1)
    tied = votes == votes.max(axis=1, keepdims=True)  # [N, C]
    first_tied = np.argmax(tied[rows[:, None], neigh_lab], axis=1)  # nearest neighbour among tied
    pred = neigh_lab[rows, first_tied]
    return float(np.mean(pred == y_enc))


def chance_accuracy(labels: npt.ArrayLike) -> float:
    """Accuracy of always guessing the most common label.

    Parameters
    ----------
    labels : array_like of int, shape [N]
        Class id of each item (all values treated as classes).

    Returns
    -------
    float
        Frequency of the most common label, in (0, 1].

    Examples
    --------
    >>> chance_accuracy([0, 0, 0, 1])
    0.75
    """
    y = _int_1d("labels", labels)
    _, counts = np.unique(y, return_counts=True)
    return float(counts.max() / y.size)


def _average_precision_rows(dist: FloatArray, relevant: npt.NDArray[np.bool_]) -> FloatArray:
    """Average precision of each row, ranking by ascending distance.

    Equal to ``sklearn.metrics.average_precision_score(relevant[i], -dist[i])``
    row by row, including its handling of tied scores (a group of equal
    distances counts as one threshold). Rows without a relevant item give NaN.
    """
    order = np.argsort(dist, axis=1, kind="stable")
    d = np.take_along_axis(dist, order, axis=1)
    r = np.take_along_axis(relevant, order, axis=1)
    n_pos = r.sum(axis=1)
    tp = np.cumsum(r, axis=1)
    precision = tp / np.arange(1, d.shape[1] + 1)
    # Each position takes the precision at the end of its group of tied distances.
    is_end = np.ones_like(r)
    is_end[:, :-1] = d[:, 1:] != d[:, :-1]
    end_idx = np.where(is_end, np.arange(d.shape[1]), d.shape[1])
    end_idx = np.minimum.accumulate(end_idx[:, ::-1], axis=1)[:, ::-1]
    group_precision = np.take_along_axis(precision, end_idx, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (r * group_precision).sum(axis=1) / n_pos


def retrieval_pr_auc(
    vectors: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    max_queries: int = 2000,
    seed: int = 0,
) -> float:
    """Mean nearest-neighbour retrieval average precision (PR-AUC), as in the V3 paper.

    For each query item, all *other* items are ranked by Euclidean distance
    and an item is relevant when it has the query's label; the query's score
    is its average precision, i.e.
    ``sklearn.metrics.average_precision_score(relevant, -distance)``. The
    result is the mean over queries. Queries whose label no other item shares
    have no relevant item and are skipped.

    Parameters
    ----------
    vectors : array_like of float, shape [N, D]
        One embedding per item; must be finite.
    labels : array_like of int, shape [N]
        Class id of each item (all values treated as classes).
    max_queries : int, default 2000
        At most this many items, drawn without replacement, serve as queries;
        all items are queries when ``N <= max_queries``.
    seed : int, default 0
        Seed of the query draw; the result is deterministic given the seed.

    Returns
    -------
    float
        Mean average precision over queries, in [0, 1]. Random labels give about
        the frequency of the query's class; perfectly separated classes give 1.

    Raises
    ------
    InputError
        For bad arrays, lengths that differ, a bad ``max_queries``, or when no
        label occurs twice.

    Notes
    -----
    The average precision is computed in vectorised numpy, in chunks of
    queries, and equals scikit-learn's ``average_precision_score`` (ties in
    distance included); distances come from :func:`scipy.spatial.distance.cdist`
    so duplicate points are exactly at distance 0.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> retrieval_pr_auc(x, [0, 0, 1, 1])
    1.0
    """
    x = _float_2d("vectors", vectors)
    y = _int_1d("labels", labels)
    _same_length("vectors", x, "labels", y)
    max_queries = _positive_int("max_queries", max_queries)
    n = x.shape[0]
    if n < 2:
        raise InputError(f"retrieval needs at least 2 items, got {n}")

    rng = np.random.default_rng(seed)
    if n > max_queries:
        queries = np.sort(rng.choice(n, size=max_queries, replace=False))
    else:
        queries = np.arange(n)

    chunk = max(1, _DISTANCE_CHUNK_CELLS // n)
    scores: list[FloatArray] = []
    for start in range(0, queries.size, chunk):
        q = queries[start : start + chunk]
        dist = cdist(x[q], x, metric="euclidean")
        relevant = y[q][:, None] == y[None, :]
        # Exclude the query itself: push it past every other item and make it irrelevant.
        dist[np.arange(q.size), q] = np.inf
        relevant[np.arange(q.size), q] = False
        scores.append(_average_precision_rows(dist, relevant))
    ap = np.concatenate(scores)
    ap = ap[np.isfinite(ap)]
    if ap.size == 0:
        raise InputError(
            f"no query label occurs twice among {n} items ({np.unique(y).size} distinct labels)"
        )
    return float(ap.mean())


@dataclass(frozen=True)
class DisentanglementReport:
    """How well content and style embeddings separate their own factor and not the other.

    ``x_knn_y`` is the leave-one-out kNN accuracy of predicting *y* labels from
    *x* vectors. Good disentanglement: high ``content_knn_content`` and
    ``style_knn_style``, and leakage scores ``content_knn_style`` and
    ``style_knn_content`` close to their chance levels.

    Attributes
    ----------
    content_knn_content : float
        Content labels from content vectors (items with a known content label).
    style_knn_style : float
        Style labels from style vectors (all items).
    content_knn_style : float
        Leakage: style labels from content vectors (all items).
    style_knn_content : float
        Leakage: content labels from style vectors (items with a known content label).
    content_chance : float
        :func:`chance_accuracy` of the known content labels.
    style_chance : float
        :func:`chance_accuracy` of the style labels.
    content_pr_auc : float
        :func:`retrieval_pr_auc` of content vectors with known content labels.
    style_pr_auc : float
        :func:`retrieval_pr_auc` of style vectors with style labels.
    """

    content_knn_content: float
    style_knn_style: float
    content_knn_style: float
    style_knn_content: float
    content_chance: float
    style_chance: float
    content_pr_auc: float
    style_pr_auc: float

    def to_dict(self) -> dict[str, float]:
        """Return the report as a JSON-able dict of floats.

        Examples
        --------
        >>> r = DisentanglementReport(1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0)
        >>> r.to_dict()["content_knn_style"]
        0.5
        """
        return {
            "content_knn_content": float(self.content_knn_content),
            "style_knn_style": float(self.style_knn_style),
            "content_knn_style": float(self.content_knn_style),
            "style_knn_content": float(self.style_knn_content),
            "content_chance": float(self.content_chance),
            "style_chance": float(self.style_chance),
            "content_pr_auc": float(self.content_pr_auc),
            "style_pr_auc": float(self.style_pr_auc),
        }


def disentanglement_report(
    content_vectors: npt.ArrayLike,
    style_vectors: npt.ArrayLike,
    content_labels: npt.ArrayLike,
    style_labels: npt.ArrayLike,
    *,
    k: int = 5,
    max_queries: int = 2000,
    seed: int = 0,
) -> DisentanglementReport:
    """Measure content/style separation and leakage with kNN and retrieval metrics.

    Parameters
    ----------
    content_vectors : array_like of float, shape [N, Dc]
        Content embedding of each item.
    style_vectors : array_like of float, shape [N, Ds]
        Style embedding of each item.
    content_labels : array_like of int, shape [N]
        Content class of each item; items with a negative content label are
        dropped from the metrics that use content labels only.
    style_labels : array_like of int, shape [N]
        Style class of each item (all values treated as classes).
    k : int, default 5
        Neighbours for :func:`knn_accuracy`.
    max_queries : int, default 2000
        Query budget for :func:`retrieval_pr_auc`.
    seed : int, default 0
        Seed for :func:`retrieval_pr_auc`.

    Returns
    -------
    DisentanglementReport

    Raises
    ------
    InputError
        For bad arrays, lengths that differ, too few items for ``k`` (after
        dropping unknown content labels), or no known content label.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> c_lab, s_lab = np.repeat([0, 1], 20), np.tile([0, 1], 20)
    >>> content = c_lab[:, None] * 10.0 + rng.normal(size=(40, 2))
    >>> style = s_lab[:, None] * 10.0 + rng.normal(size=(40, 2))
    >>> r = disentanglement_report(content, style, c_lab, s_lab)
    >>> r.content_knn_content, r.style_knn_style
    (1.0, 1.0)
    """
    cv = _float_2d("content_vectors", content_vectors)
    sv = _float_2d("style_vectors", style_vectors)
    cl = _int_1d("content_labels", content_labels)
    sl = _int_1d("style_labels", style_labels)
    _same_length("content_vectors", cv, "style_vectors", sv)
    _same_length("content_vectors", cv, "content_labels", cl)
    _same_length("content_vectors", cv, "style_labels", sl)
    known = cl >= 0
    if not known.any():
        raise InputError(f"no item has a known content label (all {cl.size} are < 0)")

    return DisentanglementReport(
        content_knn_content=knn_accuracy(cv[known], cl[known], k=k),
        style_knn_style=knn_accuracy(sv, sl, k=k),
        content_knn_style=knn_accuracy(cv, sl, k=k),
        style_knn_content=knn_accuracy(sv[known], cl[known], k=k),
        content_chance=chance_accuracy(cl[known]),
        style_chance=chance_accuracy(sl),
        content_pr_auc=retrieval_pr_auc(cv[known], cl[known], max_queries=max_queries, seed=seed),
        style_pr_auc=retrieval_pr_auc(sv, sl, max_queries=max_queries, seed=seed),
    )


# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------


def _label_name(label: int, label_names: LabelNames | None) -> str:
    if label < 0:
        return "unknown"
    if label_names is None:
        return str(label)
    if isinstance(label_names, Mapping):
        return str(label_names.get(label, label))
    return str(label_names[label])


def _check_label_names(label_names: LabelNames | None, labels: np.ndarray) -> None:
    if label_names is None or isinstance(label_names, Mapping):
        return
    if isinstance(label_names, str):
        raise InputError(f"label_names must be a sequence of names, got the string {label_names!r}")
    known = labels[labels >= 0]
    if known.size and int(known.max()) >= len(label_names):
        raise InputError(
            f"label_names has {len(label_names)} names but the largest label is {known.max()}"
        )


def _save_atomic(fig: Any, path: str | os.PathLike[str]) -> Path:
    """Render ``fig`` to PNG at ``path`` through a temp file in the same folder."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    out = Path(path)
    if out.is_dir():
        raise InputError(f"{out}: is a folder, expected a PNG file path")
    out.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    return atomic_write(out, lambda tmp: fig.savefig(tmp, format="png"))


def plot_confusion(
    confusion: npt.ArrayLike,
    path: str | os.PathLike[str],
    *,
    label_names: LabelNames | None = None,
    title: str = "Codebook atoms vs labels",
) -> Path:
    """Draw an atom x label confusion matrix as a heat map and save it as PNG.

    Rows (atoms) are sorted by their majority label, then by usage, so a
    codebook whose atoms align with labels shows a diagonal; unused atoms come
    last. Counts are written into the cells when the matrix is small, and a
    colour bar shows the scale.

    Parameters
    ----------
    confusion : array_like, shape [n_codes, n_labels]
        Non-negative counts, e.g. from :func:`confusion_matrix`.
    path : str or os.PathLike
        Output PNG file; its folder is created if missing. Written atomically
        (temp file in the same folder, then :func:`os.replace`).
    label_names : sequence of str or mapping int -> str, optional
        Column names; a sequence is indexed by label and needs ``n_labels`` names.
    title : str
        Figure title.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "confusion.png"
    >>> plot_confusion([[5, 0], [1, 4]], out, label_names=["C", "D"]).name
    'confusion.png'
    """
    from matplotlib.figure import Figure

    conf = _confusion(confusion)
    n_codes, n_labels = conf.shape
    if n_labels == 0:
        raise InputError(f"confusion has no label columns (shape {conf.shape})")
    _check_label_names(label_names, np.arange(n_labels))

    maj = majority_mapping(conf)
    usage = conf.sum(axis=1)
    sort_key = np.where(maj < 0, n_labels, maj)
    order = np.lexsort((-usage, sort_key))  # last key is primary
    shown = conf[order]

    width = min(24.0, 3.0 + 0.35 * n_labels)
    height = min(24.0, 2.5 + 0.25 * n_codes)
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    im = ax.imshow(shown, aspect="auto", interpolation="nearest", cmap="viridis")
    fig.colorbar(im, ax=ax, label="count")
    ax.set_title(title)
    ax.set_xlabel("label")
    ax.set_ylabel("atom (sorted by majority label)")
    if n_labels <= 60:
        ax.set_xticks(np.arange(n_labels))
        ax.set_xticklabels(
            [_label_name(i, label_names) for i in range(n_labels)], rotation=90, fontsize=7
        )
    if n_codes <= 80:
        ax.set_yticks(np.arange(n_codes))
        ax.set_yticklabels([str(a) for a in order], fontsize=7)
    if shown.size <= _ANNOTATE_MAX_CELLS:
        threshold = shown.max() / 2 if shown.max() > 0 else 1
        for (i, j), value in np.ndenumerate(shown):
            if value:
                text = f"{value:g}" if conf.dtype.kind == "f" else str(int(value))
                colour = "black" if value > threshold else "white"
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color=colour)
    return _save_atomic(fig, path)


def plot_tsne(
    vectors: npt.ArrayLike,
    labels: npt.ArrayLike,
    path: str | os.PathLike[str],
    *,
    label_names: LabelNames | None = None,
    title: str = "t-SNE",
    seed: int = 0,
    max_points: int = 2000,
) -> Path:
    """Embed vectors in 2-D with t-SNE and save a scatter plot coloured by label.

    Uses :class:`sklearn.manifold.TSNE` with ``init="pca"`` and perplexity
    ``min(30, (n - 1) / 3)``. Items with a negative label are drawn in grey as
    "unknown". A legend names the classes when there are at most 24 of them;
    beyond that a colour bar shows the label value.

    Parameters
    ----------
    vectors : array_like of float, shape [N, D]
        One embedding per item; finite, ``N >= 4``, ``D >= 2``.
    labels : array_like of int, shape [N]
        Label of each item.
    path : str or os.PathLike
        Output PNG file; its folder is created if missing. Written atomically.
    label_names : sequence of str or mapping int -> str, optional
        Legend names, indexed by label.
    title : str
        Figure title.
    seed : int, default 0
        Seed of the point subsample and of t-SNE.
    max_points : int, default 2000
        At most this many points, drawn without replacement, are embedded.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> x = np.random.default_rng(0).normal(size=(20, 3))
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "tsne.png"
    >>> plot_tsne(x, np.arange(20) % 2, out).name
    'tsne.png'
    """
    from matplotlib.figure import Figure
    from sklearn.manifold import TSNE

    x = _float_2d("vectors", vectors)
    y = _int_1d("labels", labels)
    _same_length("vectors", x, "labels", y)
    max_points = _positive_int("max_points", max_points)
    if x.shape[1] < 2:
        raise InputError(f"t-SNE with init='pca' needs D >= 2 dimensions, got shape {x.shape}")
    _check_label_names(label_names, y)

    rng = np.random.default_rng(seed)
    if x.shape[0] > max_points:
        keep = np.sort(rng.choice(x.shape[0], size=max_points, replace=False))
        x, y = x[keep], y[keep]
    n = x.shape[0]
    if n < 4:
        raise InputError(f"t-SNE needs at least 4 points, got {n} (max_points={max_points})")

    tsne = TSNE(
        n_components=2,
        init="pca",
        perplexity=min(30.0, (n - 1) / 3),
        random_state=seed,
        # Barnes-Hut crawls on tight, nearly duplicate clusters (a well-trained
        # codebook's content vectors); the exact method is fast at this size.
        method="exact" if n <= _TSNE_EXACT_MAX_POINTS else "barnes_hut",
    )
    xy = tsne.fit_transform(x)

    fig = Figure(figsize=(7.5, 6.0), layout="constrained")
    ax = fig.add_subplot()
    unknown = y < 0
    if unknown.any():
        ax.scatter(xy[unknown, 0], xy[unknown, 1], s=6, c="lightgrey", label="unknown")
    classes = np.unique(y[~unknown])
    if 0 < classes.size <= _LEGEND_MAX_CLASSES:
        from matplotlib import colormaps

        cmap = colormaps["tab10" if classes.size <= 10 else "tab20"]
        for i, c in enumerate(classes):
            pts = xy[y == c]
            ax.scatter(
                pts[:, 0],
                pts[:, 1],
                s=8,
                color=cmap(i % cmap.N),
                label=_label_name(int(c), label_names),
            )
    elif classes.size:
        known = ~unknown
        sc = ax.scatter(xy[known, 0], xy[known, 1], s=8, c=y[known], cmap="viridis")
        fig.colorbar(sc, ax=ax, label="label")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7, markerscale=1.5)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return _save_atomic(fig, path)
