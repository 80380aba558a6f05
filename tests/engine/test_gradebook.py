"""check --class: a class's submissions into a gradebook, each in its own sandbox, N at a time."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from engine.inspect.gradebook import check_class

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "userfn"
LETTERS = sorted((FIX / "letters").glob("*.py"))


@pytest.fixture
def klass(tmp_path):
    root = tmp_path / "class"
    for student in ("alice", "bob", "carol", "dave", "erin"):
        (root / student).mkdir(parents=True)
        for f in LETTERS:
            shutil.copy(f, root / student / f.name)
    shutil.copy(FIX / "mistakes" / "batch_factor.py", root / "bob" / "losses.py")  # the course's convention: WARN
    shutil.copy(FIX / "mistakes" / "transposed.py", root / "carol" / "mistake.py")  # a FAIL
    shutil.copy(FIX / "hostile" / "hangs.py", root / "dave" / "network.py")  # never ends
    (root / "erin" / "network.py").write_text("def broken(:\n")  # a syntax error
    with zipfile.ZipFile(root / "fred.zip", "w") as z:  # a zip per student works too
        for f in LETTERS:
            z.write(f, f"fred/{f.name}")
        z.writestr("../../evil.py", "x = 1")  # a path out of the folder is never written
    return root


def test_a_class_is_graded_and_one_bad_submission_never_ends_the_batch(klass, tmp_path):
    out = tmp_path / "gradebook"
    seen = []
    grades = check_class(klass, out, workers=2, time_limit=5, progress=lambda *p: seen.append(p[:2]))
    by = {g.student: g for g in grades}
    assert set(by) == {"alice", "bob", "carol", "dave", "erin", "fred"}
    assert by["alice"].score == by["alice"].max_score == 8 and not by["alice"].diagnoses
    assert by["bob"].verdicts["cross_entropy"] == "WARN" and by["bob"].score == 8 and by["bob"].warnings
    assert by["carol"].verdicts["linear"] == "FAIL" and any("transposed" in d for d in by["carol"].diagnoses)
    assert "did not finish within 5 s" in by["dave"].error and "SyntaxError" in by["erin"].error
    assert by["fred"].score == 8 and not (tmp_path / "evil.py").exists()
    assert sorted(n for n, _ in seen) == [1, 2, 3, 4, 5, 6]
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text("utf-8")))}
    assert rows["carol"]["linear"] == "FAIL" and rows["alice"]["whole MLP"] == "PASS" and rows["dave"]["error"]
    gs = json.loads((out / "gradescope" / "carol" / "results.json").read_text("utf-8"))
    assert {"score", "output", "tests"} <= set(gs) and all(
        {"name", "score", "max_score"} <= set(t) for t in gs["tests"]
    )
    assert any(t["name"] == "linear backward" and t["score"] == 0 for t in gs["tests"])
    page = (out / "students" / "carol.html").read_text("utf-8")  # the student's own page
    assert "<h1>carol</h1>" in page and "FAIL" in page and "is transposed" in page
    assert "worked example, batch of 2" in page and "expected ∂L/∂W" in page  # the numbers behind it
    assert "Your code" in page and "mistake.py:" in page and "def backward" in page  # their lines
    assert "Your code" not in (out / "students" / "alice.html").read_text("utf-8")  # nothing failed
    summary = (out / "summary.txt").read_text("utf-8").splitlines()
    assert summary[0].startswith("6 submissions") and any("transposed" in line for line in summary)
    # a rerun checks only what changed
    shutil.copy(FIX / "letters" / "network.py", klass / "dave" / "network.py")
    again = []
    grades = check_class(klass, out, workers=2, time_limit=5, progress=lambda d, t, g, e: again.append(g.student))
    assert again == ["dave"] and {g.student: g for g in grades}["dave"].score == 8


def test_the_cli_says_what_it_needs(tmp_path):
    from tests.engine.test_paths import run_cli

    code, out, err = run_cli("check", "--class", tmp_path)
    assert code == 2 and "--out" in err
    code, out, err = run_cli("check", "--class", tmp_path / "none", "--out", tmp_path / "gb")
    assert code == 2 and "no such folder" in err


def test_a_rubric_sets_the_points_and_a_bad_one_is_one_line(klass, tmp_path):
    """Points per role and for a WARN from a TOML rubric, in the gradebook and Gradescope alike."""
    from engine.errors import UserError
    from engine.inspect.gradebook import load_rubric

    for name in ("carol", "dave", "erin", "fred"):
        shutil.rmtree(klass / name, ignore_errors=True)
    (klass / "fred.zip").unlink()
    rubric = tmp_path / "rubric.toml"
    rubric.write_text("op = 1\nmlp = 4\nwarn = 0.5\n[roles]\nlinear = 3\ncross_entropy = 2\n")
    grades = {g.student: g for g in check_class(klass, tmp_path / "out", workers=2, rubric=load_rubric(rubric))}
    alice, bob = grades["alice"], grades["bob"]  # bob's loss is a WARN (the course's convention)
    assert alice.points["linear"] == (3, 3) and alice.points["whole MLP"] == (4, 4)
    others = len(alice.verdicts) - 2  # the activations, 1 point each (op = 1)
    assert others >= 3 and alice.max_score == alice.score == 3 + 2 + 4 + others  # linear, cross-entropy, MLP
    assert bob.points["cross_entropy"] == (1.0, 2) and bob.score == alice.score - 1
    gs = json.loads((tmp_path / "out" / "gradescope" / "bob" / "results.json").read_text("utf-8"))
    assert gs["score"] == bob.score and {"name": "cross_entropy backward", "score": 1.0, "max_score": 2.0} in [
        {k: t[k] for k in ("name", "score", "max_score")} for t in gs["tests"]
    ]
    bad = tmp_path / "bad.toml"
    for text, message in (("op = -1\n", "op = -1 must be a number"), ("bonus = 1\n", r"unknown key\(s\) bonus"),
                          ("op = [\n", "not valid TOML"), ("warn = 2\n", "is a share")):  # fmt: skip
        bad.write_text(text)
        with pytest.raises(UserError, match=message):
            load_rubric(bad)
