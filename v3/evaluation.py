"""Evaluate a trained model on a labelled data set: JSON report and PNG pictures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .checkpoint import LoadedModel
from .data import FragmentDataset
from .errors import DataError
from .fileio import atomic_write
from .inference import encode_fragments
from .metrics import codebook_report, disentanglement_report, plot_confusion, plot_tsne

__all__ = ["evaluate", "named_accuracy"]


def named_accuracy(codes: np.ndarray, labels: np.ndarray, atom_labels: list[int]) -> float | None:
    """Accuracy of the checkpoint's own atom names (fixed at calibration, not fitted here).

    Examples
    --------
    >>> named_accuracy(np.array([0, 1, 1]), np.array([60, 61, 62]), [60, 61])
    0.6666666666666666
    """
    known = labels >= 0
    if not known.any() or not atom_labels:
        return None
    names = np.asarray(atom_labels)[codes[known]]
    return float(np.mean(names == labels[known]))


def _dense(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map label ids to 0..n-1 (unknown stays -1); also return the sorted ids."""
    ids = np.unique(labels[labels >= 0])
    index = np.full(labels.shape, -1, dtype=np.int64)
    known = labels >= 0
    index[known] = np.searchsorted(ids, labels[known])
    return index, ids


def evaluate(
    loaded: LoadedModel,
    dataset: FragmentDataset,
    *,
    out_dir: Path | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Codebook, retrieval and kNN metrics of ``loaded`` on ``dataset``.

    Parameters
    ----------
    loaded : LoadedModel
        Model plus checkpoint metadata (its atom names are used as they are).
    dataset : FragmentDataset
        Labelled fragments, never the training files.
    out_dir : Path, optional
        When given, writes ``report.json``, ``confusion.png``,
        ``tsne_content.png`` and ``tsne_style.png`` there.
    seed : int
        Seeds the retrieval subsample and t-SNE.

    Returns
    -------
    dict
        JSON-able report: ``codebook`` (majority and one-to-one accuracy fitted
        on this data, purity, used atoms), ``named_accuracy`` (with the
        checkpoint's stored atom names), ``tool_named_accuracy`` (only when the
        adapter's tools name fragments otherwise,
        :meth:`v3.adapters.Adapter.name_fragments`), ``per_style`` (the same per style
        label), ``disentanglement`` (kNN in all four directions, chance
        levels, PR-AUC).

    Raises
    ------
    DataError
        The data set carries no content labels.

    Examples
    --------
    >>> import torch
    >>> from v3 import FragmentDataset, find_checkpoint, load_model
    >>> loaded = load_model(find_checkpoint("insnotes"))
    >>> x = torch.randn(24, 144, 2, generator=torch.Generator().manual_seed(0))  # 24 fragments
    >>> pitch = torch.arange(60, 72).repeat(2)  # MIDI content labels
    >>> program = torch.tensor([0] * 12 + [41] * 12)  # style labels
    >>> ds = FragmentDataset(x, torch.arange(24).reshape(2, 12), pitch, program)
    >>> report = evaluate(loaded, ds)
    >>> report["n_fragments"], report["codebook_size"], sorted(report["per_style"])
    (24, 12, ['0', '41'])
    """
    content_labels = dataset.content_labels.numpy()
    style_labels = dataset.style_labels.numpy()
    if not (content_labels >= 0).any():
        raise DataError("the evaluation data carry no content labels")
    encoded = encode_fragments(loaded.model, dataset.fragments)
    k = loaded.model.quantizer.codebook_size
    content_index, content_ids = _dense(content_labels)
    atoms = loaded.atom_labels

    report: dict[str, Any] = {
        "n_fragments": len(content_labels),
        "codebook_size": k,
        "codebook": codebook_report(encoded.codes, content_index, n_codes=k, n_labels=len(content_ids)).to_dict(),
        "named_accuracy": named_accuracy(encoded.codes, content_labels, atoms),
        "content_label_ids": [int(i) for i in content_ids],
    }
    tool_names = loaded.adapter.name_fragments(loaded, dataset.fragments)
    if tool_names is not None:
        known = content_labels >= 0
        report["tool_named_accuracy"] = float(np.mean(tool_names[known] == content_labels[known]))
    per_style: dict[str, Any] = {}
    for style in np.unique(style_labels):
        rows = style_labels == style
        idx, ids = _dense(content_labels[rows])
        if not (idx >= 0).any():
            continue
        cb = codebook_report(encoded.codes[rows], idx, n_codes=k, n_labels=len(ids))
        per_style[dataset.style_names.get(int(style), str(style))] = {
            "style_label": int(style),
            "one_to_one_accuracy": cb.one_to_one_accuracy,
            "majority_accuracy": cb.majority_accuracy,
            "named_accuracy": named_accuracy(encoded.codes[rows], content_labels[rows], atoms),
        }
    report["per_style"] = per_style
    report["disentanglement"] = disentanglement_report(
        encoded.content, encoded.style, content_labels, style_labels, seed=seed
    ).to_dict()

    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        names = {i: dataset.content_names.get(int(c), str(int(c))) for i, c in enumerate(content_ids)}
        report["pictures"] = {
            "confusion": plot_confusion(np.asarray(report["codebook"]["confusion"]), out_dir / "confusion.png",
                                        label_names=names, title="Codebook atoms vs content labels").name,
            "tsne_content": plot_tsne(encoded.content, content_labels, out_dir / "tsne_content.png",
                                      label_names=dataset.content_names, title="Content vectors by content label",
                                      seed=seed).name,
            "tsne_style": plot_tsne(encoded.style, style_labels, out_dir / "tsne_style.png",
                                    label_names=dataset.style_names, title="Style vectors by style label",
                                    seed=seed).name,
        }
        adapter_config = loaded.adapter.parse_config(loaded.config.adapter_config)
        report["pictures"].update(loaded.adapter.extra_pictures(loaded.model, dataset, adapter_config, out_dir))
        atomic_write(out_dir / "report.json", lambda tmp: tmp.write_text(json.dumps(report, indent=2)))
    return report
