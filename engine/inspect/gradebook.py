"""A class at once: every student's backward passes checked, into a gradebook.

``SUBMISSIONS/<student>/*.py`` (or ``<student>.zip``) — each submission is checked in its own
sandboxed child (:func:`engine.inspect.sandbox.run_sandboxed`), ``workers`` at a time; a crash,
a hang or a syntax error is that student's result, never the batch's end. Results are written
after every submission, so Ctrl+C keeps what is done, and a rerun re-checks only submissions
whose files changed (by SHA-256).

Written to ``--out``: ``gradebook.csv`` (a row per student: each role's verdict, the whole-MLP
check, the score, the diagnoses), ``class.json`` (everything), ``summary.txt`` (how many students
made each mistake, most common first), a page per student ``students/<student>.html`` (each
verdict, the check's report with its worked examples, the code of the ops that did not pass) and
Gradescope's ``gradescope/<student>/results.json``.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import tempfile
import threading
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from engine.errors import UserError
from engine.i18n import _
from engine.inspect.check_result import FilesCheck
from engine.tabular import write_table

MAX_ZIP_BYTES = 50 << 20  # a submission's files, unpacked
POINTS = {"op": 1.0, "mlp": 2.0, "warn": 1.0, "roles": {}}  # the default rubric (see load_rubric)


def load_rubric(path: str | Path | None) -> dict:
    """Points from a TOML file, over the defaults: ``op`` (each op checked, 1), ``mlp`` (the whole
    MLP, 2), ``warn`` (the share of an op's points a WARN earns, 1: all), ``[roles]`` (points of
    one role instead of ``op``, e.g. ``linear = 2``). A FAIL earns nothing."""
    import tomllib

    rubric = {**POINTS, "roles": {}}
    if path is None:
        return rubric
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(
            _("--rubric {path}: cannot read it ({reason})").format(path=path, reason=exc.strerror or exc)
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(_("--rubric {path}: not valid TOML ({exc})").format(path=path, exc=exc)) from None
    unknown = set(data) - set(POINTS)
    if unknown:
        raise UserError(
            _("--rubric {path}: unknown key(s) {keys}; use op, mlp, warn, [roles]").format(
                path=path, keys=", ".join(sorted(unknown))
            )
        )

    def number(where: str, v) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise UserError(
                _("--rubric {path}: {where} = {v!r} must be a number ≥ 0").format(path=path, where=where, v=v)
            )
        return float(v)

    for key in ("op", "mlp", "warn"):
        if key in data:
            rubric[key] = number(key, data[key])
    if rubric["warn"] > 1:
        raise UserError(
            _("--rubric {path}: warn = {warn:g} is a share of an op's points (0 to 1)").format(
                path=path, warn=rubric["warn"]
            )
        )
    roles = data.get("roles", {})
    if not isinstance(roles, dict):
        raise UserError(_("--rubric {path}: [roles] must be a table of role = points").format(path=path))
    rubric["roles"] = {str(k): number(f"roles.{k}", v) for k, v in roles.items()}
    return rubric


@dataclass
class Submission:
    student: str
    files: list[str]
    digest: str
    scratch: str = ""  # a folder unpacked from a zip, removed at the end


@dataclass
class Grade:
    student: str
    digest: str
    verdicts: dict = field(default_factory=dict)  # role → PASS | WARN | FAIL
    mlp: str = "-"
    diagnoses: list = field(default_factory=list)  # "Op: text"
    warnings: list = field(default_factory=list)
    error: str = ""
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    points: dict = field(default_factory=dict)  # check → (earned, max): each role and "whole MLP"
    report: str = ""  # the check's whole report (worked examples included), for the student's page
    code: list = field(default_factory=list)  # [op, verdict, "file:line", source lines] of each op not passing


def _digest(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _unzip(path: Path) -> Path:
    """A student's zip, unpacked safely (no absolute paths or .., bounded size) into a temp folder."""
    out = Path(tempfile.mkdtemp(prefix="backprop-class-"))
    try:
        with zipfile.ZipFile(path) as z:
            total = 0
            for info in z.infolist():
                name = Path(info.filename)
                if info.is_dir() or name.suffix != ".py":
                    continue
                if name.is_absolute() or ".." in name.parts:
                    continue
                total += info.file_size
                if total > MAX_ZIP_BYTES:
                    raise UserError(
                        _("{path}: more than {max_mb} MiB of Python files").format(
                            path=path, max_mb=MAX_ZIP_BYTES >> 20
                        )
                    )
                (out / name.name).write_bytes(z.read(info))
    except zipfile.BadZipFile:
        shutil.rmtree(out, ignore_errors=True)
        raise UserError(_("{path}: not a zip file").format(path=path)) from None
    return out


def find_submissions(root: Path) -> list[Submission]:
    if not root.is_dir():
        raise UserError(_("--class {root}: no such folder").format(root=root))
    subs = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        scratch = ""
        if entry.is_dir():
            folder = entry
        elif entry.suffix.lower() == ".zip":
            try:
                folder = _unzip(entry)
            except UserError as exc:
                subs.append(Submission(entry.stem, [], f"error:{exc}"))
                continue
            scratch = str(folder)
        else:
            continue
        files = sorted(p for p in folder.rglob("*.py") if not any(part.startswith(".") for part in p.parts))
        subs.append(Submission(entry.stem if scratch else entry.name, [str(f) for f in files], _digest(files), scratch))
    if not subs:
        raise UserError(_("--class {root}: no submissions (a folder or a .zip per student)").format(root=root))
    return subs


def grade_result(student: str, digest: str, res: FilesCheck, rubric: dict | None = None) -> Grade:
    rubric = rubric or POINTS
    g = Grade(student, digest)
    order = {"FAIL": 0, "WARN": 1, "PASS": 2}
    for r in res.results:
        v = r.verdict
        if v == "-":
            continue
        if r.role in g.verdicts:  # two ops of one role: the worse verdict counts
            v = min(v, g.verdicts[r.role], key=order.get)
        g.verdicts[r.role] = v
        g.diagnoses += [f"{r.name}: {d}" for d in r.diagnoses]
        g.warnings += [f"{r.name}: {w}" for w in r.warnings]
    m = res.mlp
    g.mlp = m.verdict
    if g.mlp == "FAIL" and m.why:
        whole = _("whole MLP")  # a diagnosis is "op: text", as the ops' own
        g.diagnoses.append(f"{whole}: {m.why}")
    share = {"PASS": 1.0, "WARN": rubric["warn"], "FAIL": 0.0}
    for role, v in g.verdicts.items():
        worth = rubric["roles"].get(role, rubric["op"])
        g.points[role] = (worth * share[v], worth)
    if g.mlp != "-":
        g.points["whole MLP"] = (rubric["mlp"] * (g.mlp == "PASS"), rubric["mlp"])
    g.score = sum(earned for earned, _max in g.points.values())
    g.max_score = sum(worth for _earned, worth in g.points.values())
    return g


def check_class(
    root: str | Path,
    out: str | Path,
    workers: int = 2,
    reduction: str = "mean",
    time_limit: float = 60.0,
    progress=None,
    cancel: threading.Event | None = None,
    rubric: dict | None = None,
) -> list[Grade]:
    """Check every submission under ``root``, ``workers`` at a time; write the gradebook to ``out``
    after each; reuse the results of unchanged submissions from an earlier run there."""
    from engine.inspect.functions import format_report
    from engine.inspect.sandbox import SandboxError
    from engine.inspect.sandboxed import check_in_sandbox

    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            _("--out {out}: cannot create the folder ({reason})").format(out=out, reason=exc.strerror or exc)
        ) from None
    subs = find_submissions(Path(root))
    earlier = _earlier(out)
    grades: dict[str, Grade] = {}
    todo = []
    for s in subs:
        old = earlier.get(s.student)
        if old is not None and old.digest == s.digest:
            grades[s.student] = old
        elif s.digest.startswith("error:"):
            grades[s.student] = Grade(s.student, s.digest, error=s.digest[len("error:") :])
        elif not s.files:
            grades[s.student] = Grade(s.student, s.digest, error="no Python files")
        else:
            todo.append(s)
    lock = threading.Lock()
    t0 = time.monotonic()

    def one(s: Submission) -> Grade:
        started = time.monotonic()
        if cancel is not None and cancel.is_set():
            return Grade(s.student, "", error="not checked (cancelled)")
        try:
            res, _out = check_in_sandbox(
                s.files,
                {},
                None,
                reduction,
                time_limit=time_limit,
                cancel=(cancel.is_set if cancel is not None else None),
            )
            g = (
                grade_result(s.student, s.digest, res, rubric)
                if res.ops
                else Grade(s.student, s.digest, error="no ops found")
            )
            if res.ops:
                g.report = format_report(res)
                g.code = _code_of(res, s.files)
        except SandboxError as exc:
            g = Grade(s.student, s.digest, error=one_line(str(exc)))
        g.seconds = time.monotonic() - started
        return g

    done = 0
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = {pool.submit(one, s): s for s in todo}
            for fut in as_completed(futures):
                g = fut.result()
                with lock:
                    if g.digest:  # a cancelled one is not recorded: the rerun checks it
                        grades[g.student] = g
                    done += 1
                    write_gradebook(out, [grades[s.student] for s in subs if s.student in grades])
                if progress is not None:
                    elapsed = time.monotonic() - t0
                    eta = elapsed / done * (len(todo) - done)
                    progress(done, len(todo), g, eta)
    finally:
        for s in subs:
            if s.scratch:
                shutil.rmtree(s.scratch, ignore_errors=True)
    result = [grades[s.student] for s in subs if s.student in grades]
    write_gradebook(out, result)
    return result


def _code_of(res: FilesCheck, files: list[str], lines: int = 24) -> list:
    """The source of each op that did not pass, read now (a zip's folder is gone later)."""
    by_name = {Path(f).name: f for f in files}
    out = []
    for r in res.results:
        if r.verdict not in ("FAIL", "WARN") or r.file not in by_name or not r.line:
            continue
        try:
            text = Path(by_name[r.file]).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        start = max(1, int(r.line))
        snippet = [f"{n:>4}  {text[n - 1]}" for n in range(start, min(len(text), start + lines - 1) + 1)]
        out.append([r.name, r.verdict, r.where, snippet])
    return out


def student_page(g: Grade) -> str:
    """One student's self-contained HTML page: score, a verdict per op, each diagnosis with its
    worked numbers (the check's report), and the code of the ops that did not pass."""
    esc = html.escape
    colour = {"PASS": "#0a7f3f", "WARN": "#b26b00", "FAIL": "#c0392b"}
    checks = sorted(g.verdicts.items()) + ([("whole MLP", g.mlp)] if g.mlp != "-" else [])
    rows = "".join(
        f"<tr><td>{esc(role)}</td><td style='color:{colour.get(v, '#000')};font-weight:bold'>{esc(v)}</td></tr>"
        for role, v in checks
    )
    code = "".join(
        f"<h3>{esc(name)} — {esc(verdict)} ({esc(where)})</h3><pre>{esc(chr(10).join(lines))}</pre>"
        for name, verdict, where, lines in g.code
    )
    error = f"<p class='error'>{esc(g.error)}</p>" if g.error else ""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{esc(g.student)}: {g.score:g} / {g.max_score:g}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "pre{background:#f6f6f6;padding:.6em;overflow-x:auto}td{padding:.2em 1em}"
        ".error{color:#c0392b}</style></head><body>"
        f"<h1>{esc(g.student)}</h1><p>score <b>{g.score:g}</b> of {g.max_score:g}; "
        f"checked in {g.seconds:.1f} s</p>{error}<table>{rows}</table>"
        f"<h2>The check</h2><pre>{esc(g.report)}</pre>{('<h2>Your code</h2>' + code) if code else ''}"
        "</body></html>\n"
    )


def one_line(text: str) -> str:
    """A sandbox error in one line: the error itself, with where it happened in their file."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return "failed"
    where = next((ln for ln in reversed(lines) if ln.startswith('File "')), "")
    if where and lines[-1] != where:
        m = re.match(r'File "([^"]+)", line (\d+)', where)
        return f"{Path(m.group(1)).name}:{m.group(2)}: {lines[-1]}" if m else lines[-1]
    return lines[-1] if len(lines) == 1 or not where else " ".join(lines[-2:])


def _earlier(out: Path) -> dict[str, Grade]:
    try:
        data = json.loads((out / "class.json").read_text(encoding="utf-8"))
        return {d["student"]: Grade(**d) for d in data.get("students", []) if not d.get("error", "").startswith("not")}
    except (OSError, ValueError, TypeError, KeyError):
        return {}


def mistake_key(text: str) -> str:
    """A diagnosis without its numbers and op name: the same mistake counted once per student."""
    text = text.split(": ", 1)[-1]
    return re.sub(r"\d[\d.e+-]*", "N", text.split(" (also at")[0])[:140]


def write_gradebook(out: Path, grades: list[Grade]) -> None:
    roles = sorted({r for g in grades for r in g.verdicts})
    head = ["student", *roles, "whole MLP", "score", "max", "diagnoses", "warnings", "error"]
    body = [
        [
            g.student,
            *(g.verdicts.get(r, "") for r in roles),
            g.mlp,
            f"{g.score:g}",
            f"{g.max_score:g}",
            " | ".join(g.diagnoses),
            " | ".join(g.warnings),
            g.error,
        ]
        for g in grades
    ]
    _atomic(out / "gradebook.csv", write_table(head, body, "csv"))
    _atomic(out / "class.json", json.dumps({"students": [asdict(g) for g in grades]}, indent=1, ensure_ascii=False))
    counts = Counter(mistake_key(d) for g in grades for d in {mistake_key(x): x for x in g.diagnoses}.values())
    errors = Counter(g.error for g in grades if g.error)
    lines = [f"{len(grades)} submissions; {sum(not g.diagnoses and not g.error for g in grades)} with no mistake"]
    lines += [f"{n:>4} × {text}" for text, n in counts.most_common()]
    lines += [f"{n:>4} × could not be checked: {text}" for text, n in errors.most_common()]
    _atomic(out / "summary.txt", "\n".join(lines) + "\n")
    for g in grades:
        tests = [
            {
                "name": f"{role} backward" if role != "whole MLP" else "whole MLP vs finite differences",
                "score": earned,
                "max_score": worth,
                "output": g.verdicts.get(role, g.mlp),
            }
            for role, (earned, worth) in g.points.items()
        ]
        output = "\n".join(["✗ " + d for d in g.diagnoses] + ["⚠ " + w for w in g.warnings] + [g.error])
        safe = safe_name(g.student)
        (out / "students").mkdir(parents=True, exist_ok=True)
        _atomic(student_page_path(out, g.student), student_page(g))
        folder = out / "gradescope" / safe
        folder.mkdir(parents=True, exist_ok=True)
        _atomic(
            folder / "results.json",
            json.dumps({"score": g.score, "output": output.strip(), "tests": tests}, indent=1, ensure_ascii=False),
        )


def safe_name(student: str) -> str:
    """A student's name as a file name on every system (their folder's name may not be one)."""
    return re.sub(r"[^\w.-]+", "_", student)


def student_page_path(out: str | Path, student: str) -> Path:
    """Where the gradebook in ``out`` keeps a student's page."""
    return Path(out) / "students" / f"{safe_name(student)}.html"


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
