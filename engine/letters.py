"""The built-in dataset: letters A–Z rendered offline, deterministically, with Pillow.

Upper and lower case from Pillow's bundled font plus any system TrueType fonts,
with varied size, position, rotation, stretch, stroke, blur, noise, lighting and
polarity, so a model trained here recognises real letter photos better than chance.
"""

from __future__ import annotations

import glob
import hashlib
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from engine.data import LETTERS, Dataset, Split, _load_cache, _save_cache

PER_CLASS = {"train": 160, "val": 20, "test": 20}
NORM_SIZE = (32, 32)
GENERATOR_VERSION = 2
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts",
              "/System/Library/Fonts", "C:/Windows/Fonts")
_AVOID = ("mono", "symbol", "emoji", "dingbat", "math", "wingding", "webdings", "italic", "oblique")


def font_files() -> list[str]:
    """System fonts to draw with, sorted so the set is stable on one machine."""
    found = []
    for d in _FONT_DIRS:
        found += glob.glob(os.path.join(d, "**", "*.ttf"), recursive=True)
    found = sorted({f for f in found if not any(a in os.path.basename(f).lower() for a in _AVOID)})
    return found[:12]


def _fonts(size: int, files: list[str]) -> list[ImageFont.FreeTypeFont]:
    fonts = [ImageFont.load_default(size)]
    for f in files:
        try:
            fonts.append(ImageFont.truetype(f, size))
        except OSError:
            continue
    return fonts


def render_letter(rng: np.random.Generator, letter: str, font_files_: list[str]) -> np.ndarray:
    canvas = 64
    size = int(rng.integers(30, 52))
    font = _fonts(size, font_files_)[int(rng.integers(0, 1 + len(font_files_)))]
    text = letter if rng.random() < 0.55 else letter.lower()
    bg = int(rng.integers(140, 256))
    fg = int(rng.integers(0, max(1, bg - 90)))
    img = Image.new("L", (canvas, canvas), bg)
    draw = ImageDraw.Draw(img)
    stroke = int(rng.choice([0, 0, 0, 1, 2]))
    box = draw.textbbox((0, 0), text, font=font, stroke_width=stroke)
    tw, th = box[2] - box[0], box[3] - box[1]
    x = (canvas - tw) / 2 - box[0] + rng.normal(0, 3)
    y = (canvas - th) / 2 - box[1] + rng.normal(0, 3)
    draw.text((x, y), text, fill=fg, font=font, stroke_width=stroke, stroke_fill=fg)
    img = img.rotate(float(rng.normal(0, 8)), resample=Image.BILINEAR, fillcolor=bg)
    # Crop around the glyph the way a hand-cut photo crop would, with some slack and stretch.
    margin = rng.uniform(0.05, 0.35)
    cx, cy = canvas / 2 + rng.normal(0, 1.5), canvas / 2 + rng.normal(0, 1.5)
    half_w = max(tw, th) / 2 * (1 + margin) * rng.uniform(0.8, 1.25)
    half_h = max(tw, th) / 2 * (1 + margin) * rng.uniform(0.8, 1.25)
    img = img.crop((int(cx - half_w), int(cy - half_h), int(cx + half_w) + 1, int(cy + half_h) + 1))
    blur = rng.uniform(0, 1.6)
    if blur > 0.3:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    img = img.resize(NORM_SIZE, Image.BILINEAR)
    a = np.asarray(img, np.float32)
    # Uneven lighting: a random linear gradient across the crop.
    gy, gx = np.mgrid[0:NORM_SIZE[1], 0:NORM_SIZE[0]] / 31.0 - 0.5
    a += rng.normal(0, 25) * gx + rng.normal(0, 25) * gy
    a = (a - a.mean()) * rng.uniform(0.5, 1.1) + a.mean()  # contrast
    a += rng.normal(0, rng.uniform(0, 14), a.shape)
    if rng.random() < 0.2:
        a = 255 - a
    return np.clip(a, 0, 255).astype(np.uint8)


def generate(per_class: dict[str, int], seed: int = 0, progress=None) -> dict[str, Split]:
    files = font_files()
    total = sum(per_class.values()) * 26
    done = 0
    out = {}
    for s_index, (split, n) in enumerate(per_class.items()):
        rng = np.random.default_rng([seed, s_index, GENERATOR_VERSION])
        x = np.zeros((n * 26, NORM_SIZE[1], NORM_SIZE[0]), np.uint8)
        y = np.repeat(np.arange(26), n)
        for i in range(len(y)):
            x[i] = render_letter(rng, LETTERS[y[i]], files)
            done += 1
            if progress and done % 128 == 0:
                progress(done, total, "generating letters")
        order = rng.permutation(len(y))
        out[split] = Split(x[order], y[order].astype(np.int64))
    return out


def builtin_letters(progress=None, use_cache: bool = True) -> Dataset:
    """The default dataset: 26 letters, 4160/520/520 images of 32×32, cached after the first build."""
    files = font_files()
    h = hashlib.blake2b(f"letters|{GENERATOR_VERSION}|{PER_CLASS}|{files}|{Image.__version__}".encode(),
                        digest_size=16)
    key = f"letters-{h.hexdigest()}"
    if use_cache and (cached := _load_cache(key, "builtin")):
        return cached
    splits = generate(PER_CLASS, progress=progress)
    ds = Dataset("Built-in letters", "builtin", "builtin", list(LETTERS), NORM_SIZE,
                 splits["train"], splits["val"], splits["test"])
    if use_cache:
        _save_cache(key, ds)
    return ds
