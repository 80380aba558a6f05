"""Reading one image file exactly as training does: EXIF orientation, grayscale, bilinear resize, uint8.

Every failure (missing, not an image, truncated, too large) is a :class:`UserError`
naming the file, so a caller can show one error row and go on.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.data.files import regular_file
from engine.errors import UserError
from engine.i18n import N_, _

# Far beyond any photo of a letter; stops decompression bombs before they decode.
MAX_PIXELS = 64_000_000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def _to_grayscale(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        return Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        # Transparent areas read as white paper, not black.
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img.convert("RGBA"))
    return img.convert("L")


def load_image(path: str | os.PathLike, norm_size: tuple[int, int]) -> np.ndarray:
    """``path`` → uint8 array of shape ``(norm_size[1], norm_size[0])`` (Pillow's (w, h) order)."""
    name = os.fspath(path)
    regular_file(name, N_("image"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(name) as img:
                w, h = img.size
                if w * h > MAX_PIXELS:
                    raise UserError(
                        _("{name}: image is too large ({w}×{h} pixels; at most {most})").format(
                            name=name, w=w, h=h, most=f"{MAX_PIXELS:,}"
                        )
                    )
                img.load()
                gray = _to_grayscale(ImageOps.exif_transpose(img))
    except UserError:
        raise
    except FileNotFoundError:
        raise UserError(_("{name}: no such file").format(name=name)) from None
    except IsADirectoryError:
        raise UserError(_("{name}: is a folder, not an image").format(name=name)) from None
    except UnidentifiedImageError:
        raise UserError(
            _(
                "{name}: not an image file (or a format this app cannot read: use PNG, JPEG, BMP, GIF, TIFF or WebP)"
            ).format(name=name)
        ) from None
    except PermissionError:
        raise UserError(_("{name}: permission denied").format(name=name)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UserError(_("{name}: image is too large (decompression bomb guard)").format(name=name)) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise UserError(
            _("{name}: the image is damaged or cut short and cannot be decoded").format(name=name)
        ) from None
    if gray.size != tuple(norm_size):
        gray = gray.resize(tuple(norm_size), Image.BILINEAR)
    return np.asarray(gray, dtype=np.uint8)


def normalize(x: np.ndarray, config=None) -> np.ndarray:
    """uint8 images [N, H, W] → float32 [N, H·W], as the model's ``config`` says (its
    ``input_norm``, ``input_mean``, ``input_std``; ``None``: the letters course's):

    - ``minus-one-one``: ``(x/255 − 0.5) / 0.5``, in [−1, 1] (ToTensor + Normalize(0.5, 0.5));
    - ``zero-one``: ``x/255``;
    - ``standardize``: ``(x/255 − mean) / std`` (ToTensor + Normalize(mean, std); MNIST's
      0.1307 and 0.3081).

    Each is computed op for op as torchvision does, so inputs match the courses' to the bit."""
    norm = getattr(config, "input_norm", "minus-one-one")
    if norm == "standardize":
        mean, std = float(config.input_mean), float(config.input_std)
        if not std > 0:
            raise ValueError("standardised inputs need the training split's std (see input_stats)")
    elif norm == "zero-one":
        mean, std = 0.0, 1.0
    else:
        mean, std = 0.5, 0.5
    x = x.reshape(len(x), -1).astype(np.float32)
    x /= np.float32(255.0)
    if norm != "zero-one":
        x -= np.float32(mean)
        x /= np.float32(std)
    return x


def input_stats(x: np.ndarray) -> tuple[float, float]:
    """The mean and std of uint8 images on the x/255 scale (what ``standardize`` needs), in
    float64 over every pixel."""
    flat = x.reshape(-1)
    total = n = 0.0
    sq = 0.0
    for start in range(0, len(flat), 1 << 24):  # bounded memory for large sets
        chunk = flat[start : start + (1 << 24)].astype(np.float64) / 255.0
        total += chunk.sum()
        sq += (chunk * chunk).sum()
        n += len(chunk)
    mean = total / max(n, 1)
    return float(mean), float(np.sqrt(max(sq / max(n, 1) - mean * mean, 0.0)))


def is_image_file(path: str) -> bool:
    return path.lower().endswith(IMAGE_SUFFIXES)


def decode_files(
    files: list, norm_size, progress=None, skipped: list[str] | None = None, offset: int = 0, total: int | None = None
) -> tuple[np.ndarray, list[int]]:
    """Decode images; returns the stack and the indices that decoded (bad ones go to ``skipped``)."""
    total = total or len(files)
    out = np.zeros((len(files), norm_size[1], norm_size[0]), np.uint8)
    ok = []
    for i, f in enumerate(files):
        try:
            out[i] = load_image(f, norm_size)
            ok.append(i)
        except UserError as exc:
            if skipped is not None:
                skipped.append(str(exc))
        if progress and (i % 64 == 0 or i == len(files) - 1):
            progress(offset + i + 1, total, f"decoding {os.path.basename(os.fspath(f))}")
    return out[ok], ok
