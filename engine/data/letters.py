"""The built-in dataset: letters A–Z rendered offline, deterministically, with Pillow.

Upper and lower case drawn with Pillow's own scalable font (bundled with Pillow, the same on
every machine: no system font is ever read, so the data and every number trained on it are
the same on any machine with the same Pillow), varied as photo crops are: size, weight
(stroke), slant (shear), rotation, stretch, neighbours' edges at the sides, blur, noise,
lighting and polarity, so a model trained here recognises real letter photos far better
than chance.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from engine.data import cache
from engine.data.dataset import LETTERS, Dataset, Split, build_dataset

PER_CLASS = {"train": 320, "val": 20, "test": 20}
NORM_SIZE = (32, 32)
GENERATOR_VERSION = 4  # 4: Pillow's font only (3 used whatever system fonts a machine had)


_GRID = np.mgrid[0 : NORM_SIZE[1], 0 : NORM_SIZE[0]] / 31.0 - 0.5  # for uneven lighting


@functools.lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size)


def render_letter(rng: np.random.Generator, letter: str) -> np.ndarray:
    """One 32×32 crop of ``letter`` as a photo crop looks: the glyph fills the frame (stretched to
    square), with slivers of neighbouring letters at the sides, then blur, lighting and noise."""
    size = int(rng.integers(34, 56))
    font = _font(size)
    shear = float(rng.uniform(-0.3, 0.3)) if rng.random() < 0.6 else 0.0  # upright or slanted, either way
    upper = rng.random() < 0.55
    text = letter if upper else letter.lower()
    pool = LETTERS if upper else [c.lower() for c in LETTERS]
    left = pool[int(rng.integers(0, 26))] if rng.random() < 0.7 else ""
    right = pool[int(rng.integers(0, 26))] if rng.random() < 0.7 else ""
    bg = int(rng.integers(130, 256))
    fg = int(rng.integers(0, max(1, bg - 80)))
    stroke = int(rng.choice([0, 0, 1, 1, 2, 3]))  # light to heavy weights
    canvas = (size * 5, size * 3)
    img = Image.new("L", canvas, bg)
    draw = ImageDraw.Draw(img)
    x0, y0 = size, size
    draw.text((x0, y0), left + text + right, fill=fg, font=font, stroke_width=stroke, stroke_fill=fg)
    start = x0 + draw.textlength(left, font=font)
    box = draw.textbbox((start, y0), text, font=font, stroke_width=stroke)
    # Only the glyph and a margin go through the transforms (5× fewer pixels than the canvas).
    pad = size * 0.6
    ox, oy = int(box[0] - pad), int(box[1] - pad)
    img = img.crop((ox, oy, int(box[2] + pad) + 1, int(box[3] + pad) + 1))
    box = (box[0] - ox, box[1] - oy, box[2] - ox, box[3] - oy)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    angle = float(rng.normal(0, 4))
    if shear or abs(angle) > 0.5:
        # one affine map, output → input: slant about the glyph's middle, then rotate about its centre
        t = np.deg2rad(angle if abs(angle) > 0.5 else 0.0)
        c, s_ = np.cos(t), np.sin(t)
        m00, m01, m10, m11 = c + shear * s_, -s_ + shear * c, s_, c
        coeffs = (m00, m01, cx - m00 * cx - m01 * cy, m10, m11, cy - m10 * cx - m11 * cy)
        img = img.transform(img.size, Image.AFFINE, coeffs, Image.BILINEAR, fillcolor=bg)
    w, h = box[2] - box[0], box[3] - box[1]
    mx = w * rng.uniform(-0.04, 0.18, 2)
    my = h * rng.uniform(-0.04, 0.15, 2)
    if rng.random() < 0.25:  # some crops are square around the glyph instead of stretched
        side = max(w, h)
        mx += (side - w) / 2
        my += (side - h) / 2
    crop = img.crop((int(box[0] - mx[0]), int(box[1] - my[0]), int(box[2] + mx[1]) + 1, int(box[3] + my[1]) + 1))
    blur = rng.uniform(0, 1.8)
    if blur > 0.3:
        crop = crop.filter(ImageFilter.GaussianBlur(blur * crop.size[1] / 32))
    a = np.asarray(crop.resize(NORM_SIZE, Image.BILINEAR), np.float32)
    gy, gx = _GRID
    a += rng.normal(0, 25) * gx + rng.normal(0, 25) * gy  # uneven lighting
    a = (a - a.mean()) * rng.uniform(0.45, 1.1) + a.mean()  # contrast
    a += rng.normal(0, rng.uniform(0, 12), a.shape)
    if rng.random() < 0.2:
        a = 255 - a
    return np.clip(a, 0, 255).astype(np.uint8)


def generate(per_class: dict[str, int], seed: int = 0, progress=None) -> dict[str, Split]:
    total = sum(per_class.values()) * 26
    done = 0
    out = {}
    for s_index, (split, n) in enumerate(per_class.items()):
        rng = np.random.default_rng([seed, s_index, GENERATOR_VERSION])
        x = np.zeros((n * 26, NORM_SIZE[1], NORM_SIZE[0]), np.uint8)
        y = np.repeat(np.arange(26), n)
        for i in range(len(y)):
            x[i] = render_letter(rng, LETTERS[y[i]])
            done += 1
            if progress and done % 128 == 0:
                progress(done, total, "generating letters")
        order = rng.permutation(len(y))
        out[split] = Split(x[order], y[order].astype(np.int64))
    return out


def builtin_letters(progress=None, use_cache: bool = True) -> Dataset:
    """The default dataset: 26 letters, 8320/520/520 images of 32×32, cached after the first build."""
    h = hashlib.blake2b(f"letters|{GENERATOR_VERSION}|{PER_CLASS}|{Image.__version__}".encode(), digest_size=16)
    key = f"letters-{h.hexdigest()}"
    hit = cache.load_pools(key) if use_cache else None
    pools = hit[1] if hit and set(hit[1]) == {"train", "val", "test"} else None
    if pools is None:
        pools = generate(PER_CLASS, progress=progress)
        if use_cache:
            cache.save_pools(key, {"classes": LETTERS, "norm_size": list(NORM_SIZE)}, pools)
    return build_dataset("Built-in letters", "builtin", "builtin", LETTERS, NORM_SIZE, pools, [], key)
