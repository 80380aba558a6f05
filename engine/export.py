"""Exports of a model for other tools: ONNX (Netron, onnxruntime) and a contact sheet of images.

The ONNX graph is written node by node with ``onnx.helper`` — Flatten, then Gemm and the
activation per layer, then Softmax — rather than traced through the hand-written autograd
Functions, which an exporter cannot see into. Its input ``pixels`` is the grayscale image as
``[N, 1, H, W]`` float32 in 0–255 (resized to the model's size); the model's own input
normalisation is part of the graph (Div, Sub, Div), so another tool needs to know nothing but
the size. A bias-free model's layers are Gemm without a bias. Its outputs are the logits and the
class probabilities. Class names and the preprocessing go in the metadata.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from engine.checkpoint import Model, preprocessing
from engine.errors import UserError
from engine.i18n import _

ONNX_OPSET = 17
ONNX_IR_VERSION = 8  # the IR of opset 17: read by every onnxruntime since 1.13
ACT_OPS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "identity": "Identity"}


def onnx_model(model: Model):
    """The model as an ``onnx.ModelProto`` (checked with ``onnx.checker``)."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:  # pragma: no cover - onnx is a dependency
        raise UserError(_("ONNX export needs the onnx package: pip install onnx")) from None

    w, h = model.norm_size
    weights = model.network.weights()
    n_layers = len(weights) // 2
    c = model.config
    inits, nodes = [], [helper.make_node("Flatten", ["pixels"], ["raw"], axis=1, name="flatten")]
    # the model's input normalisation, op for op as engine.data.images.normalize
    mean, std = {"minus-one-one": (0.5, 0.5), "zero-one": (0.0, 1.0)}.get(c.input_norm, (c.input_mean, c.input_std))
    for name, value in (("scale", 255.0), ("mean", mean), ("std", std)):
        inits.append(numpy_helper.from_array(np.array(value, np.float32), name))
    nodes += [
        helper.make_node("Div", ["raw", "scale"], ["unit"], name="to_unit"),
        helper.make_node("Sub", ["unit", "mean"], ["centred"], name="centre"),
        helper.make_node("Div", ["centred", "std"], ["x0"], name="standardise"),
    ]
    x = "x0"
    for i in range(n_layers):
        W = np.asarray(weights[2 * i], np.float32)
        inits.append(numpy_helper.from_array(W, f"net.{2 * i}.W"))
        inputs = [x, f"net.{2 * i}.W"]
        if c.bias:
            inits.append(numpy_helper.from_array(np.asarray(weights[2 * i + 1], np.float32), f"net.{2 * i}.b"))
            inputs.append(f"net.{2 * i}.b")
        z = "logits" if i == n_layers - 1 else f"z{i + 1}"
        nodes.append(helper.make_node("Gemm", inputs, [z], transB=1, name=f"linear{i}"))
        if i < n_layers - 1:
            x = f"y{i + 1}"
            nodes.append(helper.make_node(ACT_OPS[model.config.act], [z], [x], name=f"{model.config.act}{i}"))
    nodes.append(helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1, name="softmax"))
    k = len(model.classes)
    graph = helper.make_graph(
        nodes,
        "backprop_studio_mlp",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", 1, h, w])],
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", k]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", k]),
        ],
        inits,
    )
    onnx_proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
        producer_name="Backprop Studio",
        doc_string=(
            f"MLP {model.config.summary(w * h, k)}{'' if c.bias else ', no biases'}. Input 'pixels': grayscale "
            f"{w}x{h} image as [N, 1, H, W] float32 in 0-255; the graph normalises it as "
            f"{preprocessing(c, model.norm_size)['scale']}. Outputs: logits and softmax probabilities."
        ),
    )
    onnx_proto.ir_version = ONNX_IR_VERSION
    meta = {
        "class_names": json.dumps(list(model.classes)),
        "preprocessing": json.dumps({**preprocessing(c, model.norm_size), "norm_size": list(model.norm_size)}),
        "run_name": model.name,
    }
    helper.set_model_props(onnx_proto, meta)
    onnx.checker.check_model(onnx_proto)
    return onnx_proto


def export_onnx(model: Model, path: str | os.PathLike) -> Path:
    """Write the model as ONNX to ``path`` (atomically); a :class:`UserError` naming the file on failure."""
    proto = onnx_model(model)
    return _atomic_write(Path(path), proto.SerializeToString())


def contact_sheet(
    images: np.ndarray, captions: list[str], path: str | os.PathLike, cols: int = 10, scale: int = 3
) -> Path:
    """Tile uint8 images ``[N, H, W]`` with a caption under each into one PNG."""
    from PIL import Image, ImageDraw, ImageFont

    if not len(images):
        raise UserError(_("{path}: there are no images to put on a contact sheet").format(path=path))
    n, h, w = images.shape
    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    cw, ch = w * scale + 12, h * scale + 26
    sheet = Image.new("RGB", (cols * cw, rows * ch), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for i in range(n):
        r, c = divmod(i, cols)
        tile = Image.fromarray(np.ascontiguousarray(images[i], np.uint8)).resize((w * scale, h * scale), Image.NEAREST)
        sheet.paste(tile, (c * cw + 6, r * ch + 4))
        draw.text((c * cw + 6, r * ch + h * scale + 8), captions[i][:24], fill=(213, 94, 0), font=font)
    import io

    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    return _atomic_write(Path(path), buf.getvalue())


def _atomic_write(path: Path, data: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(
            _("{path}: cannot write here ({reason})").format(path=path, reason=exc.strerror or exc)
        ) from None
    return path
