"""Dataset and Split, and the one rule that turns a layout's pools of images into splits.

Decoded images are content: they are cached by a fingerprint of the files. The split is
part of the experiment: it is recomputed from ``split_seed`` and ``val_split`` (cheap), is
recorded in checkpoints with the fingerprint, and is disjoint by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.errors import UserError
from engine.i18n import _

LETTERS = [chr(ord("A") + i) for i in range(26)]
DIGITS = [str(i) for i in range(10)]
FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
TEST_FRACTION = 0.1  # of a pool that has no test split of its own


@dataclass
class Split:
    x: np.ndarray  # uint8 [N, H, W]
    y: np.ndarray  # int64 [N]
    names: list[str] = field(default_factory=list)  # file names (or "pool#index") identifying each image

    def __len__(self) -> int:
        return len(self.y)

    def take(self, idx: np.ndarray) -> Split:
        return Split(self.x[idx], self.y[idx], [self.names[i] for i in idx] if self.names else [])


@dataclass
class Dataset:
    name: str
    source: str
    layout: str
    classes: list[str]
    norm_size: tuple[int, int]  # (width, height), Pillow's order, as the course's configs
    train: Split
    val: Split
    test: Split
    skipped: list[str] = field(default_factory=list)  # "file: problem" for images left out
    fingerprint: str = ""  # of the files' content (not of the split)
    split_seed: int = 0
    val_split: float = 0.1
    fixed_split: bool = True  # the layout defines every split itself (split_seed has no effect)
    pools: dict[str, Split] = field(default_factory=dict, repr=False)  # what the splits were cut from

    @property
    def in_features(self) -> int:
        return self.norm_size[0] * self.norm_size[1]

    def split(self, name: str) -> Split:
        key = {"validation": "val", "valid": "val"}.get(name, name)
        if key not in ("train", "val", "test"):
            raise UserError(_("split: unknown {name!r}; choose train, val or test").format(name=name))
        return getattr(self, key)

    def with_split(self, split_seed: int, val_split: float) -> Dataset:
        """This dataset split by ``split_seed``/``val_split`` (itself when that changes nothing)."""
        if not self.pools or (split_seed == self.split_seed and val_split == self.val_split):
            return self
        return build_dataset(
            self.name,
            self.source,
            self.layout,
            self.classes,
            self.norm_size,
            self.pools,
            self.skipped,
            self.fingerprint,
            split_seed,
            val_split,
        )

    def describe(self) -> str:
        """``name: details()``."""
        return f"{self.name}: {self.details()}"

    def details(self) -> str:
        """``8320/520/520 train/val/test (fixed split), 26 classes, 32×32``, in the user's language."""
        if self.fixed_split:
            how = _("fixed split")
        else:
            how = _("split seed {seed}, val {val}").format(seed=self.split_seed, val=f"{self.val_split:g}")
        return _("{train}/{val}/{test} train/val/test ({how}), {classes} classes, {w}×{h}").format(
            train=len(self.train),
            val=len(self.val),
            test=len(self.test),
            how=how,
            classes=len(self.classes),
            w=self.norm_size[0],
            h=self.norm_size[1],
        )


def empty_split(norm_size: tuple[int, int]) -> Split:
    return Split(np.zeros((0, norm_size[1], norm_size[0]), np.uint8), np.zeros(0, np.int64), [])


def assign_splits(
    pools: dict[str, Split], split_seed: int, val_split: float, norm_size: tuple[int, int]
) -> tuple[Split, Split, Split, bool]:
    """(train, val, test, fixed) from a layout's pools.

    ``pools`` has ``all`` (one undivided set: a seeded TEST_FRACTION is test, ``val_split`` val),
    or ``train`` with optional ``val``/``test``: a missing or empty one is carved from train with
    the split seed (test first, TEST_FRACTION; then val, ``val_split`` of what is left).
    Every carve takes disjoint index sets of one permutation, so no image is in two splits.
    """
    rng = np.random.default_rng([int(split_seed), 0x5EED])
    if "all" in pools:
        full = pools["all"]
        order = rng.permutation(len(full))
        n_test = int(len(full) * TEST_FRACTION)
        n_val = int(round(len(full) * val_split))
        test, val = full.take(order[:n_test]), full.take(order[n_test : n_test + n_val])
        return full.take(np.sort(order[n_test + n_val :])), val, test, False
    train = pools["train"]
    val, test = pools.get("val"), pools.get("test")
    fixed = True
    carve = [
        s
        for s, part, frac in (("test", test, TEST_FRACTION), ("val", val, val_split))
        if (part is None or len(part) == 0) and frac > 0
    ]
    if carve:
        fixed = False
        order = rng.permutation(len(train))
        at = 0
        for s in carve:
            n = int(round(len(train) * (TEST_FRACTION if s == "test" else val_split)))
            part = train.take(np.sort(order[at : at + n]))
            at += n
            if s == "test":
                test = part
            else:
                val = part
        train = train.take(np.sort(order[at:]))
    return train, val or empty_split(norm_size), test or empty_split(norm_size), fixed


def build_dataset(
    name: str,
    source: str,
    layout: str,
    classes: list[str],
    norm_size: tuple[int, int],
    pools: dict[str, Split],
    skipped: list[str],
    fingerprint: str,
    split_seed: int = 0,
    val_split: float = 0.1,
) -> Dataset:
    """A :class:`Dataset` with its splits assigned; refuses what cannot train a classifier."""
    if len(classes) < 2:
        raise UserError(
            _("{source}: only {n_classes} class ({classes}); a classifier needs at least 2").format(
                source=source, n_classes=len(classes), classes=", ".join(classes) or "none"
            )
        )
    train, val, test, fixed = assign_splits(pools, split_seed, val_split, norm_size)
    if len(train) == 0:
        raise UserError(
            _("{source}: no training image could be read ({n_skipped} failed)").format(
                source=source, n_skipped=len(skipped)
            )
        )
    return Dataset(
        name,
        source,
        layout,
        list(classes),
        tuple(norm_size),
        train,
        val,
        test,
        list(skipped),
        fingerprint,
        int(split_seed),
        float(val_split),
        fixed,
        pools,
    )
