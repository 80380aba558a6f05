"""What is open — dataset, model, its file, unsaved state, the run's name — with change signals,
and the one open/save path per kind. Menus, Open Recent, drops and start-up all call these.

Views receive the session and connect to its signals; nothing here shows a dialog (the window
asks the user, then calls the session), so the session can be driven by tests directly.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from engine.checkpoint import Model, dataset_record, load_checkpoint, save_checkpoint
from engine.config import TrainConfig
from engine.data.dataset import Dataset
from engine.data.layouts import folder_kind, is_builtin
from engine.data.layouts import open_dataset as engine_open_dataset
from engine.errors import UserError
from engine.model.build import build_network
from engine.predict import classify_files, image_files, labelled_files, predict_arrays
from engine.training.history import History
from engine.training.launch import RunPlan
from gui import settings
from gui.i18n import arg
from gui.tasks import Tasks, describe_error

CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt", ".tar")


def autosave_path() -> Path:
    """Where the best-validation weights of a run are kept: the OS's data folder for the app
    (beside the run store), not the settings folder."""
    from engine.runs.store import data_dir

    return data_dir() / "autosave-best-val.pt"


@dataclasses.dataclass
class Classified:
    """The result of classifying files: predictions, and the labels when a labelled folder was given."""

    results: list
    model: Model
    labelled_root: str | None = None
    y_true: np.ndarray | None = None
    y_pred: np.ndarray | None = None


class OpeningCancelled(UserError):
    """The user pressed Cancel while a dataset was being opened."""

    def __init__(self, path):
        super().__init__(f"{path}: opening cancelled")


class Session(QObject):
    dataset_changed = Signal(object)  # Dataset
    model_changed = Signal(object)  # Model or None (a new model, not new weights during a run)
    state_changed = Signal()  # file path, unsaved state or name changed
    evaluated = Signal(object)  # an Evaluation
    classified = Signal(object)  # Classified
    error = Signal(str, str)  # title, message
    message = Signal(str, int)  # status text, milliseconds
    opening = Signal(bool)  # a dataset is being opened (True) or no longer (False): Cancel shows

    def __init__(self, tasks: Tasks, parent=None):
        super().__init__(parent)
        self.tasks = tasks
        self.dataset: Dataset | None = None
        self.model: Model | None = None
        self.checkpoint_path: str | None = None
        self.dirty = False
        # The run store's copy of the open model's weights (its run's final checkpoint), when it
        # has one: an unsaved model that is kept there is not lost by a new run.
        self.kept_copy: str | None = None
        self.training = False  # set by the run controller; some actions wait for the run
        # The last run's best-validation weights (epoch, weights), and which set the model holds now:
        # "final" (as trained) or "best" (the final ones kept aside until switched back).
        self.best: tuple[int, list] | None = None
        self.weights_choice = "final"
        self._final_weights: list | None = None
        self.model_changed.connect(lambda _m: self.forget_best())

    # == best or final weights ===============================================================
    def keep_best(self, epoch: int | None, weights) -> None:
        """A run ended: its best-validation weights, to switch to (None: it had none)."""
        self.forget_best()
        if epoch is not None and weights is not None and self.model is not None:
            self.best = (int(epoch), [w.copy() for w in weights])

    def forget_best(self) -> None:
        self.best, self.weights_choice, self._final_weights = None, "final", None

    def use_weights(self, which: str) -> bool:
        """Give the open model its ``best``-validation or its ``final`` weights (Predictions,
        Classify, Explain and Save then use them); False when there is nothing to switch."""
        if which == self.weights_choice or self.model is None or self.best is None or self.training:
            return False
        net = self.model.network
        if which == "best":
            self._final_weights = net.weights()
            net.set_weights(self.best[1])
        else:
            net.set_weights(self._final_weights)
            self._final_weights = None
        self.weights_choice = which
        self.dirty = True
        self.state_changed.emit()
        return True

    # == datasets ===========================================================================
    def open_dataset(self, path: str, split_seed: int = 0, val_split: float = 0.1) -> None:
        """The one way a dataset is opened (menu, recent, drop, start-up)."""
        if self.training:
            self.error.emit(self.tr("Open Dataset"), self.tr("Stop the training run before opening another dataset."))
            return
        tasks = self.tasks
        name = "the built-in letters" if is_builtin(path) else os.path.basename(str(path).rstrip("/")) or str(path)
        cancel = self._open_cancel = threading.Event()

        def progress(done, total, message):
            if tasks.is_cancelled():
                raise UserError(f"{path}: opening cancelled because the window closed")
            if cancel.is_set():
                raise OpeningCancelled(path)
            tasks.report(done, total, message)

        def load():
            return engine_open_dataset(path, progress=progress, split_seed=split_seed, val_split=val_split)

        def done(ds):
            self._opened(cancel)
            if cancel.is_set():  # cancelled after the last image: the user said no, keep what was open
                failed(OpeningCancelled(path))
                return
            self.set_dataset(ds)

        def failed(exc):
            self._opened(cancel)
            if isinstance(exc, OpeningCancelled):
                self.message.emit(arg(self.tr("Opening %1 cancelled: the dataset open before is kept"), name), 8000)
            else:
                self.error.emit(self.tr("Open Dataset"), describe_error(exc))
            if self.dataset is None and not is_builtin(path) and not tasks.is_cancelled():
                self.open_dataset("builtin", split_seed, val_split)

        self.opening.emit(True)
        tasks.run(load, on_done=done, label=f"Opening {name}", on_error=failed)

    _open_cancel: threading.Event | None = None

    def cancel_open(self) -> None:
        """Stop opening the dataset being opened (at its next progress report, every 64 images)."""
        if self._open_cancel is not None:
            self._open_cancel.set()

    def _opened(self, cancel: threading.Event) -> None:
        if self._open_cancel is cancel:
            self._open_cancel = None
            self.opening.emit(False)

    def set_dataset(self, ds: Dataset) -> None:
        self.dataset = ds
        settings.write("last_dataset", ds.source)
        if ds.source != "builtin":
            settings.add_recent("recent_datasets", ds.source)
        how = (
            self.tr("fixed split")
            if ds.fixed_split
            else arg(self.tr("split seed %1, val %2"), ds.split_seed, ds.val_split)
        )
        msg = arg(
            self.tr("Opened %1: %2/%3/%4 train/val/test (%5), %6 classes, %7×%8"),
            ds.name,
            len(ds.train),
            len(ds.val),
            len(ds.test),
            how,
            len(ds.classes),
            *ds.norm_size,
        )
        if ds.skipped:
            msg += arg(self.tr(" — skipped %1 unreadable image(s): %2"), len(ds.skipped), ds.skipped[0])
        self.message.emit(msg, 10000)
        self.dataset_changed.emit(ds)

    def set_split(self, ds: Dataset) -> Dataset:
        """Make ``ds`` (the open dataset, re-split) current; the dataset views follow."""
        if ds is not self.dataset:
            self.dataset = ds
            self.dataset_changed.emit(ds)
        return ds

    def dataset_for(self, model: Model) -> Dataset:
        """The open dataset split as ``model`` was trained on it (its test images never trained it)."""
        rec = model.dataset
        seed = int(rec.get("split_seed", model.config.split_seed))
        val = float(rec.get("val_split", model.config.val_split))
        return self.set_split(self.dataset.with_split(seed, val))

    def model_fits_dataset(self, model: Model) -> str:
        """ "" if ``model`` can run on the open dataset, else the reason."""
        ds = self.dataset
        if ds is None:
            return "open a dataset first"
        if len(model.classes) != len(ds.classes) or tuple(model.norm_size) != tuple(ds.norm_size):
            return (
                f"the model has {len(model.classes)} classes and {model.norm_size[0]}×{model.norm_size[1]} "
                f"inputs; {ds.name} has {len(ds.classes)} classes and {ds.norm_size[0]}×{ds.norm_size[1]}"
            )
        return ""

    # == models =============================================================================
    def open_checkpoint(self, path: str, device: str = "cpu", then=None) -> None:
        """The one way a checkpoint is opened (menu, recent, drop, recovery). ``then`` runs
        only after it opened (a drop of a checkpoint with images classifies them then)."""
        if self.training:
            self.error.emit(self.tr("Open Checkpoint"), self.tr("Stop the training run before opening a checkpoint."))
            return

        def opened(model):
            self.set_model(model, path)
            if then is not None:
                then()

        self.tasks.run(load_checkpoint, path, device, on_done=opened, label=f"Opening {os.path.basename(path)}")

    def set_model(self, model: Model, path: str | None) -> None:
        is_autosave = path is not None and Path(path) == autosave_path()
        self.checkpoint_path = None if is_autosave else path
        self.kept_copy = None
        self.dirty = self.checkpoint_path is None
        if not model.name:
            model.name = Path(path).stem if path and not is_autosave else model.config.auto_name()
        self.model = model
        if self.dataset is not None and not self.model_fits_dataset(model):
            self.dataset_for(model)
        if self.checkpoint_path:
            settings.add_recent("recent_checkpoints", path)
            self.message.emit(arg(self.tr("Opened checkpoint %1"), path), 8000)
        self.model_changed.emit(model)
        self.state_changed.emit()

    def new_model(self, config: TrainConfig, name: str = "") -> Model:
        """Fresh weights from ``config`` on the open dataset (Reset weights): epoch 0, unsaved."""
        ds = self.set_split(self.dataset.with_split(config.split_seed, config.val_split))
        network = build_network(config, ds.in_features, len(ds.classes))
        model = Model(
            network,
            list(ds.classes),
            ds.norm_size,
            config,
            History(),
            dataset_name=ds.name,
            dataset=dataset_record(ds),
            name=name or config.auto_name(),
        )
        self.checkpoint_path = None
        self.kept_copy = None
        self.dirty = True
        self.model = model
        self.model_changed.emit(model)
        self.state_changed.emit()
        return model

    def training_plan(self, config: TrainConfig, name: str, resume: bool, epochs: int | None = None) -> RunPlan:
        """The (prepared) plan of a run of ``config`` on the open dataset: a new model, or the open
        one continued (``resume``) to ``epochs``. The plan's model becomes the open model."""
        if resume:
            model = self.model
            problem = self.model_fits_dataset(model)
            if problem:
                raise UserError(f"Cannot resume: {problem}.")
            config = TrainConfig.from_dict({**model.config.to_dict(), "epochs": epochs or model.config.epochs})
            plan = RunPlan(config, self.dataset_for(model), model.network, model.history).prepared()
            model.config = plan.config
            if name:
                model.name = name
        else:
            ds = self.set_split(self.dataset.with_split(config.split_seed, config.val_split))
            plan = RunPlan(config, ds).prepared()
            model = Model.for_run(plan, name)
            self.checkpoint_path = None
            self.model = model
            self.model_changed.emit(model)
        self.dirty = True
        self.kept_copy = None
        self.state_changed.emit()
        return plan

    def rename(self, name: str) -> None:
        if self.model is not None and name and name != self.model.name:
            self.model.name = name
            self.dirty = True
            self.state_changed.emit()

    def save_to(self, path: str) -> bool:
        """Save synchronously: a checkpoint of this size writes in milliseconds, and callers
        (quit, close) must know it succeeded before going on."""
        if self.model is None or self.training:
            return False
        try:
            save_checkpoint(path, self.model)
        except UserError as exc:
            self.error.emit(self.tr("Save Checkpoint"), str(exc))
            return False
        self.checkpoint_path = path
        self.dirty = False
        settings.add_recent("recent_checkpoints", path)
        settings.write("last_save_dir", str(Path(path).parent))
        self.message.emit(arg(self.tr("Saved %1"), path), 6000)
        self.state_changed.emit()
        return True

    def default_save_path(self) -> str:
        """The last folder a model was saved to (else the user's documents), and the run's name."""
        from PySide6.QtCore import QStandardPaths

        folder = settings.read("last_save_dir")
        if not folder or not os.path.isdir(folder):
            folder = QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation) or str(Path.home())
        name = self.model.name if self.model is not None and self.model.name else "model"
        safe = "".join(ch if ch.isalnum() or ch in "-_.,+ " else "_" for ch in name).strip(" .") or "model"
        return os.path.join(folder, safe[:80] + ".pt")

    # == evaluation and classification ======================================================
    def evaluate(self, split: str) -> None:
        from engine.model.evaluation import Evaluation

        if self.model is None or self.dataset is None or self.training:
            return
        problem = self.model_fits_dataset(self.model)
        if problem:
            self.error.emit(self.tr("Evaluate"), arg(self.tr("Cannot evaluate on %1: %2."), self.dataset.name, problem))
            return
        s = self.dataset.split(split)
        if len(s) == 0:
            self.message.emit(arg(self.tr("%1 has no %2 images."), self.dataset.name, split), 8000)
            self.evaluated.emit(Evaluation.empty(split, self.dataset.classes))
            return
        model, classes = self.model, self.dataset.classes
        self.tasks.run(
            predict_arrays,
            model,
            s.x,
            on_done=lambda probs: self.evaluated.emit(Evaluation(split, s.x, s.y, probs, classes, s.names)),
            label=f"Evaluating on {split}",
        )

    def expand_images(self, paths: list[str]) -> tuple[list[str], list[int], str | None]:
        """Files to classify from files and folders; labels when a folder's subfolders are classes."""
        files: list[str] = []
        labels: list[int] = []
        labelled_root = None
        for p in paths:
            if os.path.isdir(p):
                lab = labelled_files(p, self.model.classes) if self.model is not None else None
                if lab is not None and not files:
                    labelled_root = p
                    files += [f for f, _ in lab]
                    labels += [y for _, y in lab]
                else:
                    files += image_files(p)
            else:
                files.append(p)
        if labelled_root is not None and len(labels) != len(files):
            labelled_root, labels = None, []
        return files, labels, labelled_root

    def classify_paths(self, paths: list[str]) -> None:
        """The one way images are classified (menu, drop, Add images). Folders are expanded;
        labelled folders are scored."""
        if self.model is None:
            self.error.emit(
                self.tr("Classify Images"), self.tr("Open a checkpoint or train a model first, then drop images again.")
            )
            return
        if self.training:
            self.error.emit(
                self.tr("Classify Images"), self.tr("Classify once the training run has finished or been stopped.")
            )
            return
        files, labels, labelled_root = self.expand_images(paths)
        if not files:
            self.error.emit(self.tr("Classify Images"), arg(self.tr("No image files found in %1."), ", ".join(paths)))
            return
        model, tasks, doing = self.model, self.tasks, self.tr("classifying")

        def work():
            return classify_files(
                model,
                files,
                progress=lambda d, t: tasks.report(d, t, doing),
                cancelled=tasks.is_cancelled,
            )

        def done(results):
            out = Classified(results, model)
            if labelled_root is not None and len(labels) == len(results):
                good = [i for i, r in enumerate(results) if not r.error]
                out.labelled_root = labelled_root
                out.y_true = np.asarray([labels[i] for i in good], np.int64)
                out.y_pred = np.asarray([model.classes.index(results[i].label) for i in good], np.int64)
            n_err = sum(bool(r.error) for r in results)
            text = arg(self.tr("Classified %1 image(s)"), len(results) - n_err)
            if n_err:
                text += arg(self.tr(", %1 could not be read"), n_err)
            self.message.emit(text, 8000)
            self.classified.emit(out)

        tasks.run(work, on_done=done, label=arg(self.tr("Classifying %1 image(s)"), len(files)))

    def route_paths(self, paths: list[str], device: str = "cpu") -> None:
        """Dropped paths: a checkpoint opens, a dataset folder opens, images and image folders
        are classified (after the checkpoint, when both were dropped)."""
        ckpts = [p for p in paths if p.lower().endswith(CHECKPOINT_SUFFIXES) and os.path.isfile(p)]
        rest = [p for p in paths if p not in ckpts]
        datasets = []
        for p in rest:
            if os.path.isdir(p):
                kind = folder_kind(p)
                labelled = self.model is not None and labelled_files(p, self.model.classes) is not None
                if kind == "dataset" or (kind == "classes" and not labelled and not ckpts):
                    datasets.append(p)
        images = [p for p in rest if p not in datasets]
        if datasets and not ckpts:
            self.open_dataset(datasets[0], *self._split_settings())
        if ckpts:
            self.open_checkpoint(ckpts[0], device, then=(lambda: self.classify_paths(images)) if images else None)
        elif images:
            self.classify_paths(images)

    def _split_settings(self) -> tuple[int, float]:
        c = TrainConfig.from_dict(settings.read("hyperparameters"))
        return c.split_seed, c.val_split
