"""Tests of v3.metrics on tiny inputs whose answers are worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from v3 import metrics
from v3.errors import InputError
from v3.metrics import (
    CodebookReport,
    DisentanglementReport,
    chance_accuracy,
    codebook_accuracy,
    codebook_report,
    confusion_matrix,
    disentanglement_report,
    hungarian_mapping,
    knn_accuracy,
    majority_mapping,
    plot_confusion,
    plot_tsne,
    retrieval_pr_auc,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def two_clusters(rng: np.random.Generator, n_per: int = 20, dim: int = 3) -> tuple:
    """Two tight clusters 100 units apart, labels 0 and 1."""
    labels = np.repeat([0, 1], n_per)
    vectors = labels[:, None] * 100.0 + rng.normal(scale=0.1, size=(2 * n_per, dim))
    return vectors, labels


# --------------------------------------------------------------------------------------------
# confusion matrix and mappings
# --------------------------------------------------------------------------------------------


def test_all_is_explicit_and_resolves() -> None:
    assert sorted(metrics.__all__) == sorted(set(metrics.__all__))
    for name in metrics.__all__:
        assert hasattr(metrics, name)


def test_confusion_matrix_counts_and_ignores_unknown() -> None:
    conf = confusion_matrix([0, 0, 1, 2, 2, 2], [1, 1, 0, 0, 1, -1], n_codes=4, n_labels=3)
    expected = np.array([[0, 2, 0], [1, 0, 0], [1, 1, 0], [0, 0, 0]])
    assert conf.shape == (4, 3)
    assert conf.dtype == np.int64
    np.testing.assert_array_equal(conf, expected)


def test_confusion_matrix_default_sizes() -> None:
    conf = confusion_matrix(np.array([0, 3]), np.array([2, -5]))
    assert conf.shape == (4, 3)  # max code + 1, max known label + 1
    assert conf.sum() == 1


def test_perfect_permuted_codebook_is_perfect_under_both_mappings() -> None:
    labels = np.array([0, 1, 2, 3] * 5)
    perm = np.array([2, 0, 3, 1])  # atom for each label
    codes = perm[labels]
    for mapping in ("majority", "hungarian"):
        assert codebook_accuracy(codes, labels, mapping=mapping) == 1.0
    conf = confusion_matrix(codes, labels)
    np.testing.assert_array_equal(majority_mapping(conf)[perm], [0, 1, 2, 3])
    np.testing.assert_array_equal(hungarian_mapping(conf)[perm], [0, 1, 2, 3])


def test_majority_and_one_to_one_differ_by_hand() -> None:
    # Atoms 0 and 1 both hold mostly label 0; atom 2 holds label 1.
    #          label:  0  1
    conf = np.array(
        [
            [6, 1],  # atom 0
            [3, 1],  # atom 1
            [0, 4],  # atom 2
            [0, 0],  # atom 3, unused
        ]
    )
    np.testing.assert_array_equal(majority_mapping(conf), [0, 0, 1, -1])
    # One-to-one: atom 0 -> 0 (6) and atom 2 -> 1 (4) = 10 of 15; atoms 1 and 3 get nothing.
    np.testing.assert_array_equal(hungarian_mapping(conf), [0, -1, 1, -1])

    codes = np.repeat([0, 0, 1, 1, 2], [6, 1, 3, 1, 4])
    labels = np.repeat([0, 1, 0, 1, 1], [6, 1, 3, 1, 4])
    np.testing.assert_array_equal(confusion_matrix(codes, labels, n_codes=4, n_labels=2), conf)
    kwargs = {"n_codes": 4, "n_labels": 2}
    assert codebook_accuracy(codes, labels, mapping="majority", **kwargs) == pytest.approx(13 / 15)
    assert codebook_accuracy(codes, labels, mapping="hungarian", **kwargs) == pytest.approx(10 / 15)

    report = codebook_report(codes, labels, n_codes=4, n_labels=2)
    assert isinstance(report, CodebookReport)
    assert report.majority_accuracy == pytest.approx(13 / 15)
    assert report.one_to_one_accuracy == pytest.approx(10 / 15)
    assert report.n_used_atoms == 3
    # usage-weighted purity: (6 + 3 + 4) / 15
    assert report.atom_purity == pytest.approx(13 / 15)
    np.testing.assert_array_equal(report.confusion, conf)
    np.testing.assert_array_equal(report.majority_map, [0, 0, 1, -1])


def test_unused_atoms_map_to_minus_one() -> None:
    conf = confusion_matrix([1, 1, 4], [0, 0, 1], n_codes=6, n_labels=2)
    np.testing.assert_array_equal(majority_mapping(conf), [-1, 0, -1, -1, 1, -1])
    hung = hungarian_mapping(conf)
    np.testing.assert_array_equal(hung, [-1, 0, -1, -1, 1, -1])


def test_hungarian_more_labels_than_atoms() -> None:
    conf = np.array([[1, 5, 0], [0, 4, 3]])
    np.testing.assert_array_equal(hungarian_mapping(conf), [1, 2])


def test_fixed_mapping_array() -> None:
    # A map fitted elsewhere, naming a label (3) absent from these labels.
    fixed = np.array([1, 0, 3, -1])
    assert codebook_accuracy([0, 1, 2, 3], [1, 0, 0, 0], mapping=fixed) == pytest.approx(0.5)


def test_codebook_report_is_frozen_and_json_able() -> None:
    report = codebook_report([0, 1, 1], [0, 1, 1], n_codes=3, n_labels=2)
    with pytest.raises(AttributeError):
        report.majority_accuracy = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        report.confusion[0, 0] = 99
    d = report.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["confusion"] == [[1, 0], [0, 2], [0, 0]]
    assert d["majority_map"] == [0, 1, -1]
    assert d["n_used_atoms"] == 2


# --------------------------------------------------------------------------------------------
# kNN and chance
# --------------------------------------------------------------------------------------------


def test_knn_two_clusters_is_perfect(rng: np.random.Generator) -> None:
    vectors, labels = two_clusters(rng)
    assert knn_accuracy(vectors, labels, k=5) == 1.0
    assert knn_accuracy(vectors, labels, k=3, metric="manhattan") == 1.0


def test_knn_random_labels_is_near_chance(rng: np.random.Generator) -> None:
    vectors = rng.normal(size=(600, 4))
    labels = rng.integers(0, 3, size=600)
    acc = knn_accuracy(vectors, labels, k=5)
    assert abs(acc - 1 / 3) < 0.08
    assert chance_accuracy(labels) == pytest.approx(np.bincount(labels).max() / 600)


def test_knn_excludes_own_index_among_duplicates() -> None:
    # Two copies of one point with different labels, and a far pair sharing a label. With
    # k=1 each copy's nearest OTHER point is the other copy, so both copies are wrong; an
    # implementation that drops the first neighbour instead of the own index may keep
    # the point itself (distance 0 too) and score it right.
    vectors = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 0.0], [5.0, 1.0]])
    labels = np.array([0, 1, 2, 2])
    assert knn_accuracy(vectors, labels, k=1) == 0.5
    # More duplicates than k + 1, so the search may not return the point itself at all:
    # each 0 sees three other copies (at most one labelled 1) -> right; the 1 sees only 0s.
    dup = np.zeros((8, 2))
    dup_labels = np.array([0] * 7 + [1])
    assert knn_accuracy(dup, dup_labels, k=3) == pytest.approx(7 / 8)


def test_knn_tie_goes_to_nearest_neighbour_among_tied_labels() -> None:
    # 1-D points, k=5 (all others). By hand, votes in nearest-first order:
    #   item0 (l1): l3 l1 l2 l1 l2 -> tie {1,2}, nearest tied is l1 -> right
    #   item1 (l3): l1 l1 l2 l1 l2 -> l1 -> wrong
    #   item2 (l1): l3 l2 l1 l1 l2 -> tie {1,2}, nearest tied is l2 -> wrong
    #   item3 (l2): l1 l1 l3 l2 l1 -> l1 -> wrong
    #   item4 (l1): l2 l2 l1 l3 l1 -> tie {1,2}, nearest tied is l2 -> wrong
    #   item5 (l2): l1 l2 l1 l3 l1 -> l1 -> wrong
    # "Nearest overall" would give item0 l3 (0/6); "smallest label" would give 3/6.
    vectors = np.array([[0.0], [1.0], [2.1], [3.3], [4.6], [6.0]])
    labels = np.array([1, 3, 1, 2, 1, 2])
    assert knn_accuracy(vectors, labels, k=5) == pytest.approx(1 / 6)


def test_chance_accuracy() -> None:
    assert chance_accuracy([3, 3, 3, 1]) == 0.75
    assert chance_accuracy(np.array([-1, -1, 5])) == pytest.approx(2 / 3)


# --------------------------------------------------------------------------------------------
# retrieval
# --------------------------------------------------------------------------------------------


def test_pr_auc_separated_clusters_is_one(rng: np.random.Generator) -> None:
    vectors, labels = two_clusters(rng)
    assert retrieval_pr_auc(vectors, labels) == 1.0


def test_pr_auc_random_labels_is_near_class_frequency(rng: np.random.Generator) -> None:
    vectors = rng.normal(size=(400, 4))
    labels = rng.integers(0, 4, size=400)
    value = retrieval_pr_auc(vectors, labels, max_queries=200, seed=3)
    assert abs(value - 0.25) < 0.05
    assert retrieval_pr_auc(vectors, labels, max_queries=200, seed=3) == value  # deterministic


def test_pr_auc_matches_sklearn_with_ties(rng: np.random.Generator) -> None:
    # Integer grid points make many equal distances; duplicates too.
    vectors = rng.integers(0, 3, size=(40, 2)).astype(float)
    labels = rng.integers(0, 3, size=40)
    expected = []
    for q in range(40):
        others = np.delete(np.arange(40), q)
        dist = np.linalg.norm(vectors[others] - vectors[q], axis=1)
        relevant = labels[others] == labels[q]
        if relevant.any():
            expected.append(average_precision_score(relevant, -dist))
    assert retrieval_pr_auc(vectors, labels) == pytest.approx(np.mean(expected), abs=1e-12)


def test_pr_auc_skips_singleton_queries_and_needs_a_pair() -> None:
    vectors = np.array([[0.0], [0.1], [9.0]])
    assert retrieval_pr_auc(vectors, [0, 0, 1]) == 1.0
    with pytest.raises(InputError, match="occurs twice"):
        retrieval_pr_auc(vectors, [0, 1, 2])


# --------------------------------------------------------------------------------------------
# disentanglement report
# --------------------------------------------------------------------------------------------


def test_disentanglement_report_separates_and_drops_unknown_content(
    rng: np.random.Generator,
) -> None:
    n = 80
    content_labels = np.repeat([0, 1], n // 2)
    style_labels = np.tile([0, 1], n // 2)
    content = content_labels[:, None] * 100.0 + rng.normal(size=(n, 3))
    style = style_labels[:, None] * 100.0 + rng.normal(size=(n, 3))
    # Unknown content labels on a few items whose content vectors sit in the wrong cluster:
    # if they were kept (as a class -1) content_knn_content would fall below 1.
    content_labels = content_labels.copy()
    content_labels[:4] = -1
    content[:4] += 100.0

    report = disentanglement_report(content, style, content_labels, style_labels, k=5)
    assert isinstance(report, DisentanglementReport)
    assert report.content_knn_content == 1.0
    assert report.style_knn_style == 1.0
    assert report.content_pr_auc == 1.0
    assert report.style_pr_auc == 1.0
    assert report.content_chance == pytest.approx(40 / 76)
    assert report.style_chance == 0.5
    # Leakage near chance: the other factor is independent of these vectors.
    assert abs(report.content_knn_style - 0.5) < 0.2
    assert abs(report.style_knn_content - 0.5) < 0.2
    d = report.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert set(d) == {
        "content_knn_content",
        "style_knn_style",
        "content_knn_style",
        "style_knn_content",
        "content_chance",
        "style_chance",
        "content_pr_auc",
        "style_pr_auc",
    }


# --------------------------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------------------------


def _assert_png_and_no_temp(path: Path, folder: Path) -> None:
    assert path.is_file()
    data = path.read_bytes()
    assert len(data) > 1000
    assert data[:8] == PNG_SIGNATURE
    assert sorted(p.name for p in folder.iterdir()) == [path.name]


def test_plot_confusion_writes_png(tmp_path: Path) -> None:
    conf = np.array([[0, 5], [7, 1], [0, 0]])
    out = plot_confusion(conf, tmp_path / "conf.png", label_names=["a", "b"], title="t")
    assert out == tmp_path / "conf.png"
    _assert_png_and_no_temp(out, tmp_path)
    # Overwrites in place, still atomically.
    plot_confusion(conf, str(out))
    _assert_png_and_no_temp(out, tmp_path)


def test_plot_tsne_writes_png(tmp_path: Path, rng: np.random.Generator) -> None:
    vectors, labels = two_clusters(rng, n_per=15)
    labels = labels.copy()
    labels[0] = -1
    out = plot_tsne(vectors, labels, tmp_path / "tsne.png", label_names={0: "x", 1: "y"})
    _assert_png_and_no_temp(out, tmp_path)


def test_plot_tsne_subsamples(tmp_path: Path, rng: np.random.Generator) -> None:
    vectors, labels = two_clusters(rng, n_per=30)
    out = plot_tsne(vectors, labels, tmp_path / "sub.png", max_points=12, seed=1)
    _assert_png_and_no_temp(out, tmp_path)


# --------------------------------------------------------------------------------------------
# bad arguments
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: confusion_matrix([0, 1], [0]), "2 != 1"),
        (lambda: confusion_matrix([], []), "empty"),
        (lambda: confusion_matrix([[0, 1]], [[0, 1]]), r"shape \(1, 2\)"),
        (lambda: confusion_matrix([0.5, 1.0], [0, 1]), "float64"),
        (lambda: confusion_matrix([0, 5], [0, 1], n_codes=3), "max 5"),
        (lambda: confusion_matrix([-1, 0], [0, 1]), "min -1"),
        (lambda: confusion_matrix([0, 1], [0, 4], n_labels=2), "max 4"),
        (lambda: confusion_matrix([0, 1], [0, 1], n_codes=0), "n_codes=0"),
        (lambda: majority_mapping([1, 2, 3]), r"shape \(3,\)"),
        (lambda: hungarian_mapping([[1, -2]]), "min -2"),
        (lambda: codebook_accuracy([0, 1], [0, 1], mapping="best"), "'best'"),
        (lambda: codebook_accuracy([0, 1], [-1, -1]), "no item has a known label"),
        (lambda: codebook_accuracy([0, 1], [0, 1], mapping=[0, 1, 2], n_codes=2), "3 entries"),
        (lambda: knn_accuracy(np.zeros((4, 2)), [0, 1, 0]), "4 != 3"),
        (lambda: knn_accuracy(np.zeros(4), [0, 1, 0, 1]), r"shape \(4,\)"),
        (lambda: knn_accuracy(np.zeros((4, 2)), [0, 1, 0, 1], k=4), "k=4"),
        (lambda: knn_accuracy(np.zeros((4, 2)), [0, 1, 0, 1], k=0), "k=0"),
        (lambda: knn_accuracy(np.zeros((4, 2)), [0, 1, 0, 1], k=1, metric="nope"), "'nope'"),
        (lambda: knn_accuracy(np.full((4, 2), np.nan), [0, 1, 0, 1]), "NaN"),
        (lambda: knn_accuracy(np.zeros((0, 2)), np.zeros(0, int)), "empty"),
        (lambda: chance_accuracy([]), "empty"),
        (lambda: retrieval_pr_auc(np.zeros((3, 2)), [0, 0, 1], max_queries=0), "max_queries=0"),
        (
            lambda: disentanglement_report(np.zeros((6, 2)), np.zeros((5, 2)), [0] * 6, [0] * 6),
            "6 != 5",
        ),
        (
            lambda: disentanglement_report(np.zeros((6, 2)), np.zeros((6, 2)), [-1] * 6, [0] * 6),
            "all 6 are < 0",
        ),
    ],
)
def test_bad_arguments_raise_input_error(call, match: str) -> None:
    with pytest.raises(InputError, match=match):
        call()


def test_bad_plot_arguments_raise_and_leave_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="2 names but the largest label is 2"):
        plot_confusion(np.ones((2, 3)), tmp_path / "c.png", label_names=["a", "b"])
    with pytest.raises(InputError, match="5 != 4"):
        plot_tsne(np.zeros((5, 2)), [0, 1, 0, 1], tmp_path / "t.png")
    with pytest.raises(InputError, match="at least 4 points"):
        plot_tsne(np.eye(3), [0, 1, 0], tmp_path / "t.png")
    with pytest.raises(InputError, match=r"D >= 2"):
        plot_tsne(np.zeros((6, 1)), [0] * 6, tmp_path / "t.png")
    with pytest.raises(InputError, match="is a folder"):
        plot_confusion(np.ones((2, 2)), tmp_path)
    assert list(tmp_path.iterdir()) == []
