"""Classifying files: every image mode, and per-file errors for anything unreadable."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.checkpoint import Model
from engine.config import TrainConfig
from engine.data import images
from engine.data.images import load_image
from engine.predict import classify_files
from engine.training.run import TrainingRun


@pytest.fixture(scope="module")
def model(small_letters):
    run = TrainingRun(TrainConfig(epochs=3), small_letters)
    run.run()
    return Model(run.network, small_letters.classes, small_letters.norm_size, run.config, run.history)


def test_every_image_mode_is_read(tmp_path, model):
    base = (np.random.default_rng(0).random((40, 30)) * 255).astype(np.uint8)
    paths = []
    img = Image.fromarray(base)
    for mode in ("L", "RGB", "RGBA", "P", "LA", "1"):
        p = tmp_path / f"{mode}.png"
        img.convert(mode).save(p)
        paths.append(p)
    p16 = tmp_path / "16bit.png"
    Image.fromarray(base.astype(np.uint16) * 257).save(p16)
    paths.append(p16)
    jpg = tmp_path / "photo.jpg"
    img.convert("RGB").save(jpg)
    paths.append(jpg)
    results = classify_files(model, paths, topk=5)
    assert all(not r.error for r in results), [r.error for r in results]
    assert all(len(r.top) == 5 and r.top[0][1] >= r.top[1][1] for r in results)
    from engine.predict import predict_arrays

    full = predict_arrays(model, np.stack([r.image for r in results]))
    np.testing.assert_allclose(full.sum(1), 1.0, rtol=1e-5)
    for r, row in zip(results, full):  # top-5 are the five largest probabilities, in order
        np.testing.assert_allclose([p for _, p in r.top], np.sort(row)[::-1][:5], rtol=1e-6)
    np.testing.assert_array_equal(load_image(p16, (32, 32)), load_image(tmp_path / "L.png", (32, 32)))


def test_transparent_areas_read_as_white(tmp_path):
    rgba = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    p = tmp_path / "clear.png"
    rgba.save(p)
    assert load_image(p, (8, 8)).min() == 255


def test_bad_files_get_per_file_errors(tmp_path, model, monkeypatch):
    good = tmp_path / "good.png"
    Image.new("L", (32, 32), 128).save(good)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    trunc = tmp_path / "trunc.png"
    Image.fromarray((np.random.default_rng(1).random((64, 64)) * 255).astype(np.uint8)).save(trunc)
    trunc.write_bytes(trunc.read_bytes()[:200])
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    huge = tmp_path / "huge.png"
    Image.new("L", (300, 300)).save(huge)
    monkeypatch.setattr(images, "MAX_PIXELS", 50_000)
    results = classify_files(model, [good, text, trunc, empty, tmp_path / "missing.png", huge, tmp_path])
    errors = {r.path.rsplit("/", 1)[-1]: r.error for r in results}
    assert errors["good.png"] == ""
    assert "notes.txt: not an image file" in errors["notes.txt"]
    assert "trunc.png: the image is damaged or cut short" in errors["trunc.png"]
    assert "empty.jpg: not an image" in errors["empty.jpg"]
    assert "missing.png: no such file" in errors["missing.png"]
    assert "huge.png: image is too large (300×300 pixels" in errors["huge.png"]
    assert "is a folder" in errors[tmp_path.name]


def test_decompression_bomb_guard(tmp_path):
    p = tmp_path / "bomb.png"
    Image.new("1", (12000, 12000)).save(p)  # 144 M pixels in a tiny file
    with pytest.raises(Exception, match="bomb.png: image is too large"):
        load_image(p, (32, 32))


def test_test_and_resume_say_when_the_data_on_disk_is_not_what_the_model_was_trained_on(tmp_path):
    from PIL import Image

    from tests.conftest import cli_in_process, write_course_layout

    data = write_course_layout(tmp_path / "course", (26, 6, 6))
    model = tmp_path / "m.pt"
    code, _, err = cli_in_process("train", "--data", str(data), "--epochs", "1", "--out", str(model), "--no-record")
    assert code == 0, err
    code, out, err = cli_in_process("test", "--checkpoint", str(model))
    assert code == 0 and "differs" not in err
    first = sorted((data / "images").iterdir())[0]
    Image.new("L", (48, 40), 7).save(first)  # one image changed after training
    code, out, err = cli_in_process("test", "--checkpoint", str(model))
    assert code == 0 and f"warning: {model}: the data on disk differs from the data the model was trained on" in err
    code, out, err = cli_in_process(
        "train", "--data", str(data), "--resume", str(model), "--epochs", "2", "--no-record", "--quiet"
    )
    assert code == 0 and "the data on disk differs" in err
