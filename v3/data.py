"""In-memory fragment data set: fragments, how they group into samples, labels."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor

from .errors import DataError

__all__ = ["FragmentDataset"]


@dataclass
class FragmentDataset:
    """Fragments plus the samples they form, with optional labels for evaluation.

    Samples index into a shared fragment table, so overlapping samples (e.g.
    windows of consecutive notes) cost no extra memory. Labels are never seen
    by training; they serve evaluation and the naming of atoms.

    Attributes
    ----------
    fragments : Tensor[N, *fragment_shape] (float32)
        Front-end output of every fragment.
    samples : Tensor[S, F] (int64)
        Row s lists the F fragment indices of sample s.
    content_labels : Tensor[N] (int64)
        Content label of each fragment (e.g. MIDI pitch, digit); -1 = unknown.
    style_labels : Tensor[N] (int64)
        Style label of each fragment (e.g. GM program, colour index); -1 = unknown.
    content_names, style_names : dict of int to str
        Human names of the label ids.
    valid : Tensor[N] (bool), optional
        Fragments that take part in the loss (e.g. not rests); all when None.

    Examples
    --------
    >>> import torch
    >>> ds = FragmentDataset(torch.zeros(4, 2), torch.tensor([[0, 1], [2, 3]]),
    ...                      torch.tensor([0, 1, 0, 1]), torch.tensor([0, 0, 1, 1]))
    >>> len(ds), ds.fragment_shape, ds.fragments_per_sample
    (2, (2,), 2)
    >>> x, mask = ds.batch(torch.tensor([1]))
    >>> x.shape, mask
    (torch.Size([1, 2, 2]), None)
    """

    fragments: Tensor
    samples: Tensor
    content_labels: Tensor
    style_labels: Tensor
    content_names: dict[int, str] = field(default_factory=dict)
    style_names: dict[int, str] = field(default_factory=dict)
    valid: Tensor | None = None

    def __post_init__(self) -> None:
        n = self.fragments.shape[0]
        if n == 0 or self.samples.numel() == 0:
            raise DataError("the data set holds no fragments or no samples")
        if self.samples.ndim != 2:
            raise DataError(f"samples must be [S, F], got shape {tuple(self.samples.shape)}")
        if int(self.samples.min()) < 0 or int(self.samples.max()) >= n:
            raise DataError(f"sample indices must lie in [0, {n}), got {int(self.samples.min())}..{int(self.samples.max())}")
        for name, labels in (("content_labels", self.content_labels), ("style_labels", self.style_labels)):
            if labels.shape != (n,):
                raise DataError(f"{name} must have shape [{n}], got {tuple(labels.shape)}")
        if self.valid is not None and self.valid.shape != (n,):
            raise DataError(f"valid must have shape [{n}], got {tuple(self.valid.shape)}")

    def __len__(self) -> int:
        return int(self.samples.shape[0])

    @property
    def fragment_shape(self) -> tuple[int, ...]:
        """Shape of one fragment.

        Examples
        --------
        >>> import torch
        >>> ds = FragmentDataset(torch.zeros(6, 3, 4), torch.arange(6).reshape(2, 3),
        ...                      torch.zeros(6, dtype=torch.long), torch.zeros(6, dtype=torch.long))
        >>> ds.fragment_shape  # fragments [N, 3, 4]
        (3, 4)
        """
        return tuple(self.fragments.shape[1:])

    @property
    def fragments_per_sample(self) -> int:
        """F, the number of fragments in each sample.

        Examples
        --------
        >>> import torch
        >>> ds = FragmentDataset(torch.zeros(6, 2), torch.arange(6).reshape(2, 3),
        ...                      torch.zeros(6, dtype=torch.long), torch.zeros(6, dtype=torch.long))
        >>> len(ds), ds.fragments_per_sample  # samples [2, F]
        (2, 3)
        """
        return int(self.samples.shape[1])

    def batch(self, sample_index: Tensor) -> tuple[Tensor, Tensor | None]:
        """Fragments [B, F, *fragment_shape] and mask [B, F] (or None) of some samples.

        Parameters
        ----------
        sample_index : Tensor[B] (int64)
            Sample numbers (rows of ``samples``).

        Returns
        -------
        fragments : Tensor[B, F, *fragment_shape]
        mask : Tensor[B, F] (bool) or None
            ``valid`` of those fragments; None when every fragment is valid.

        Examples
        --------
        >>> import torch
        >>> ds = FragmentDataset(torch.arange(8.0).reshape(4, 2), torch.tensor([[0, 1], [2, 3]]),
        ...                      torch.zeros(4, dtype=torch.long), torch.zeros(4, dtype=torch.long),
        ...                      valid=torch.tensor([True, True, True, False]))
        >>> x, mask = ds.batch(torch.tensor([1, 0]))
        >>> x[0].tolist(), mask.tolist()
        ([[4.0, 5.0], [6.0, 7.0]], [[True, False], [True, True]])
        """
        rows = self.samples[sample_index]
        mask = None if self.valid is None else self.valid[rows]
        return self.fragments[rows], mask
