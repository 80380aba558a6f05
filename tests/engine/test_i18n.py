"""The engine's messages in the students' language: the check's diagnoses in Chinese, without Qt,
from a GNU gettext catalogue kept in step with the code."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess

import pytest

from engine import i18n
from tests.conftest import ROOT

PO = ROOT / "engine" / "locale" / "zh_CN" / "LC_MESSAGES" / "backprop-studio.po"
MO = PO.with_suffix(".mo")
MISTAKES = sorted((ROOT / "tests" / "fixtures" / "userfn" / "mistakes").glob("*.py"))
CJK = re.compile(r"[\u4e00-\u9fff]")


def _msgids_in_code() -> set[str]:
    ids = set()
    for path in (ROOT / "engine").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_"):
                assert node.args and isinstance(node.args[0], ast.Constant), f"{path}:{node.lineno}: _() of a literal"
                ids.add(node.args[0].value)
    return ids


def _catalogue(mo) -> dict[str, str]:
    with open(mo, "rb") as f:
        return {k: v for k, v in gettext.GNUTranslations(f)._catalog.items() if k}


def test_every_message_in_the_code_has_a_chinese_translation_with_the_same_fields():
    zh = _catalogue(MO)
    assert _msgids_in_code() == set(zh), "engine/locale is out of date with the code: run `make translations`"
    for msgid, text in zh.items():
        assert CJK.search(text), f"not translated: {msgid!r}"
        assert sorted(re.findall(r"{(\w+)[!:}]", msgid)) == sorted(re.findall(r"{(\w+)[!:}]", text)), msgid


def test_the_compiled_catalogue_is_the_source_compiled(tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt (GNU gettext) is not installed: apt-get install gettext")
    fresh = tmp_path / "fresh.mo"
    subprocess.run([msgfmt, "--check", "-o", str(fresh), str(PO)], check=True, capture_output=True, timeout=60)
    assert _catalogue(fresh) == _catalogue(MO), "the .mo is stale: run `make translations`"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"BACKPROP_STUDIO_LANG": "zh_CN", "LANG": "en_US.UTF-8"}, "zh_CN"),
        ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
        ({"LANGUAGE": "zh_CN:en", "LANG": "en_US.UTF-8"}, "zh_CN"),
        ({"LANG": "C"}, "en"),
        ({}, "en"),
    ],
)
def test_the_language_comes_from_the_setting_then_the_locale(monkeypatch, env, expected):
    for var in ("BACKPROP_STUDIO_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert i18n.language() == expected


def test_english_is_the_message_itself(monkeypatch):
    monkeypatch.setenv("BACKPROP_STUDIO_LANG", "en")
    assert i18n._("all checks passed") == "all checks passed"
    monkeypatch.setenv("BACKPROP_STUDIO_LANG", "zh_CN")
    assert i18n._("all checks passed") == "全部检查通过"


@pytest.mark.slow
def test_every_fixture_mistake_is_diagnosed_in_chinese(monkeypatch):
    """The check of each course-shaped mistake, with the language set as the window sets it: the
    diagnoses come from the sandbox's worker process, which inherits it."""
    from engine.inspect.functions import format_report
    from engine.inspect.sandboxed import check_in_sandbox

    monkeypatch.setenv("BACKPROP_STUDIO_LANG", "zh_CN")
    english = []
    for mistake in MISTAKES:
        files = [str(mistake)]
        res, _out = check_in_sandbox(files)
        said = [d for r in res.results for d in r.diagnoses + r.warnings]
        assert said, f"{mistake.name}: nothing diagnosed"
        english += [f"{mistake.name}: {d}" for d in said if not CJK.search(d)]
        assert "检查" in format_report(res).splitlines()[-1]  # the verdict line too
    assert not english, "diagnoses left in English:\n" + "\n".join(english)


def test_no_function_that_translates_also_names_a_variable_underscore():
    """``x, _ = f()`` makes ``_`` a local variable of the whole function: a ``_("…")`` in it then
    calls the throwaway value (seen: the race failed with "'numpy.ndarray' object is not callable")."""
    bad = []
    for path in (ROOT / "engine").rglob("*.py"):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            nodes = list(ast.walk(fn))
            calls = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_" for n in nodes)
            binds = any(isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store) for n in nodes)
            if calls and binds:
                bad.append(f"{path.relative_to(ROOT)}:{fn.lineno} {fn.name}")
    assert not bad, "rename the throwaway `_` in: " + ", ".join(bad)


def test_a_dataset_error_reads_in_chinese(tmp_path, monkeypatch):
    """The errors a student meets first — opening a dataset — follow the language (engine.data)."""
    from tests.conftest import cli_in_process

    monkeypatch.setenv("BACKPROP_STUDIO_LANG", "zh_CN")
    missing = tmp_path / "没有的文件夹"
    code, _out, err = cli_in_process("train", "--data", missing, "--epochs", "1", "--no-record")
    assert code == 2 and f"{missing}：没有这个文件或文件夹" in err
    empty = tmp_path / "空"
    empty.mkdir()
    code, _out, err = cli_in_process("train", "--data", empty, "--epochs", "1", "--no-record")
    assert code == 2 and "没有找到数据集" in err


def test_settings_checkpoint_and_sweep_errors_read_in_chinese(tmp_path, monkeypatch):
    """Beyond the datasets: a setting's value (with the setting's own name translated), a file that
    is not a checkpoint (with what it is not), a sweep's grid — and English stays the message itself."""
    from engine.checkpoint import load_checkpoint
    from engine.config import TrainConfig
    from engine.errors import UserError
    from engine.runs.space import parse_param

    def said(call) -> str:
        with pytest.raises(UserError) as info:
            call()
        return str(info.value)

    empty = tmp_path / "空的.pt"
    empty.write_bytes(b"")
    cases = [
        (
            lambda: TrainConfig(lr=-1.0).validate(),
            "学习率：-1.0 必须大于 0",
            "learning rate: -1.0 must be greater than 0",
        ),
        (
            lambda: TrainConfig(batch_size=0).validate(),
            "批大小：0 必须是 ≥ 1 的整数",
            "batch size: 0 must be a whole number ≥ 1",
        ),
        (lambda: load_checkpoint(tmp_path), "是文件夹，不是检查点", "is a folder, not a checkpoint"),
        (lambda: load_checkpoint(empty), f"{empty.name}：文件是空的", f"{empty.name}: the file is empty"),
        (lambda: parse_param("momentum"), "请写成 名称=取值", "write name=values"),
    ]
    for call, chinese, english in cases:
        monkeypatch.setenv("BACKPROP_STUDIO_LANG", "zh_CN")
        assert chinese in said(call)
        monkeypatch.setenv("BACKPROP_STUDIO_LANG", "en")
        assert english in said(call)


def test_the_race_report_reads_in_chinese(monkeypatch):
    """Where the race parts (the window's race line and ``check --race``): its words were English
    in the Chinese window."""
    from engine.inspect.check_result import RaceResult
    from engine.inspect.functions import format_race

    first = {"step": 1, "parameter": "W", "error": 5.3, "loss_difference": 0.1, "all": [["W", 5.3], ["b", 4.7]]}
    race = RaceResult((3.2, 3.3), (3.2, 3.4), first, 200, 1e-6)
    monkeypatch.setenv("BACKPROP_STUDIO_LANG", "zh_CN")
    text = format_race(race)
    assert "第一个出现差异的梯度" in text and "其后是" in text and not re.search("[a-z]{4,}", text.replace("float", ""))
    monkeypatch.setenv("BACKPROP_STUDIO_LANG", "en")
    assert "first gradient to differ (in backprop order): W (relative error 5.30e+00); then b (4.7e+00)" in format_race(
        race
    )
