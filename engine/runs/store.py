"""The run store: every run, from the window, the CLI or a sweep, recorded as it happens.

An embedded SQLite database (WAL: several processes read and write it at once) in the user's
data folder by default, or any SQLAlchemy URL (``postgresql+psycopg://…``) so that machines
sharing a sweep share their runs. The schema is versioned by Alembic (its own version table,
``runstore_version``, so the store may share a database with Optuna's tables); a database
written by a newer version is refused with a :class:`StoreError` rather than touched.

A run is inserted ``running`` when it starts, its epochs are written as they come (batched to
keep the cost far below a percent of training), and it is closed with its status and results.
A run whose process died (its ``pid`` on this host is gone) is marked ``interrupted`` the next
time the store is opened; SQLite's journal keeps the file intact whatever happens to a writer.
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from engine.errors import UserError
from engine.training.processes import pid_alive

STATUSES = ("running", "finished", "stopped", "diverged", "failed", "interrupted")
MAX_STEP_POINTS = 2000
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "runstore_version"
EDITABLE = ("name", "tags", "note")


class StoreError(UserError):
    """The run store cannot be used (newer schema, not a database, unreachable server)."""


def data_dir() -> Path:
    """The user's data folder for Backprop Studio (platformdirs)."""
    import platformdirs

    return platformdirs.user_data_path("backprop-studio", appauthor=False)


def default_location() -> str:
    """``$BACKPROP_STUDIO_RUNS_DB``, else ``runs.db`` in the user's data folder."""
    return os.environ.get("BACKPROP_STUDIO_RUNS_DB") or str(data_dir() / "runs.db")


def database_url(target: str) -> str:
    """A SQLAlchemy URL for a path or URL; ``postgresql://`` means the psycopg (3) driver."""
    if "://" not in target:
        if re.match(r"^[A-Za-z]:[\\/]", target):  # a Windows drive path (C:\Users\…), on any OS
            return "sqlite:///" + PureWindowsPath(target).as_posix()
        return "sqlite:///" + Path(target).expanduser().resolve().as_posix()
    if target.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + target.split("://", 1)[1]
    return target


def describe_target(target: str) -> str:
    """The location without a password, for messages."""
    if "://" in target and "@" in target:
        scheme, rest = target.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        return f"{scheme}://{cred.split(':', 1)[0]}@{host}"
    return target


def library_versions() -> dict:
    import platform

    import numpy
    import torch

    from engine import __version__

    return {
        "backprop-studio": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
    }


@dataclass
class RunRow:
    """One recorded run, as the Runs view and the exports see it."""

    id: int
    name: str
    tags: list[str]
    note: str
    source: str
    dataset_name: str
    dataset_path: str
    dataset_fingerprint: str
    split_seed: int | None
    config: dict
    versions: dict
    sweep: str | None
    trial: int | None
    started: float
    ended: float | None
    status: str
    message: str
    epochs_done: int
    train_loss: float | None
    train_acc: float | None
    val_loss: float | None
    val_acc: float | None
    best_val_acc: float | None
    best_epoch: int | None
    test_acc: float | None
    test_acc_at_best: float | None
    wall_time: float | None
    best_checkpoint: str
    final_checkpoint: str
    host: str = ""
    pid: int | None = None

    @classmethod
    def from_mapping(cls, m) -> RunRow:
        d = dict(m)
        d["tags"] = [t for t in (d.get("tags") or "").split(",") if t]
        d["config"] = json.loads(d.get("config") or "{}")
        d["versions"] = json.loads(d.get("versions") or "{}")
        d.pop("steps", None)
        d.pop("heartbeat", None)
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass
class EpochRow:
    epoch: int
    train_loss: float | None
    train_acc: float | None
    val_loss: float | None
    val_acc: float | None


def downsample(points: list[tuple[int, float]], limit: int = MAX_STEP_POINTS) -> list[list[float]]:
    """At most ``limit`` (step, loss) points: consecutive steps averaged in equal buckets."""
    n = len(points)
    if n <= limit:
        return [[s, v] for s, v in points]
    out = []
    for b in range(limit):
        lo, hi = b * n // limit, (b + 1) * n // limit
        chunk = points[lo:hi]
        finite = [v for _, v in chunk if math.isfinite(v)]
        loss = sum(finite) / len(finite) if finite else float("nan")
        out.append([sum(s for s, _ in chunk) / len(chunk), loss])
    return out


HEALTH_NUMBERS = ("grad_norm", "weight_norm", "update_ratio", "act_mean", "act_std", "dead", "saturated")


def health_rows(run_id: int, records: list[dict]) -> list[dict]:
    """The ``health`` table's rows of layer-health records: one per collection and layer, each
    with the warnings that name its layer."""
    rows = []
    for rec in records:
        for i, layer in enumerate(rec["layers"]):
            name = layer["name"]
            detail = {k: v for k, v in layer.items() if k != "name" and k not in HEALTH_NUMBERS}
            rows.append(
                {
                    "run_id": run_id,
                    "step": int(rec["global_step"]),
                    "layer": i,
                    "epoch": float(rec["epoch"]),
                    "name": name,
                    **{k: _clean(layer.get(k)) for k in HEALTH_NUMBERS},
                    "warnings": "\n".join(w for w in rec.get("warnings", []) if w.startswith(f"{name}:")),
                    "detail": json.dumps(detail),
                }
            )
    return rows


def _clean(value):
    """NaN and infinities as NULL: JSON and PostgreSQL both take them badly."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _reading(method):
    """A read of the store: a database error (a damaged file, a server gone) is one line naming
    the store, not a traceback."""
    import functools

    @functools.wraps(method)
    def read(self, *args, **kwargs):
        import sqlalchemy as sa

        try:
            return method(self, *args, **kwargs)
        except sa.exc.DatabaseError as exc:
            msg = _first_line(str(exc.orig) if exc.orig else str(exc))
            raise StoreError(f"{self.where}: cannot read the run store ({msg[:200]}); it may be damaged") from None

    return read


class RunStore:
    """The run store at ``target`` (a path or a SQLAlchemy URL; default :func:`default_location`)."""

    def __init__(self, target: str | os.PathLike | None = None, checkpoints: str | os.PathLike | None = None):
        import sqlalchemy as sa

        self.target = str(target) if target else default_location()
        self.url = database_url(self.target)
        self.where = describe_target(self.target)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            path = Path(self.url[len("sqlite:///") :])
            if target and not path.parent.is_dir():  # a mistyped path makes no folders
                raise StoreError(f"{path.parent}: no such folder for the run store (create it, or check the path)")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{path.parent}: cannot create the run store's folder ({exc.strerror})") from None
            default_ck = path.parent / "checkpoints"
        else:
            default_ck = data_dir() / "checkpoints"
        self.checkpoints = Path(checkpoints) if checkpoints else default_ck
        kwargs: dict = {}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["connect_args"] = {"connect_timeout": 5}
        try:
            self.engine = sa.create_engine(self.url, **kwargs)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
            raise StoreError(f"{self.where}: not a database URL this studio can use ({exc})") from None
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        if self.is_sqlite:
            _check_sqlite_file(path, self.where)  # read-only, before anything is written to it
        self._meta = sa.MetaData()
        self._migrate()
        self.runs_t = sa.Table("runs", self._meta, autoload_with=self.engine)
        self.epochs_t = sa.Table("epochs", self._meta, autoload_with=self.engine)
        self.health_t = sa.Table("health", self._meta, autoload_with=self.engine)
        self.settings_t = sa.Table("store_settings", self._meta, autoload_with=self.engine)
        self.reap()

    # -- schema -----------------------------------------------------------------------
    def _migrate(self) -> None:
        import sqlalchemy as sa
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        script = ScriptDirectory.from_config(cfg)
        head = script.get_current_head()
        known = {s.revision for s in script.walk_revisions()}
        for attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    current = MigrationContext.configure(
                        conn, opts={"version_table": VERSION_TABLE}
                    ).get_current_revision()
                    if current is not None and current not in known:
                        raise StoreError(
                            f"{self.where}: written by a newer Backprop Studio (run store schema {current}; "
                            f"this version knows up to {head}); runs will not be recorded"
                        )
                    if current != head:
                        cfg.attributes["connection"] = conn
                        command.upgrade(cfg, "head")
                return
            except StoreError:
                raise
            except sa.exc.DatabaseError as exc:
                msg = str(exc.orig) if exc.orig else str(exc)
                if "already exists" in msg and attempt < 2:  # another process created it meanwhile
                    continue
                what = (
                    "cannot open the run store"
                    if isinstance(exc, sa.exc.OperationalError)
                    else "not a run store database"
                )
                raise StoreError(f"{self.where}: {what} ({_first_line(msg)})") from None

    def schema_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()

    def close(self) -> None:
        self.engine.dispose()

    # -- writing ----------------------------------------------------------------------
    def start_run(
        self,
        *,
        name: str,
        config: dict,
        dataset: dict,
        source: str,
        sweep: str | None = None,
        trial: int | None = None,
    ) -> int:
        now = time.time()
        values = {
            "name": name,
            "source": source,
            "dataset_name": dataset.get("name", ""),
            "dataset_path": dataset.get("path", ""),
            "dataset_fingerprint": dataset.get("fingerprint", ""),
            "split_seed": dataset.get("split_seed"),
            "config": json.dumps(config, sort_keys=True),
            "versions": json.dumps({**library_versions(), **self._user_code(config)}, sort_keys=True),
            "sweep": sweep,
            "trial": trial,
            "started": now,
            "heartbeat": now,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "status": "running",
        }
        with self.engine.begin() as conn:
            return int(conn.execute(self.runs_t.insert().values(**values)).inserted_primary_key[0])

    def _user_code(self, config: dict) -> dict:
        """A run of the user's own functions: each file's SHA-256 and a copy of it kept beside the
        checkpoints (``code/<sha>-<name>``, one copy per content), so "which version of my code gave
        0.80?" has an answer. Nothing for other runs."""
        import hashlib

        if config.get("engine") != "user" or not config.get("functions"):
            return {}
        out = []
        for file in config["functions"]:
            entry = {"file": str(file)}
            try:
                data = Path(file).read_bytes()[: 16 * 1024**2]
                digest = hashlib.sha256(data).hexdigest()
                entry["sha256"] = digest
                copy = self.checkpoints / "code" / f"{digest[:16]}-{Path(file).name}"
                if not copy.exists():
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    tmp = copy.with_name(copy.name + ".part")
                    tmp.write_bytes(data)
                    os.replace(tmp, copy)
                entry["copy"] = str(copy)
            except OSError as exc:
                entry["error"] = exc.strerror or str(exc)
            out.append(entry)
        return {"functions": out}

    def write_progress(self, run_id: int, epochs: list[EpochRow], health: list[dict] = (), **fields) -> None:
        """Epoch rows (inserted or updated), layer-health records (``HealthEvent.to_dict()``) and
        run fields, in one transaction."""
        t, e = self.runs_t, self.epochs_t
        with self.engine.begin() as conn:
            if health:
                conn.execute(self.health_t.insert(), health_rows(run_id, health))
            for row in epochs:
                values = {k: _clean(getattr(row, k)) for k in ("train_loss", "train_acc", "val_loss", "val_acc")}
                values = {k: v for k, v in values.items() if v is not None}
                done = conn.execute(
                    e.update().where(e.c.run_id == run_id, e.c.epoch == row.epoch).values(**values)
                ).rowcount
                if not done:
                    conn.execute(e.insert().values(run_id=run_id, epoch=row.epoch, **values))
            fields = {k: _clean(v) for k, v in fields.items()}
            conn.execute(t.update().where(t.c.id == run_id).values(heartbeat=time.time(), **fields))

    def edit(self, run_id: int, **fields) -> None:
        """Rename, tag or annotate (``name``, ``tags`` as a list, ``note``)."""
        bad = set(fields) - set(EDITABLE)
        if bad:
            raise ValueError(f"not editable: {', '.join(sorted(bad))}")
        if "tags" in fields:
            fields["tags"] = ",".join(t.strip().replace(",", " ") for t in fields["tags"] if t.strip())
        with self.engine.begin() as conn:
            conn.execute(self.runs_t.update().where(self.runs_t.c.id == run_id).values(**fields))

    def delete(self, run_ids: list[int], files: bool = True) -> int:
        """Delete runs (their epochs too) and, by default, their checkpoint files."""
        rows = self.runs(ids=run_ids)
        with self.engine.begin() as conn:
            conn.execute(self.epochs_t.delete().where(self.epochs_t.c.run_id.in_(run_ids)))
            conn.execute(self.health_t.delete().where(self.health_t.c.run_id.in_(run_ids)))
            conn.execute(self.runs_t.delete().where(self.runs_t.c.id.in_(run_ids)))
        if files:
            for r in rows:
                for p in (r.best_checkpoint, r.final_checkpoint):
                    if p and Path(p).parent == self.checkpoints:
                        Path(p).unlink(missing_ok=True)
        return len(rows)

    @_reading
    def checkpoint_cap(self) -> int | None:
        """The checkpoint cap: after each recorded run, only the ``N`` most recent untagged runs keep
        their checkpoint files (``prune_checkpoints``); None: every run keeps them (the default)."""
        with self.engine.connect() as conn:
            row = conn.execute(self.settings_t.select().where(self.settings_t.c.key == "checkpoint_cap")).first()
        value = json.loads(row.value) if row is not None else None
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

    def set_checkpoint_cap(self, keep: int | None) -> None:
        if keep is not None and keep < 0:
            raise ValueError("keep must be 0 or more")
        t = self.settings_t
        with self.engine.begin() as conn:
            conn.execute(t.delete().where(t.c.key == "checkpoint_cap"))
            if keep is not None:
                conn.execute(t.insert().values(key="checkpoint_cap", value=json.dumps(keep)))

    def apply_checkpoint_cap(self) -> int:
        """Prune to the cap, if one is set; returns the files deleted."""
        cap = self.checkpoint_cap()
        return 0 if cap is None else len(self.prune_checkpoints(cap)[0])

    def prune_checkpoints(self, keep: int, dry_run: bool = False) -> tuple[list[Path], int, int]:
        """The checkpoint files this store keeps (``checkpoints/``) of all but the ``keep`` most
        recent runs, never of a tagged run: deleted, and the rows say so (their curves, settings and
        numbers stay). ``dry_run``: only listed. Returns (files, bytes, runs touched)."""
        if keep < 0:
            raise ValueError("keep must be 0 or more")
        rows = sorted(self.runs(), key=lambda r: r.id, reverse=True)[keep:]
        files: list[Path] = []
        size = touched = 0
        for r in rows:
            if r.tags:
                continue
            mine = {}
            for field in ("best_checkpoint", "final_checkpoint"):
                path = Path(getattr(r, field)) if getattr(r, field) else None
                if path is not None and path.parent == self.checkpoints and path.is_file():
                    mine[field] = path
            if not mine:
                continue
            touched += 1
            for path in set(mine.values()):
                size += path.stat().st_size
                files.append(path)
                if not dry_run:
                    path.unlink(missing_ok=True)
            if not dry_run:
                with self.engine.begin() as conn:
                    conn.execute(self.runs_t.update().where(self.runs_t.c.id == r.id).values(**dict.fromkeys(mine, "")))
        return files, size, touched

    def reap(self) -> int:
        """Runs left ``running`` by a process of this host that no longer exists become ``interrupted``."""
        t = self.runs_t
        me = socket.gethostname()
        with self.engine.connect() as conn:
            rows = conn.execute(
                t.select()
                .with_only_columns(t.c.id, t.c.pid, t.c.heartbeat)
                .where(t.c.status == "running", t.c.host == me)
            ).all()
        dead = [(r.id, r.heartbeat) for r in rows if not pid_alive(r.pid)]
        with self.engine.begin() as conn:
            for run_id, heartbeat in dead:
                conn.execute(
                    t.update()
                    .where(t.c.id == run_id, t.c.status == "running")
                    .values(status="interrupted", ended=heartbeat, message="its process ended before the run did")
                )
        return len(dead)

    # -- reading ----------------------------------------------------------------------
    @_reading
    def runs(self, sweep: str | None = None, ids: list[int] | None = None) -> list[RunRow]:
        t = self.runs_t
        q = t.select().order_by(t.c.id.desc())
        if sweep is not None:
            q = q.where(t.c.sweep == sweep)
        if ids is not None:
            q = q.where(t.c.id.in_(ids))
        with self.engine.connect() as conn:
            return [RunRow.from_mapping(m) for m in conn.execute(q).mappings()]

    @_reading
    def run(self, run_id: int) -> RunRow | None:
        rows = self.runs(ids=[run_id])
        return rows[0] if rows else None

    @_reading
    def epochs(self, run_id: int) -> list[EpochRow]:
        e = self.epochs_t
        q = e.select().where(e.c.run_id == run_id).order_by(e.c.epoch)
        with self.engine.connect() as conn:
            return [
                EpochRow(m["epoch"], m["train_loss"], m["train_acc"], m["val_loss"], m["val_acc"])
                for m in conn.execute(q).mappings()
            ]

    @_reading
    def steps(self, run_id: int) -> list[tuple[float, float]]:
        t = self.runs_t
        with self.engine.connect() as conn:
            raw = conn.execute(t.select().with_only_columns(t.c.steps).where(t.c.id == run_id)).scalar()
        return [(s, v if v is not None else float("nan")) for s, v in json.loads(raw or "[]")]

    @_reading
    def health(self, run_id: int) -> list[dict]:
        """A run's layer-health records as the training run made them (``HealthEvent.to_dict()``)."""
        h = self.health_t
        q = h.select().where(h.c.run_id == run_id).order_by(h.c.step, h.c.layer)
        records: list[dict] = []
        with self.engine.connect() as conn:
            for m in conn.execute(q).mappings():
                if not records or records[-1]["global_step"] != m["step"]:
                    records.append({"global_step": m["step"], "epoch": m["epoch"], "layers": [], "warnings": []})
                layer = {"name": m["name"], **json.loads(m["detail"] or "{}")}
                for k in HEALTH_NUMBERS:
                    v = m[k]
                    layer[k] = v if v is not None or k in ("dead", "saturated") else math.nan
                records[-1]["layers"].append(layer)
                records[-1]["warnings"] += [w for w in (m["warnings"] or "").split("\n") if w]
        return records

    def checkpoint_path(self, run_id: int, kind: str) -> Path:
        return self.checkpoints / f"run-{run_id}-{kind}.pt"


def _check_sqlite_file(path: Path, where: str) -> None:
    """Refuse a damaged SQLite file or another application's database before anything is written
    to it (no table is created, the journal mode is left alone): opened read-only."""
    import sqlite3

    try:
        if not path.is_file() or path.stat().st_size == 0:
            return
    except OSError:
        return
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise StoreError(f"{where}: cannot open the run store ({exc})") from None
    try:
        verdict = con.execute("PRAGMA quick_check(1)").fetchall()
        tables = sorted(r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{where}: not a run store database ({exc})") from None
    finally:
        con.close()
    if verdict != [("ok",)]:
        lines = [ln for ln in str(verdict[0][0] if verdict and verdict[0] else "").splitlines() if ln.strip()]
        problem = next((ln for ln in lines if not ln.startswith("***")), "unknown damage")
        raise StoreError(
            f"{where}: the run store is damaged (SQLite: {_first_line(problem)[:120]}); nothing was written to it. "
            "Move it aside (a new one is made) or recover it with: sqlite3 FILE .recover"
        )
    if tables and VERSION_TABLE not in tables:
        shown = ", ".join(tables[:5]) + (" …" if len(tables) > 5 else "")
        raise StoreError(
            f"{where}: another application's database (tables {shown}); choose another file for the run store"
        )


def write_error(store, exc: BaseException) -> str:
    """One line for a failed write to ``store``: the database's own words (not SQLAlchemy's SQL,
    parameters and help link), naming the store."""
    orig = getattr(exc, "orig", None)
    msg = _first_line(str(orig) if orig is not None else (getattr(exc, "strerror", None) or str(exc)))
    return f"{msg[:200]} ({getattr(store, 'where', store)})"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
