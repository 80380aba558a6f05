"""A sweep's Optuna study: where it is stored (SQLite beside the run store, or PostgreSQL shared by
several machines), its sampler and pruner, and creating or joining one."""

from __future__ import annotations

import time

from engine.errors import UserError
from engine.i18n import _
from engine.runs.space import SweepSpec


# == storage =====================================================================================
def default_storage() -> str:
    """``sweeps.db`` beside the run store (a file: no server to start)."""
    from pathlib import Path

    from engine.runs.store import data_dir, default_location

    loc = default_location()
    folder = data_dir() if "://" in loc else Path(loc).expanduser().resolve().parent
    path = folder / "sweeps.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return "sqlite:///" + str(path)


def _storage(url: str):
    import optuna
    import sqlalchemy as sa

    from engine.runs.store import database_url, describe_target

    url = database_url(url)
    kwargs = {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {"connect_args": {"connect_timeout": 5}}
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)
    except (sa.exc.OperationalError, sa.exc.DatabaseError, sa.exc.ArgumentError, ImportError) as exc:
        msg = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise UserError(
            _("--storage {target}: cannot use it ({value})").format(
                target=describe_target(url), value=msg[0] if msg else "unknown error"
            )
        ) from None
    except (ValueError, RuntimeError) as exc:
        raise UserError(f"--storage {describe_target(url)}: {str(exc).splitlines()[0]}") from None


def _pruner(kind: str, epochs: int):
    import optuna

    if kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=max(1, epochs // 5))
    if kind == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=max(1, epochs // 8), reduction_factor=3)
    return optuna.pruners.NopPruner()


def _sampler(kind: str, seed: int = 0):
    import optuna

    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)  # grid trials are all enqueued: the sampler is idle


def open_study(storage: str, name: str, spec: SweepSpec | None = None):
    """Create the study (with ``spec``) or join an existing one (``spec`` None: read from it)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    st = _storage(storage)
    if spec is None:
        try:
            study = optuna.load_study(study_name=name, storage=st)
        except KeyError:
            raise UserError(_("--study {name}: no such study in this storage").format(name=name)) from None
        raw = study.user_attrs.get("spec")
        if not raw:
            raise UserError(_("--study {name}: not a Backprop Studio sweep").format(name=name))
        spec = SweepSpec.from_json(raw)
        study.sampler = _sampler(spec.search)
        study.pruner = _pruner(spec.prune, spec.epochs())
        return study, spec
    try:
        existing = optuna.load_study(study_name=name, storage=st)
    except KeyError:
        existing = None
    if existing is not None:
        raise UserError(
            _("--study {name}: already exists; join it with sweep-worker or choose another name").format(name=name)
        )
    study = optuna.create_study(
        storage=st,
        study_name=name,
        direction="maximize",
        sampler=_sampler(spec.search),
        pruner=_pruner(spec.prune, spec.epochs()),
    )
    study.set_user_attr("spec", spec.to_json())
    study.set_user_attr("created", time.time())
    if spec.search == "grid":
        for params in spec.grid():
            for seed in spec.seeds:
                study.enqueue_trial(params, user_attrs={"seed": seed}, skip_if_exists=False)
    return study, spec
