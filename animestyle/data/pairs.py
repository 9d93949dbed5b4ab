"""Style pairs for reference-guided transfer (Deelaka's conditional adversarial NST).

Every training item gets a style reference: an image by an artist drawn uniformly (not by
image count, so that prolific artists do not dominate the styles), and a second image by
that same artist. The second one gives the siamese and N-pair discriminators their
same-artist pairs, and the generator a target of the artist's style rather than of the one
reference picture (the paper's aim: emulate the artist, do not copy the reference).

The DataModule's training loader draws the pairs through :class:`PairSampler`: each epoch's
pairs follow from a salt drawn in the main process, so a run resumed from a checkpoint draws
the references of the uninterrupted run, whatever the number of DataLoader workers.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Dataset, Sampler

from animestyle.data.augment import process_rank

__all__ = ["PairSampler", "StylePairs"]


class StylePairs(Dataset[dict[str, torch.Tensor]]):
    """Items of ``dataset`` with ``style_x``, ``style_pos_x`` and ``style_artist`` added.

    ``style_x`` and ``style_pos_x`` are two different images (when the artist has two) by
    ``style_artist``, in the layout of ``dataset``'s ``x``.

    Args:
        dataset: items with ``x``.
        labels: the artist of every item of ``dataset``, in order.
        seed: None draws the pairs from a stream seeded by torch's seed in this process
            (training: new pairs every epoch, reproducible under ``seed_everything``) and the
            DDP rank (each rank its own references); an int fixes item ``i``'s pairs
            (validation: the same pictures and scores every time).

    A key ``(i, salt)`` (from :class:`PairSampler`) gives item ``i`` with pairs that depend on
    ``i`` and ``salt`` only.
    """

    def __init__(self, dataset: Dataset[dict[str, torch.Tensor]], labels: Sequence[int], seed: int | None = None):
        if len(labels) != len(dataset):  # type: ignore[arg-type]
            raise ValueError(f"labels has {len(labels)} entries for a dataset of {len(dataset)} items")  # type: ignore[arg-type]
        by_artist: dict[int, list[int]] = defaultdict(list)
        for index, artist in enumerate(labels):
            by_artist[int(artist)].append(index)
        self.dataset, self.seed = dataset, seed
        self._stream: tuple[int, torch.Generator] | None = None  # (process id, generator)
        self.artists = sorted(by_artist)
        self.by_artist = {a: torch.tensor(indices) for a, indices in by_artist.items()}

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def pair(self, i: int, salt: int | None = None) -> tuple[int, int, int]:
        """(artist, index of the style image, index of the second image by that artist); with
        ``salt``, a function of ``i`` and ``salt``."""
        if salt is not None:
            generator = torch.Generator().manual_seed((salt + 1_000_003 * i) % 2**63)
        elif self.seed is None:
            generator = self._training_stream()
        else:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + i)
        artist = self.artists[int(torch.randint(len(self.artists), (), generator=generator))]
        pool = self.by_artist[artist]
        first, second = torch.randperm(len(pool), generator=generator)[:2].tolist() + ([0] if len(pool) == 1 else [])
        return artist, int(pool[first]), int(pool[second])

    def _training_stream(self) -> torch.Generator:
        """This process's own stream: a DataLoader worker starts from a copy of its parent,
        so a stream made before the fork would repeat in every worker."""
        if self._stream is None or self._stream[0] != os.getpid():
            seed = (torch.initial_seed() + 1_000_003 * process_rank()) % 2**63
            self._stream = (os.getpid(), torch.Generator().manual_seed(seed))
        return self._stream[1]

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        i, salt = key if isinstance(key, tuple) else (key, None)
        item = dict(self.dataset[i])
        artist, style, positive = self.pair(i, salt)
        item["style_x"] = self.dataset[style]["x"]
        item["style_pos_x"] = self.dataset[positive]["x"]
        item["style_artist"] = torch.tensor(artist)
        return item


class PairSampler(Sampler[tuple[int, int]]):
    """Keys ``(i, salt)`` of :class:`StylePairs`: the indices that ``sampler`` draws, with one
    salt per epoch drawn from torch's global stream in the main process (as ``RandomSampler``
    draws its shuffle), which a checkpoint saves and a resumed run restores. The pairs of an
    epoch are then the same in a resumed run as in the uninterrupted one, and independent of
    how many workers load them; under DDP every rank draws the same salt and loads other items.

    Args:
        sampler: the training indices (shuffled, or class-balanced).
    """

    def __init__(self, sampler: Sampler[int]):
        self.sampler = sampler

    def __len__(self) -> int:
        return len(self.sampler)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        salt = int(torch.empty((), dtype=torch.int64).random_().item())
        return ((int(i), salt) for i in self.sampler)
