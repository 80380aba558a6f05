"""The main window: hyperparameters and run control on the left, views in tabs, menus, drag and drop.

One open path per kind — :meth:`open_checkpoint`, :meth:`open_dataset`,
:meth:`classify_paths` — serves the menus, Open Recent and drops alike. All
training, decoding, classification and checkpoint I/O run in workers.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.checkpoint import Model, dataset_record, load_checkpoint, save_checkpoint
from engine.config import TrainConfig
from engine.data.dataset import Dataset
from engine.data.images import is_image_file
from engine.data.layouts import open_dataset as engine_open_dataset
from engine.errors import UserError
from engine.inspect.gradcheck import run_all as run_gradcheck
from engine.predict import classify_files, predict_arrays
from engine.training.run import (
    EpochEvent,
    EvalEvent,
    FailedEvent,
    FinishedEvent,
    TrainingRun,
    WarningEvent,
    format_duration,
)
from gui import settings
from gui.hyperparameters import HyperparameterPanel
from gui.panels import ClassifyPanel, DatasetPanel, GradcheckDialog, WeightsPanel
from gui.plots import TrainingPlots
from gui.predictions import Evaluation, PredictionBrowser
from gui.style import retheme
from gui.worker import Update, start_task, start_training

CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt", ".tar")
CHECKPOINT_FILTER = "Checkpoints (*.pt *.pth *.ckpt);;All files (*)"
SHORTCUTS = [
    ("Ctrl+R / F5", "Start training"),
    ("Space", "Pause / resume training"),
    ("Esc", "Stop training"),
    ("Ctrl+Shift+R", "Resume training the open model"),
    ("Ctrl+O", "Open checkpoint"),
    ("Ctrl+S", "Save checkpoint"),
    ("Ctrl+Shift+S", "Save checkpoint as"),
    ("Ctrl+D", "Open dataset"),
    ("Ctrl+I", "Classify images"),
    ("Ctrl+E", "Evaluate the model on the chosen split"),
    ("Ctrl+L", "Toggle log-scale loss"),
    ("Ctrl+G", "Gradient check"),
    ("Ctrl+1 … Ctrl+5", "Switch view"),
    ("F1", "This list"),
    ("Ctrl+Q", "Quit"),
]


def autosave_path() -> Path:
    """Where the best-validation weights of a run are kept, beside the settings file."""
    return settings.settings_dir() / "autosave-best-val.pt"


class ProgressRelay(QObject):
    """Lets a worker thread report progress; the signal is queued to the GUI thread."""

    progress = Signal(int, int, str)


class MainWindow(QMainWindow):
    training_finished = Signal(object)  # the final FinishedEvent or FailedEvent
    dataset_loaded = Signal(object)
    model_changed = Signal()
    classification_done = Signal(list)

    def __init__(self, dataset_path: str | None = None, load_default: bool = True):
        super().__init__()
        self.dataset: Dataset | None = None
        self.model: Model | None = None
        self.checkpoint_path: str | None = None
        self.dirty = False
        self.run: TrainingRun | None = None
        self.worker = None
        self._tasks: list = []
        self._cancel = threading.Event()  # set on close: long background tasks give up
        self._last_steps = None
        self.setAcceptDrops(True)
        self.resize(1400, 880)

        saved = TrainConfig.from_dict(settings.read("hyperparameters"))
        try:
            saved = saved.validate()
        except UserError:
            saved = TrainConfig()
        self.hyper = HyperparameterPanel(saved)
        self.hyper.changed.connect(self._on_hyper_changed)

        icons = self.style()
        self.start_button = QPushButton(icons.standardIcon(QStyle.SP_MediaPlay), "Train")
        self.start_button.setToolTip("Start training a new model (Ctrl+R, F5)")
        self.pause_button = QPushButton(icons.standardIcon(QStyle.SP_MediaPause), "Pause")
        self.pause_button.setToolTip("Pause or resume (Space)")
        self.stop_button = QPushButton(icons.standardIcon(QStyle.SP_MediaStop), "Stop")
        self.stop_button.setToolTip("Stop after the current step (Esc)")
        self.start_button.clicked.connect(lambda: self.start_training())
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop_training)
        self.progress = QProgressBar()
        self.progress.setFormat("%p%")
        self.progress_label = QLabel("Ready.")
        self.progress_label.setWordWrap(True)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        left = QWidget()
        ll = QVBoxLayout(left)
        title = QLabel("<b>Hyperparameters</b>")
        ll.addWidget(title)
        ll.addWidget(self.hyper)
        ll.addSpacing(8)
        ll.addWidget(QLabel("<b>Run</b>"))
        ll.addLayout(buttons)
        ll.addWidget(self.progress)
        ll.addWidget(self.progress_label)
        ll.addWidget(self.result_label)
        ll.addStretch()
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(330)

        self.plots = TrainingPlots()
        self.plots.log_box.setChecked(settings.read("log_loss"))
        self.plots.keep_box.setChecked(settings.read("keep_previous_runs"))
        self.plots.log_box.toggled.connect(lambda on: settings.write("log_loss", on))
        self.plots.keep_box.toggled.connect(lambda on: settings.write("keep_previous_runs", on))
        self.browser = PredictionBrowser()
        self.browser.evaluate_requested.connect(self.evaluate)
        self.classify_panel = ClassifyPanel()
        self.dataset_panel = DatasetPanel()
        self.weights_panel = WeightsPanel()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.plots, "Training")
        self.tabs.addTab(self.browser, "Predictions")
        self.tabs.addTab(self.classify_panel, "Classify")
        self.tabs.addTab(self.dataset_panel, "Dataset")
        self.tabs.addTab(self.weights_panel, "Weights")
        self._first_layer = None
        self.tabs.currentChanged.connect(self._on_tab_changed)

        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([360, 1040])
        self.setCentralWidget(self.splitter)

        self.dataset_status = QLabel("No dataset")
        self.engine_status = QLabel()
        self.task_progress = QProgressBar()
        self.task_progress.setMaximumWidth(220)
        self.task_progress.setVisible(False)
        sb = self.statusBar()
        sb.addPermanentWidget(self.task_progress)
        sb.addPermanentWidget(self.dataset_status)
        sb.addPermanentWidget(self.engine_status)
        self.relay = ProgressRelay(self)
        self.relay.progress.connect(self._on_task_progress)

        self._build_menus()
        self._restore_window()
        self._update_controls()
        self._on_hyper_changed()
        if autosave_path().exists():
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(autosave_path().stat().st_mtime))
            sb.showMessage(
                f"An autosaved best-validation model from {when} can be opened: File ▸ Recover Autosaved Model", 10000
            )
        if load_default:
            QTimer.singleShot(0, lambda: self.open_dataset(dataset_path or settings.read("last_dataset")))

    def _on_tab_changed(self, _index: int):
        if self.tabs.currentWidget() is self.weights_panel and self._first_layer is not None and self.dataset:
            self.weights_panel.set_weights(self._first_layer, self.dataset.norm_size)

    # == menus ==============================================================================
    def _action(self, menu, text, slot, shortcut=None, tip=""):
        act = QAction(text, self)
        if shortcut:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            act.setShortcuts([QKeySequence(k) for k in keys])
        act.setStatusTip(tip)
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def _build_menus(self):
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self.act_open_ckpt = self._action(f, "&Open Checkpoint…", self._ask_open_checkpoint, QKeySequence.Open)
        self.recent_menu = f.addMenu("Open &Recent")
        self.act_save = self._action(f, "&Save Checkpoint", self.save, QKeySequence.Save)
        self.act_save_as = self._action(f, "Save Checkpoint &As…", self.save_as, "Ctrl+Shift+S")
        self.act_recover = self._action(
            f, "Recover Autosaved Model", lambda: self.open_checkpoint(str(autosave_path()))
        )
        f.addSeparator()
        self.act_open_data = self._action(f, "Open &Dataset…", self._ask_open_dataset, "Ctrl+D")
        self._action(f, "Use &Built-in Letters", lambda: self.open_dataset("builtin"))
        f.addSeparator()
        self.act_classify = self._action(f, "&Classify Images…", self._ask_classify, "Ctrl+I")
        f.addSeparator()
        self._action(f, "&Quit", self.close, QKeySequence.Quit)
        t = mb.addMenu("&Train")
        self.act_start = self._action(t, "&Start Training", lambda: self.start_training(), ["Ctrl+R", "F5"])
        self.act_resume_training = self._action(
            t,
            "&Resume Training",
            lambda: self.start_training(resume=True),
            "Ctrl+Shift+R",
            "Continue training the open model",
        )
        self.act_pause = self._action(t, "&Pause / Resume", self.toggle_pause, "Space")
        self.act_stop = self._action(t, "S&top", self.stop_training, "Esc")
        t.addSeparator()
        self.act_evaluate = self._action(
            t, "&Evaluate Model", lambda: self.evaluate(self.browser.split.currentText()), "Ctrl+E"
        )
        v = mb.addMenu("&View")
        self.act_log = self._action(
            v, "&Log-scale Loss", lambda: self.plots.set_log_loss(not self.plots.log_box.isChecked()), "Ctrl+L"
        )
        self._action(v, "&Clear Previous Runs", self.plots.clear_previous)
        v.addSeparator()
        for i, name in enumerate(["Training", "Predictions", "Classify", "Dataset", "Weights"]):
            self._action(v, name, lambda _=False, i=i: self.tabs.setCurrentIndex(i), f"Ctrl+{i + 1}")
        tools = mb.addMenu("T&ools")
        self._action(tools, "&Gradient Check", self.gradient_check, "Ctrl+G")
        h = mb.addMenu("&Help")
        self._action(h, "&Keyboard Shortcuts", self.show_shortcuts, "F1")
        self._action(h, "&About Backprop Studio", self.show_about)
        self._refresh_recent()

    def _refresh_recent(self):
        self.recent_menu.clear()
        items = settings.read("recent_checkpoints")
        for p in items:
            self.recent_menu.addAction(p, lambda p=p: self.open_checkpoint(p))
        datasets = settings.read("recent_datasets")
        if datasets:
            self.recent_menu.addSeparator()
            for p in datasets:
                self.recent_menu.addAction(f"Dataset: {p}", lambda p=p: self.open_dataset(p))
        self.recent_menu.setEnabled(bool(items or datasets))
        self.act_recover.setEnabled(autosave_path().exists())

    # == state ==============================================================================
    @property
    def training(self) -> bool:
        return self.run is not None

    def _update_controls(self):
        running = self.training
        self.hyper.set_locked(running)
        self.start_button.setEnabled(not running and self.dataset is not None)
        self.act_start.setEnabled(not running and self.dataset is not None)
        self.act_resume_training.setEnabled(not running and self.model is not None and self.dataset is not None)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.act_pause.setEnabled(running)
        self.act_stop.setEnabled(running)
        has_model = self.model is not None
        self.act_save.setEnabled(has_model and not running)
        self.act_save_as.setEnabled(has_model and not running)
        self.act_classify.setEnabled(has_model)
        self.act_evaluate.setEnabled(has_model and self.dataset is not None and not running)
        self.browser.eval_button.setEnabled(has_model and self.dataset is not None and not running)
        self.act_open_data.setEnabled(not running)
        self.act_open_ckpt.setEnabled(not running)
        paused = running and self.run.paused
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_button.setIcon(self.style().standardIcon(QStyle.SP_MediaPlay if paused else QStyle.SP_MediaPause))
        self._update_title()

    def _update_title(self):
        parts = ["Backprop Studio"]
        if self.dataset:
            parts.append(self.dataset.name)
        if self.checkpoint_path:
            parts.append(os.path.basename(self.checkpoint_path) + ("*" if self.dirty else ""))
        elif self.model is not None:
            parts.append("unsaved model*")
        self.setWindowTitle(" — ".join(parts))

    def _on_hyper_changed(self):
        c = self.hyper.config()
        if c is not None:
            settings.write("hyperparameters", c.to_dict())
            self.engine_status.setText(f"engine: {c.engine} · device: {c.device}")
        can_start = not self.training and self.dataset is not None and c is not None
        self.start_button.setEnabled(can_start)
        self.start_button.setToolTip(
            "Start training a new model (Ctrl+R, F5)" if c is not None else "Fix the highlighted hyperparameters first"
        )

    def error(self, title: str, message: str) -> None:
        """Errors for the user: a dialog (not blocking the event loop) and the status bar."""
        self.statusBar().showMessage(message, 15000)
        box = QMessageBox(QMessageBox.Warning, title, message, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()
        self._last_error = message

    def _run_task(self, fn, *args, on_done, label: str, on_error=None):
        worker = start_task(fn, *args)
        self._tasks.append(worker)
        self.task_progress.setVisible(True)
        self.task_progress.setRange(0, 0)
        self.task_progress.setFormat(label)
        self.statusBar().showMessage(label + "…")

        def failed(exc):
            if on_error:
                on_error(exc)
            elif isinstance(exc, UserError):
                self.error(label, str(exc))
            else:
                self.error(label, f"{type(exc).__name__}: {exc}")

        def finished():
            if worker in self._tasks:
                self._tasks.remove(worker)
            if not self._tasks:
                self.task_progress.setVisible(False)
            if self.statusBar().currentMessage() == label + "…":
                self.statusBar().clearMessage()

        worker.returned.connect(on_done)
        worker.errored.connect(failed)
        worker.finished.connect(finished)
        worker.start()
        return worker

    def _on_task_progress(self, done: int, total: int, message: str):
        self.task_progress.setVisible(True)
        self.task_progress.setRange(0, max(total, 1))
        self.task_progress.setValue(done)
        self.task_progress.setFormat(f"{message[:30]} %p%")

    # == datasets ===========================================================================
    def _ask_open_dataset(self):
        path = QFileDialog.getExistingDirectory(self, "Open Dataset Folder", settings.read("last_dir"))
        if path:
            self.open_dataset(path)

    def open_dataset(self, path: str):
        """The one way a dataset is opened (menu, recent, drop, start-up)."""
        if self.training:
            self.error("Open Dataset", "Stop the training run before opening another dataset.")
            return
        relay, cancel = self.relay, self._cancel

        def progress(done, total, message):
            if cancel.is_set():
                raise UserError(f"{path}: opening cancelled")
            relay.progress.emit(done, total, message)

        config = self.hyper.config()
        split_seed, val_split = (config.split_seed, config.val_split) if config else (0, 0.1)

        def load():
            return engine_open_dataset(path, progress=progress, split_seed=split_seed, val_split=val_split)

        def failed(exc):
            self.error("Open Dataset", str(exc) if isinstance(exc, UserError) else f"{path}: {exc}")
            if self.dataset is None and path != "builtin":
                self.open_dataset("builtin")

        self._run_task(load, on_done=self._set_dataset, label=f"Opening {os.path.basename(str(path))}", on_error=failed)

    def _set_dataset(self, ds: Dataset):
        self.dataset = ds
        self.dataset_status.setText(
            f"{ds.name}: {len(ds.train)}/{len(ds.val)}/{len(ds.test)} "
            f"train/val/test · {len(ds.classes)} classes · "
            f"{ds.norm_size[0]}×{ds.norm_size[1]}"
        )
        self.hyper.set_shape(ds.in_features, len(ds.classes))
        self.dataset_panel.set_dataset(ds)
        settings.write("last_dataset", ds.source)
        if ds.source != "builtin":
            settings.add_recent("recent_datasets", ds.source)
            settings.write("last_dir", str(Path(ds.source).parent))
            self._refresh_recent()
        msg = f"Opened {ds.describe()}"
        if ds.skipped:
            msg += f" — skipped {len(ds.skipped)} unreadable image(s): {ds.skipped[0]}"
        self.statusBar().showMessage(msg, 10000)
        self._update_controls()
        self._on_hyper_changed()
        self.dataset_loaded.emit(ds)

    def _set_split(self, ds: Dataset) -> Dataset:
        """Make ``ds`` (the open dataset, re-split) current; the dataset views follow."""
        if ds is not self.dataset:
            self.dataset = ds
            self.dataset_panel.set_dataset(ds)
        return ds

    def _dataset_for(self, model: Model) -> Dataset:
        """The open dataset split as ``model`` was trained on it (its test images never trained it)."""
        rec = model.dataset
        seed = int(rec.get("split_seed", model.config.split_seed))
        val = float(rec.get("val_split", model.config.val_split))
        return self._set_split(self.dataset.with_split(seed, val))

    # == training ===========================================================================
    def _model_fits_dataset(self, model: Model) -> str:
        ds = self.dataset
        if ds is None:
            return "open a dataset first"
        if len(model.classes) != len(ds.classes) or tuple(model.norm_size) != tuple(ds.norm_size):
            return (
                f"the model has {len(model.classes)} classes and {model.norm_size[0]}×{model.norm_size[1]} "
                f"inputs; {ds.name} has {len(ds.classes)} classes and {ds.norm_size[0]}×{ds.norm_size[1]}"
            )
        return ""

    def start_training(self, resume: bool = False):
        if self.training or self.dataset is None:
            return
        config = self.hyper.config()
        if config is None:
            self.error("Start Training", "Some hyperparameters are invalid: " + self.hyper.error_label.text())
            return
        if not resume and self.dirty and not self._confirm_discard("Start a new run"):
            return
        ds = self.dataset
        try:
            if resume:
                if self.model is None:
                    return
                problem = self._model_fits_dataset(self.model)
                if problem:
                    raise UserError(f"Cannot resume: {problem}.")
                h = self.model.history
                reached = h.position.epoch if h.position else h.epochs_completed + 1
                config = TrainConfig.from_dict({**self.model.config.to_dict(), "epochs": max(config.epochs, reached)})
                self.hyper.set_config(config)
                ds = self._dataset_for(self.model)
                run = TrainingRun(config, ds, self.model.network, self.model.history)
            else:
                ds = self._set_split(ds.with_split(config.split_seed, config.val_split))
                run = TrainingRun(config, ds)
        except UserError as exc:
            self.error("Start Training", str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - e.g. a device that fails to initialise
            self.error("Start Training", f"Could not start: {type(exc).__name__}: {exc}")
            return
        self.model = Model(
            run.network,
            list(ds.classes),
            ds.norm_size,
            run.config,
            run.history,
            dataset_name=ds.name,
            dataset=dataset_record(ds),
        )
        if not resume:
            self.checkpoint_path = None
        c = run.config
        label = f"{c.optim} lr {c.lr:g} · {','.join(map(str, c.hidden))} {c.act}"
        tooltip = "\n".join(f"{k}: {v}" for k, v in c.to_dict().items())
        self.plots.start_run(label, tooltip)
        if resume:
            self.plots.show_history(run.history)
        self.plots.set_epoch_range(c.epochs)
        self.run = run
        self.dirty = True
        steps = max(1, -(-len(ds.train) // c.batch_size))
        done_steps = run.history.epochs_completed * steps + (run.history.position.step if run.history.position else 0)
        self._total_steps = max(1, c.epochs * steps - done_steps)
        self._steps_done = 0
        self.progress.setRange(0, max(1, self._total_steps))
        self.progress.setValue(0)
        self.result_label.setText("")
        self.progress_label.setText("Starting…")
        self.worker = start_training(run, self.model, autosave_path())
        self.worker.yielded.connect(self._on_update)
        self.worker.errored.connect(self._on_worker_error)
        self.worker.finished.connect(self._on_worker_finished)
        self.worker.start()
        self.tabs.setCurrentWidget(self.plots)
        self._update_controls()
        self.model_changed.emit()

    def toggle_pause(self):
        if not self.training:
            return
        if self.run.paused:
            self.run.resume()
            self.statusBar().showMessage("Resumed.", 3000)
        else:
            self.run.pause()
            self.statusBar().showMessage("Paused — Space to resume.", 5000)
        self._update_controls()

    def stop_training(self):
        if self.training:
            self.run.stop()
            self.progress_label.setText("Stopping…")

    def _on_update(self, update: Update):
        if update.steps:
            self.plots.add_steps(update.steps)
            last = update.steps[-1]
            self._steps_done += len(update.steps)
            self.progress.setValue(min(self._steps_done, self.progress.maximum()))
            rate = last.samples_per_sec
            bs = self.run.config.batch_size if self.run else 1
            eta_epoch = (last.steps_per_epoch - last.step) * bs / max(rate, 1e-9)
            eta_run = (self._total_steps - self._steps_done) * bs / max(rate, 1e-9)
            epochs = self.run.config.epochs if self.run else last.epoch
            self.progress_label.setText(
                f"Epoch {last.epoch}/{epochs} · step {last.step}/{last.steps_per_epoch}\n"
                f"{rate:,.0f} samples/s · ETA epoch {format_duration(eta_epoch)} · run {format_duration(eta_run)}"
                + ("\nPaused" if self.run and self.run.paused else "")
            )
        for ev in update.events:
            self.plots.add_event(ev)
            if isinstance(ev, EvalEvent):
                self.result_label.setText(
                    f"Validation: loss {ev.val_loss:.4f}, accuracy {ev.val_acc * 100:.1f}% "
                    f"(best {ev.best_val_acc * 100:.1f}% at epoch {ev.best_epoch})"
                )
            elif isinstance(ev, EpochEvent) and not len(self.dataset.val):
                self.result_label.setText(f"Train: loss {ev.train_loss:.4f}, accuracy {ev.train_acc * 100:.1f}%")
            elif isinstance(ev, FinishedEvent):
                self.plots.flush()
                self._on_finished(ev)
            elif isinstance(ev, FailedEvent):
                self._on_failed(ev)
            elif isinstance(ev, WarningEvent):
                self.result_label.setText(f"<b>Warning</b>: {ev.message}")
                self.statusBar().showMessage(f"Warning: {ev.message}", 20000)
        if update.first_layer is not None and self.dataset is not None:
            self._first_layer = update.first_layer
            if self.tabs.currentWidget() is self.weights_panel:  # drawn when shown otherwise
                self.weights_panel.set_weights(update.first_layer, self.dataset.norm_size)
        if update.autosaved:
            self._refresh_recent()
        if self.run is not None and self.run.paused:
            self.plots.flush()

    def _on_finished(self, ev: FinishedEvent):
        test = f"test accuracy {ev.test_acc * 100:.1f}%" if ev.test_acc is not None else "no test split"
        how = "Stopped" if ev.stopped else "Finished"
        where = ev.where()
        self.progress_label.setText(f"{where[0].upper()}{where[1:]} in {format_duration(ev.elapsed)}.")
        self.result_label.setText(self.result_label.text() + f"\n<b>{how}</b>: {test}.")
        self.result_label.setTextFormat(Qt.RichText)
        self.result_label.setText(self.result_label.text().replace("\n", "<br>"))
        self.statusBar().showMessage(f"{how}: {test}", 10000)
        self._final_event = ev

    def _on_failed(self, ev: FailedEvent):
        self.progress_label.setText("Diverged.")
        self.error(
            "Training Diverged",
            f"Training {ev.reason}. The curves keep what they had; the model keeps its last good weights.",
        )
        self._final_event = ev

    def _on_worker_error(self, exc):
        self._final_event = FailedEvent(0, 0, f"{type(exc).__name__}: {exc}")
        self.error("Training Failed", f"Training stopped with an error: {type(exc).__name__}: {exc}")

    def _on_worker_finished(self):
        self.run = None
        self.worker = None
        self._update_controls()
        self._on_hyper_changed()
        final = getattr(self, "_final_event", None)
        self._final_event = None
        if self.model is not None and isinstance(final, FinishedEvent) and self.dataset and len(self.dataset.val):
            self.evaluate("val")
        self.training_finished.emit(final)

    # == evaluation =========================================================================
    def evaluate(self, split: str):
        if self.model is None or self.dataset is None or self.training:
            return
        problem = self._model_fits_dataset(self.model)
        if problem:
            self.error("Evaluate", f"Cannot evaluate on {self.dataset.name}: {problem}.")
            return
        s = self.dataset.split(split)
        if len(s) == 0:
            self.error("Evaluate", f"{self.dataset.name} has no {split} images.")
            return
        model, classes = self.model, self.dataset.classes

        def done(probs):
            self.browser.set_evaluation(Evaluation(split, s.x, s.y, probs, classes, s.names))

        self._run_task(predict_arrays, model, s.x, on_done=done, label=f"Evaluating on {split}")

    # == checkpoints ========================================================================
    def _ask_open_checkpoint(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open Checkpoint", settings.read("last_dir"), CHECKPOINT_FILTER)
        if path:
            self.open_checkpoint(path)

    def open_checkpoint(self, path: str):
        """The one way a checkpoint is opened (menu, recent, drop)."""
        if self.training:
            self.error("Open Checkpoint", "Stop the training run before opening a checkpoint.")
            return
        if self.dirty and not self._confirm_discard("Open a checkpoint"):
            return
        device = self.hyper.device.currentText()
        self._run_task(
            load_checkpoint,
            path,
            device,
            on_done=lambda m: self._set_model(m, path),
            label=f"Opening {os.path.basename(path)}",
        )

    def _set_model(self, model: Model, path: str):
        self.model = model
        self.checkpoint_path = path if Path(path) != autosave_path() else None
        self.dirty = self.checkpoint_path is None
        self.hyper.set_config(model.config)
        if self.dataset is not None and not self._model_fits_dataset(model):
            self._dataset_for(model)
        self.plots.start_run("", "")
        self.plots.show_history(model.history)
        self._first_layer = model.network.weights()[0]
        self.weights_panel.set_weights(self._first_layer, model.norm_size)
        if self.checkpoint_path:
            settings.add_recent("recent_checkpoints", path)
            settings.write("last_dir", str(Path(path).parent))
            self._refresh_recent()
        h = model.history
        test = f", test accuracy {h.test_acc * 100:.1f}%" if h.test_acc is not None else ""
        arch = model.config.summary(model.norm_size[0] * model.norm_size[1], len(model.classes))
        notes = "".join(f"<br><i>{n}</i>" for n in model.notes)
        self.result_label.setText(f"Opened {os.path.basename(path)}: {arch}, trained {h.where()}{test}.{notes}")
        self.statusBar().showMessage(f"Opened checkpoint {path}", 8000)
        self._update_controls()
        self.model_changed.emit()

    def save(self) -> bool:
        if self.checkpoint_path is None:
            return self.save_as()
        return self._save_to(self.checkpoint_path)

    def save_as(self) -> bool:
        if self.model is None:
            return False
        start = os.path.join(settings.read("last_dir"), "model.pt")
        path, _ = QFileDialog.getSaveFileName(self, "Save Checkpoint", start, CHECKPOINT_FILTER)
        if not path:
            return False
        if not path.lower().endswith(CHECKPOINT_SUFFIXES):
            path += ".pt"
        return self._save_to(path)

    def _save_to(self, path: str) -> bool:
        """Save synchronously: a checkpoint of this size writes in milliseconds, and callers
        (quit, close) must know it succeeded before going on."""
        if self.model is None or self.training:
            return False
        try:
            save_checkpoint(path, self.model)
        except UserError as exc:
            self.error("Save Checkpoint", str(exc))
            return False
        self.checkpoint_path = path
        self.dirty = False
        settings.add_recent("recent_checkpoints", path)
        settings.write("last_dir", str(Path(path).parent))
        self._refresh_recent()
        self.statusBar().showMessage(f"Saved {path}", 6000)
        self._update_title()
        return True

    def _confirm_discard(self, doing: str) -> bool:
        """Ask about unsaved trained weights; True to go on."""
        answer = QMessageBox.question(
            self,
            "Unsaved Model",
            f"The trained model has not been saved. Save it before you {doing.lower()}?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel,
            QMessageBox.Save,
        )
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    # == classification =====================================================================
    def _ask_classify(self):
        paths, _ = QFileDialog.getOpenFileNames(
            self,
            "Classify Images",
            settings.read("last_dir"),
            "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)",
        )
        if paths:
            self.classify_paths(paths)

    def _labelled_folder(self, folder: Path) -> list[tuple[str, int]] | None:
        """Image files with labels if ``folder``'s subfolders are the model's class names."""
        if self.model is None:
            return None
        lookup = {c.lower(): i for i, c in enumerate(self.model.classes)}
        subs = [d for d in folder.iterdir() if d.is_dir()]
        if not subs or not all(d.name.lower() in lookup for d in subs):
            return None
        return [
            (str(f), lookup[d.name.lower()])
            for d in sorted(subs)
            for f in sorted(d.rglob("*"))
            if f.is_file() and is_image_file(f.name)
        ]

    def classify_paths(self, paths: list[str]):
        """The one way images are classified (menu, drop). Folders are expanded; labelled folders scored."""
        if self.model is None:
            self.error("Classify Images", "Open a checkpoint or train a model first, then drop images again.")
            return
        files: list[str] = []
        labels: list[int] = []
        labelled_root = None
        for p in paths:
            pp = Path(p)
            if pp.is_dir():
                lab = self._labelled_folder(pp)
                if lab is not None:
                    labelled_root = str(pp)
                    files += [f for f, _ in lab]
                    labels += [y for _, y in lab]
                else:
                    files += [str(f) for f in sorted(pp.rglob("*")) if f.is_file() and is_image_file(f.name)]
            else:
                files.append(p)
        if not files:
            self.error("Classify Images", f"No image files found in {', '.join(paths)}.")
            return
        model, relay = self.model, self.relay
        if self.training:  # classify on a copy of the weights; the run's own network is never touched
            model = dataclasses.replace(model, network=model.network.snapshot())
        uppercase = len(model.classes) == 26 and all(len(c) == 1 for c in model.classes)
        self.tabs.setCurrentWidget(self.classify_panel)

        def work():
            return classify_files(
                model,
                files,
                progress=lambda d, t: relay.progress.emit(d, t, "classifying"),
                cancelled=self._cancel.is_set,
            )

        def done(results):
            self.classify_panel.add_results(results, uppercase=uppercase)
            if labelled_root is not None and len(labels) == len(results):
                good = [i for i, r in enumerate(results) if not r.error]
                y_true = np.asarray([labels[i] for i in good], np.int64)
                y_pred = np.asarray([model.classes.index(results[i].label) for i in good], np.int64)
                self.classify_panel.show_labelled(y_true, y_pred, model.classes, labelled_root)
            n_err = sum(bool(r.error) for r in results)
            self.statusBar().showMessage(
                f"Classified {len(results) - n_err} image(s)" + (f", {n_err} could not be read" if n_err else ""), 8000
            )
            self.classification_done.emit(results)

        self._run_task(work, on_done=done, label=f"Classifying {len(files)} image(s)")

    # == drag and drop ======================================================================
    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event):
        self.dragEnterEvent(event)

    def dropEvent(self, event):
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        self.open_paths(paths)

    def open_paths(self, paths: list[str]):
        """Route dropped paths: checkpoints open, dataset folders open, images (and folders) classify."""
        ckpts = [p for p in paths if p.lower().endswith(CHECKPOINT_SUFFIXES) and os.path.isfile(p)]
        rest = [p for p in paths if p not in ckpts]
        datasets = [p for p in rest if os.path.isdir(p) and self._is_dataset_folder(Path(p))]
        images = [p for p in rest if p not in datasets]
        if ckpts:
            self.open_checkpoint(ckpts[0])
        if datasets and not ckpts:
            self.open_dataset(datasets[0])
        if images:
            if ckpts:  # classify once the model is open
                self.model_changed.connect(self._classify_later(images))
            else:
                self.classify_paths(images)

    def _classify_later(self, images):
        def once():
            self.model_changed.disconnect(once)
            self.classify_paths(images)

        return once

    def _is_dataset_folder(self, p: Path) -> bool:
        if (p / "train.json").exists() or list(p.glob("*-idx3-ubyte*")):
            return True
        return self._labelled_folder(p) is None and (p / "train").is_dir()

    # == tools and help =====================================================================
    def gradient_check(self):
        dialog = GradcheckDialog(self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()
        self._run_task(run_gradcheck, on_done=dialog.set_results, label="Gradient check")
        self._gradcheck_dialog = dialog
        return dialog

    def show_shortcuts(self):
        rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;&nbsp;{v}</td></tr>" for k, v in SHORTCUTS)
        box = QMessageBox(QMessageBox.Information, "Keyboard Shortcuts", f"<table>{rows}</table>", QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()

    def show_about(self):
        QMessageBox.about(
            self,
            "About Backprop Studio",
            "<h3>Backprop Studio 0.1</h3><p>Train and inspect multilayer perceptrons whose "
            "every backward pass is written by hand — custom torch.autograd.Functions and a "
            "pure-NumPy engine.</p><p>Drop images on the window to classify them; drop a "
            "checkpoint to open it.</p>",
        )

    def changeEvent(self, event):
        if event.type() in (QEvent.PaletteChange, QEvent.ApplicationPaletteChange):
            retheme(self)  # the OS switched light/dark: the plots follow
        super().changeEvent(event)

    # == window state =======================================================================
    def _restore_window(self):
        geo = settings.read("geometry")
        if geo:
            self.restoreGeometry(geo)
        st = settings.read("window_state")
        if st:
            self.restoreState(st)
        self._saved_splitter = settings.read("splitter")

    def showEvent(self, event):
        super().showEvent(event)
        if self._saved_splitter:  # sizes only stick once the window has its real size
            state, self._saved_splitter = self._saved_splitter, b""
            QTimer.singleShot(0, lambda: self.splitter.restoreState(state))

    def closeEvent(self, event):
        if self.training:
            answer = QMessageBox.question(
                self,
                "Training in Progress",
                "A training run is in progress. Stop it and quit?",
                QMessageBox.Yes | QMessageBox.Cancel,
                QMessageBox.Cancel,
            )
            if answer != QMessageBox.Yes:
                event.ignore()
                return
            self.shutdown_workers()
        if self.dirty and self.model is not None and not self._confirm_discard("Quit"):
            event.ignore()
            return
        self.shutdown_workers()
        settings.write("geometry", bytes(self.saveGeometry()))
        settings.write("window_state", bytes(self.saveState()))
        settings.write("splitter", bytes(self.splitter.saveState()))
        event.accept()

    def shutdown_workers(self, timeout_ms: int = 10000):
        """Stop the run and wait for every worker thread, so none outlives the window."""
        self._cancel.set()
        if self.run is not None:
            self.run.stop()
        if self.worker is not None:
            self.worker.quit()
        QThreadPool.globalInstance().waitForDone(timeout_ms)
