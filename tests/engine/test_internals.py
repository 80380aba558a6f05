"""Step-through, embeddings and hidden units: numbers checked against the engines, finite
differences and constructed cases; the explain and embed commands."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from engine.inspect.embed import layer_outputs, pca, silhouette, top_images, tsne
from engine.inspect.explain import apply_update, explain
from engine.model.init import initial_weights

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh", "identity"])
def test_the_step_through_equals_both_engines_and_finite_differences(act):
    w = [a.astype(np.float64) for a in initial_weights([12, 7, 5, 4], act, 3, "xavier")]
    x = np.random.default_rng(0).random(12)
    ex = explain(w, act, x, 2)
    assert ex.all_checked and all(s.check for s in ex.backward() if s.check is not None)
    checked = [s for s in ex.backward() if s.check is not None]
    assert len(checked) == 6  # ∂L/∂W and ∂L/∂b of three layers
    # the step values are the real gradients: compare ∂L/∂W₁ with a finite difference of our own
    dW1 = next(s for s in ex.steps if s.name == "∂L/∂W₁").value

    def loss(ws):
        from engine.model.reference import forward_backward

        q = forward_backward(ws, act, x[None], np.array([2]))[4]
        return -np.log(q[0, 2])

    p, m = [a.copy() for a in w], [a.copy() for a in w]
    p[0][3, 5] += 1e-6
    m[0][3, 5] -= 1e-6
    assert abs((loss(p) - loss(m)) / 2e-6 - dW1[3, 5]) < 1e-7
    out = next(s for s in ex.steps if s.name == "∂L/∂z₃").value
    assert np.allclose(out, ex.q - np.eye(4)[2])  # q − onehot(y) at the output
    assert ex.loss == pytest.approx(-np.log(ex.q[2]))


def test_a_wrong_step_in_the_chain_is_caught_by_the_check(monkeypatch):
    """The shown ∂L/∂W are the chain's own numbers: an activation derivative left out of
    ∂L/∂z = ∂L/∂y ⊙ f′ (a mutation that once slipped through) fails the first layer's check."""
    import engine.inspect.explain as E

    monkeypatch.setattr(E, "activation_grad", lambda act, y: np.ones_like(y))
    w = [a.astype(np.float64) for a in initial_weights([8, 5, 3], "tanh", 0)]
    ex = explain(w, "tanh", np.random.default_rng(1).random(8), 1)
    assert not ex.all_checked and next(s for s in ex.steps if s.name == "∂L/∂W₁").check is False
    assert next(s for s in ex.steps if s.name == "∂L/∂W₂").check is True  # the layer above is still right


def test_applying_the_update_lowers_this_images_loss():
    w = initial_weights([12, 7, 4], "relu", 0)
    before, after = apply_update(w, "relu", np.random.default_rng(2).random(12), 3, 0.05)
    assert after < before
    same = apply_update(w, "relu", np.random.default_rng(2).random(12), 3, 0.0)
    assert same[0] == same[1]


def clusters(n_per=60, k=4, dim=10, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, dim)) * 8
    return np.concatenate([c + rng.standard_normal((n_per, dim)) for c in centres]), np.repeat(np.arange(k), n_per)


def test_pca_and_tsne_keep_separated_classes_apart():
    x, y = clusters()
    assert silhouette(pca(x), y) > 0.5
    progress = []
    pts = tsne(x, progress=lambda d, n: progress.append((d, n)))
    assert pts.shape == (len(x), 2) and silhouette(pts, y) > 0.5
    assert progress and progress[-1][0] == progress[-1][1]
    # mixed classes do not look separated (the measure can fail)
    assert silhouette(pca(x), np.random.default_rng(0).permutation(y)) < 0.1


def test_tsne_can_be_cancelled():
    from engine.inspect.embed import Cancelled

    x, _y = clusters()
    with pytest.raises(Cancelled):
        tsne(x, cancelled=lambda: True)


def test_pca_is_the_top_principal_directions():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 3)) * [10.0, 1.0, 0.1]
    p = pca(x)
    assert np.var(p[:, 0]) > 50 and np.var(p[:, 1]) < 2 and abs(np.corrcoef(p[:, 0], x[:, 0])[0, 1]) > 0.99


def test_top_images_are_the_most_activating():
    w = initial_weights([6, 3, 2], "relu", 0)
    x = np.random.default_rng(0).integers(0, 255, (30, 6)).astype(np.uint8)
    top = top_images(w, "relu", x, layer=1, k=4)
    from engine.data.images import normalize

    acts = layer_outputs(w, "relu", normalize(x), 1)
    for unit in range(3):
        assert list(top[unit]) == list(np.argsort(-acts[:, unit], kind="stable")[:4]) or np.allclose(
            acts[top[unit], unit], np.sort(acts[:, unit])[::-1][:4]
        )


def test_explain_and_embed_commands(tmp_path):
    from tests.conftest import main_py as cli
    from tests.conftest import write_course_layout

    data = write_course_layout(tmp_path / "data")
    ckpt = tmp_path / "m.pt"
    r = cli("train", "--data", data, "--epochs", "2", "--batch-size", "16", "--out", ckpt, "--no-record")
    assert r.returncode == 0, r.stderr
    from engine.data.images import is_image_file

    image = next(p for p in sorted(Path(data).rglob("*")) if is_image_file(str(p)))
    r = cli("explain", "--checkpoint", ckpt, image, "--label", "b")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "∂L/∂W₁ = (∂L/∂z₁)ᵀ x  ✓" in r.stdout and "q − onehot(y)" in r.stdout and "apply this update" in r.stdout
    bad = cli("explain", "--checkpoint", ckpt, image, "--label", "nope")
    assert bad.returncode == 2 and "--label nope: not a class" in bad.stderr
    out = tmp_path / "points.csv"
    r = cli("embed", "--checkpoint", ckpt, "--data", data, "--method", "pca", "--out", out)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open()))
    assert rows and set(rows[0]) == {"index", "x", "y", "label", "predicted"}
    assert all(np.isfinite(float(r["x"])) for r in rows)
    bad = cli("embed", "--checkpoint", ckpt, "--data", data, "--layer", "5")
    assert bad.returncode == 2 and "--layer 5" in bad.stderr
    bad = cli("embed", "--checkpoint", ckpt, "--data", data, "--out", tmp_path / "no" / "such" / "p.csv")
    assert bad.returncode == 2 and "No such file or directory" in bad.stderr and "Traceback" not in bad.stderr


def test_the_network_picture_samples_wide_layers_and_keeps_the_strongest_connections():
    from engine.inspect.embed import network_picture

    w = initial_weights([100, 20, 5], "relu", 0)
    w[0][:, 7] *= 50  # input 7 carries the strongest weights: it is among those shown
    pic = network_picture(w, "relu", np.random.default_rng(0).random(100), per_column=10, edges_per_gap=30)
    assert pic.sizes == [100, 20, 5] and [len(s) for s in pic.shown] == [10, 10, 5]
    assert 7 in pic.shown[0]
    assert len(pic.edges) == 60 and all(e[0] in (0, 1) for e in pic.edges)
    first = [abs(e[3]) for e in pic.edges if e[0] == 0]
    shown_w = np.abs(w[0][np.ix_(pic.shown[1], pic.shown[0])])
    assert min(first) >= np.sort(shown_w.ravel())[-30]  # the 30 strongest of the shown units
    assert abs(sum(pic.values[-1]) - 1) < 1e-9  # the output column is softmax q
