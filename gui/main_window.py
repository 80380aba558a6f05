"""The main window: wiring only. What is open lives in :class:`Session`, background work in
:class:`Tasks`, the run in :class:`RunController`; each tab is a view in ``gui/views`` that
receives the objects it shows and connects to their signals. The window builds them, lays
them out, asks the user (dialogs) and routes menus, drops and closing."""

from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QSize, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine import __version__
from engine.checkpoint import Model
from engine.config import TrainConfig
from engine.data.images import is_image_file
from engine.errors import UserError
from engine.inspect.gradcheck import run_all as run_gradcheck
from engine.training.run import FailedEvent, FinishedEvent
from gui import settings
from gui.export import export_misclassified, export_plots, suggested_name
from gui.i18n import arg
from gui.menus import build_menus, shortcut_rows
from gui.runner import RunController
from gui.runtime import collect_garbage_in_gui_thread
from gui.session import CHECKPOINT_SUFFIXES, Session, autosave_path
from gui.style import retheme
from gui.tasks import Tasks
from gui.views.classify import ClassifyPanel
from gui.views.dataset import DatasetPanel
from gui.views.functions import FunctionsView
from gui.views.gradcheck import GradcheckDialog
from gui.views.hyperparameters import HyperparameterPanel
from gui.views.internals import InternalsView
from gui.views.predictions import PredictionBrowser
from gui.views.run_controls import RunControls
from gui.views.runs import RunsView
from gui.views.sweeps import NewSweepDialog, SweepPanel
from gui.views.training import TrainingPlots
from gui.views.weights import WeightsPanel
from gui.widgets.common import IMAGE_FILTER
from gui.widgets.drop_zone import DropZone
from gui.widgets.status import StatusMessage

CHECKPOINT_FILTER = "Checkpoints (*.pt *.pth *.ckpt);;All files (*)"


def _accept_as_copy(event) -> None:
    """A drop is a copy, whatever the source proposed: a file manager that honours a Move would
    delete the student's file after we read it."""
    event.setDropAction(Qt.CopyAction)
    event.accept()


def first_size(avail) -> QSize:
    """The first window: 1400×880 where there is room, else what fits the screen (a 1366×768
    laptop has ~1366×728 available) with a margin for the frame."""
    return QSize(min(1400, avail.width() - 16), min(880, avail.height() - 40))


class MainWindow(QMainWindow):
    training_finished = Signal(object)  # the final FinishedEvent or FailedEvent, after the window handled it
    dataset_loaded = Signal(object)
    model_changed = Signal()
    classification_done = Signal(list)

    def _animating(self) -> bool:
        controller, sweeps = getattr(self, "controller", None), getattr(self, "sweep_panel", None)
        return bool(controller is not None and controller.running) or bool(sweeps is not None and sweeps.running)

    def __init__(self, dataset_path: str | None = None, load_default: bool = True):
        super().__init__()
        # never in a task's thread (a Qt object destroyed there can deadlock); no full collection
        # while a run or a sweep draws live (it stalls the event loop for 60–80 ms)
        collect_garbage_in_gui_thread(busy=lambda: self._animating())
        self.setAcceptDrops(True)
        self.resize(first_size(self.screen().availableGeometry()))
        self.tasks = Tasks(self)
        self.session = Session(self.tasks, self)
        self.controller = RunController(self)
        self.controller.store_location = settings.read("runs_db") or None
        self._last_error = ""

        saved = TrainConfig.from_dict(settings.read("hyperparameters"))
        try:
            saved = saved.validate()
        except UserError:
            saved = TrainConfig()
        self.hyper = HyperparameterPanel(saved)
        self.run_controls = RunControls(self.controller, self.session)
        inner = QWidget()
        il = QVBoxLayout(inner)
        il.addWidget(QLabel(self.tr("<b>Hyperparameters</b>")))
        il.addWidget(self.hyper)
        il.addStretch()
        scroll = QScrollArea()  # the panel scrolls on a small screen; the run controls stay in view
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(inner.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 6, 0)
        ll.addWidget(scroll, 1)
        ll.addWidget(self.run_controls)

        self.plots = TrainingPlots()
        self.plots.restore_preferences(
            settings.read("log_loss"),
            settings.read("keep_previous_runs"),
            settings.read("show_legends"),
            settings.read("smoothing"),
            settings.read("training_group_seeds"),
        )
        self.plots.log_box.toggled.connect(lambda on: settings.write("log_loss", on))
        self.plots.keep_box.toggled.connect(lambda on: settings.write("keep_previous_runs", on))
        self.plots.legend_box.toggled.connect(lambda on: settings.write("show_legends", on))
        self.plots.group_box.toggled.connect(lambda on: settings.write("training_group_seeds", on))
        self.plots.smoothing.valueChanged.connect(lambda v: settings.write("smoothing", v / 1000))
        self.plots.set_epoch_range(saved.epochs)
        self.browser = PredictionBrowser(self.session)
        self.classify_panel = ClassifyPanel(self.session)
        self.classify_panel.add_button.clicked.connect(self.ask_classify)
        self.dataset_panel = DatasetPanel(self.session)
        self.weights_panel = WeightsPanel(self.session, self.controller)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.plots, self.tr("Training"))
        self.tabs.addTab(self.browser, self.tr("Predictions"))
        self.tabs.addTab(self.classify_panel, self.tr("Classify"))
        self.tabs.addTab(self.dataset_panel, self.tr("Dataset"))
        self.tabs.addTab(self.weights_panel, self.tr("Weights"))
        self.runs_view = RunsView(self.controller)
        self.tabs.addTab(self.runs_view, self.tr("Runs"))
        self.sweep_panel = SweepPanel(self.controller)
        self.tabs.addTab(self.sweep_panel, self.tr("Sweep"))
        self.functions_view = FunctionsView(
            self.tasks, lambda: self.dataset, lambda: (self.hyper.config() or TrainConfig()).loss_reduction
        )
        self.tabs.addTab(self.functions_view, self.tr("Functions"))
        self.internals = InternalsView(self.session, self.controller, self.tasks)
        self.tabs.addTab(self.internals, self.tr("Internals"))
        self.internals.embedding.select_image.connect(self._show_in_gallery)
        self.browser.explain_requested.connect(self._explain_in_internals)
        self.functions_view.load_button.clicked.connect(self.ask_load_functions)
        self.functions_view.train_with.connect(self._train_with_functions)
        self.sweep_panel.finished.connect(self.runs_view.mark_stale)
        self.runs_view.open_model.connect(lambda path: self.session.open_checkpoint(path))
        self.runs_view.train_again.connect(self._train_again)
        self.runs_view.show_in_training.connect(self._show_runs_in_training)
        self.runs_view.show_health.connect(self._show_stored_health)

        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(0, False)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([360, 1040])
        self.setCentralWidget(self.splitter)
        self.drop_zone = DropZone(self)

        self.status_message = StatusMessage()
        self.dataset_status = StatusMessage()
        self.dataset_status.setMinimumWidth(120)
        self.dataset_status.setMaximumWidth(380)
        self.engine_status = QLabel()
        self.task_progress = QProgressBar()
        self.task_progress.setMaximumWidth(200)
        self.task_progress.setVisible(False)
        self.cancel_open_button = QToolButton()
        self.cancel_open_button.setText(self.tr("Cancel"))
        self.cancel_open_button.setToolTip(self.tr("Stop opening this dataset; the one open before stays"))
        self.cancel_open_button.setVisible(False)
        self.cancel_open_button.clicked.connect(lambda: self.session.cancel_open())
        sb = self.statusBar()
        sb.addWidget(self.status_message, 1)
        sb.addPermanentWidget(self.task_progress)
        sb.addPermanentWidget(self.cancel_open_button)
        sb.addPermanentWidget(self.dataset_status, 1)
        sb.addPermanentWidget(self.engine_status)

        self.actions = build_menus(self)
        self._refresh_recent()
        self._connect()
        self._restore_window()
        self._update_controls()
        self._on_hyper_changed()
        if autosave_path().exists():
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(autosave_path().stat().st_mtime))
            self.show_status(
                arg(
                    self.tr("An autosaved best-validation model from %1 can be opened: File ▸ Recover Autosaved Model"),
                    when,
                ),
                10000,
            )
        if load_default:
            QTimer.singleShot(0, lambda: self.open_dataset(dataset_path or settings.read("last_dataset")))
            if dataset_path is None:  # a plain launch picks up where the user left off

                def reopen(_ds):
                    self.dataset_loaded.disconnect(reopen)
                    self.reopen_last_model()

                self.dataset_loaded.connect(reopen)

    def _connect(self) -> None:
        s, c = self.session, self.controller
        self.hyper.changed.connect(self._on_hyper_changed)
        self.run_controls.train_requested.connect(lambda: self.start_training())
        self.run_controls.step_requested.connect(self.train_one_step)
        self.run_controls.reset_requested.connect(self.reset_weights)
        s.error.connect(self.error)
        s.message.connect(self.show_status)
        s.dataset_changed.connect(self._on_dataset_changed)
        s.opening.connect(self.cancel_open_button.setVisible)
        s.model_changed.connect(self._on_model_changed)
        s.state_changed.connect(self._update_controls)
        s.state_changed.connect(self._refresh_recent)  # a checkpoint opened or saved: the list changed
        s.dataset_changed.connect(lambda _ds: self._refresh_recent())
        s.evaluated.connect(self._update_controls)  # after the browser took it: the contact sheet can be made
        s.classified.connect(lambda out: self.tabs.setCurrentWidget(self.classify_panel))
        s.classified.connect(lambda out: self.classification_done.emit(out.results))
        self.tasks.failed.connect(self.error)
        self.tasks.busy.connect(self._on_busy)
        self.tasks.progress.connect(self._on_task_progress)
        c.updated.connect(self._on_update)
        c.finished.connect(self._on_run_finished)
        c.state_changed.connect(self._update_controls)
        self.plots.readout_changed.connect(lambda text: self.show_status(text, 4000) if text else None)

    # == convenience views of the session ====================================================
    @property
    def dataset(self):
        return self.session.dataset

    @property
    def model(self) -> Model | None:
        return self.session.model

    @property
    def checkpoint_path(self) -> str | None:
        return self.session.checkpoint_path

    @property
    def dirty(self) -> bool:
        return self.session.dirty

    @dirty.setter
    def dirty(self, value: bool) -> None:
        self.session.dirty = value

    @property
    def training(self) -> bool:
        return self.controller.running

    # == state ==============================================================================
    def _update_controls(self, *_):
        a = self.actions
        running, paused = self.controller.running, self.controller.paused
        has_data, has_model = self.dataset is not None, self.model is not None
        self.hyper.set_locked(running)
        self.run_controls.update_buttons()
        a.start.setEnabled(not running and has_data)
        a.one_step.setEnabled(not running and has_data)
        a.reset.setEnabled(not running and has_data)
        a.resume.setEnabled(not running and has_model and has_data)
        a.pause.setEnabled(running)
        a.stop.setEnabled(running)
        a.pause.setText(self.tr("&Resume") if paused else self.tr("&Pause"))
        for act in (a.save, a.save_as, a.export_onnx):
            act.setEnabled(has_model and not running)
        a.classify.setEnabled(has_model and not running)
        self.classify_panel.allow_adding(has_model and not running)
        a.evaluate.setEnabled(has_model and has_data and not running)
        a.use_best.setEnabled(self.session.best is not None and not running)
        a.use_best.setChecked(self.session.weights_choice == "best")
        self.browser.allow_evaluate(has_model and has_data and not running)
        a.export_sheet.setEnabled(self.browser.ev is not None)
        a.open_data.setEnabled(not running)
        a.builtin.setEnabled(not running)
        a.open_ckpt.setEnabled(not running)
        a.recover.setEnabled(not running and autosave_path().exists())
        a.recent.setEnabled(not running and not a.recent.isEmpty())
        self._update_title()

    def _update_title(self):
        """The dataset and the model; Qt adds the application's name (set in gui/app.py)."""
        parts = []
        if self.dataset:
            parts.append(self.dataset.name)
        if self.checkpoint_path:
            parts.append(os.path.basename(self.checkpoint_path) + ("*" if self.dirty else ""))
        elif self.model is not None:
            parts.append(f"{self.model.name or 'unsaved model'}*")
        self.setWindowTitle(" — ".join(parts))

    def _refresh_recent(self):
        menu = self.actions.recent
        menu.clear()
        items = settings.read("recent_checkpoints")
        for p in items:
            menu.addAction(p, lambda p=p: self.open_checkpoint(p))
        datasets = settings.read("recent_datasets")
        if datasets:
            menu.addSeparator()
            for p in datasets:
                menu.addAction(f"Dataset: {p}", lambda p=p: self.open_dataset(p))
        menu.setEnabled(bool(items or datasets) and not self.training)

    def _on_hyper_changed(self):
        c = self.hyper.config()
        if c is not None:
            settings.write("hyperparameters", c.to_dict())
            self.engine_status.setText(arg(self.tr("engine: %1 · device: %2"), c.engine, c.device))
            if not self.training and self.plots.current.empty():
                self.plots.set_epoch_range(c.epochs)
        self.run_controls.allow_start(c is not None, self.tr("Fix the highlighted hyperparameters first"))

    def _on_dataset_changed(self, ds):
        self.dataset_status.show_message(
            arg(
                self.tr("%1: %2/%3/%4 train/val/test · %5 classes · %6×%7"),
                ds.name,
                len(ds.train),
                len(ds.val),
                len(ds.test),
                len(ds.classes),
                ds.norm_size[0],
                ds.norm_size[1],
            )
        )
        self.hyper.set_shape(ds.in_features, len(ds.classes))
        self.hyper.set_fixed_split(ds.fixed_split, ds.name)
        self._update_controls()
        self._on_hyper_changed()
        self.dataset_loaded.emit(ds)

    def _on_model_changed(self, model):
        if model is not None and not self.training:
            self.hyper.set_config(model.config)
            h = model.history
            steps = None
            if self.dataset is not None and not self.session.model_fits_dataset(model):
                steps = max(1, -(-len(self.dataset.train) // model.config.batch_size))
            self.plots.start_run(model.name, config=model.config.to_dict())
            self.plots.show_history(h, model.name, steps, config=model.config.to_dict())
            self.plots.set_epoch_range(max(model.config.epochs, h.epochs_completed))
        self._update_controls()
        self.model_changed.emit()

    def show_status(self, text: str, timeout_ms: int = 0) -> None:
        self.status_message.show_message(text, timeout_ms)

    def error(self, title: str, message: str) -> None:
        """Errors for the user: a dialog (not blocking the event loop) and the status bar."""
        self.show_status(message, 15000)
        box = QMessageBox(QMessageBox.Warning, title, message, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()
        self._last_error = message

    def _on_busy(self, label: str):
        self.task_progress.setVisible(bool(label))
        if label:
            self.task_progress.setRange(0, 0)
            self.task_progress.setFormat(label)
            self.show_status(label + "…")
        elif self.status_message.message().endswith("…"):
            self.status_message.clear_message()

    def _on_task_progress(self, done: int, total: int, message: str):
        self.task_progress.setVisible(True)
        self.task_progress.setRange(0, max(total, 1))
        self.task_progress.setValue(done)
        self.task_progress.setFormat(f"{message[:30]} %p%")

    # == datasets ===========================================================================
    def _start_dir(self, key: str) -> str:
        folder = settings.read(key)
        if folder and os.path.isdir(folder):
            return folder
        return QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation) or str(Path.home())

    def ask_open_dataset(self):
        path = QFileDialog.getExistingDirectory(self, self.tr("Open Dataset Folder"), self._start_dir("last_dir"))
        if path:
            self.open_dataset(path)

    def open_dataset(self, path: str):
        c = self.hyper.config()
        split_seed, val_split = (c.split_seed, c.val_split) if c else (0, 0.1)
        if path and path != "builtin" and os.path.isdir(path):
            settings.write("last_dir", str(Path(path).parent))
        self.session.open_dataset(path, split_seed, val_split)

    # == checkpoints ========================================================================
    def ask_open_checkpoint(self):
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open Checkpoint"), self._start_dir("last_dir"), CHECKPOINT_FILTER
        )
        if path:
            self.open_checkpoint(path)

    def open_checkpoint(self, path: str, then=None):
        """The one way a checkpoint is opened (menu, recent, drop)."""
        if self.training:
            self.error(self.tr("Open Checkpoint"), self.tr("Stop the training run before opening a checkpoint."))
            return
        if self.dirty and not self._confirm_discard(self.tr("open a checkpoint")):
            return
        self.session.open_checkpoint(path, self.hyper.device_name(), then)

    def recover_autosave(self):
        self.open_checkpoint(str(autosave_path()))

    def save(self) -> bool:
        if self.checkpoint_path is None:
            return self.save_as()
        return self.session.save_to(self.checkpoint_path)

    def ask_save_path(self) -> str:
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Save Checkpoint"), self.session.default_save_path(), CHECKPOINT_FILTER
        )
        if path and not path.lower().endswith(CHECKPOINT_SUFFIXES):
            path += ".pt"
        return path

    def save_as(self) -> bool:
        if self.model is None:
            return False
        path = self.ask_save_path()
        return bool(path) and self.session.save_to(path)

    def _save_to(self, path: str) -> bool:
        return self.session.save_to(path)

    def _confirm_discard(self, doing: str) -> bool:
        """Ask about unsaved trained weights, only when they would really be lost: a finished run's
        model is kept in the run store (Runs tab ▸ Open Model). True to go on."""
        kept = self.session.kept_copy
        if kept and os.path.isfile(kept):
            self.show_status(
                self.tr("The last model is kept in the run store: Runs tab ▸ Open Model brings it back"), 8000
            )
            return True
        answer = QMessageBox.question(
            self,
            self.tr("Unsaved Model"),
            arg(self.tr("The trained model has not been saved. Save it before you %1?"), doing),
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel,
            QMessageBox.Save,
        )
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    # == training ===========================================================================
    def start_training(self, resume: bool = False, one_step: bool = False):
        if self.training or self.dataset is None:
            return
        self.session.use_weights("final")  # training goes on from the weights it ended with
        config = self.hyper.config()
        if config is None:
            self.error(self.tr("Start Training"), self._invalid_settings())
            return
        if not resume and self.dirty and not self._confirm_discard(self.tr("start a new run")):
            return
        epochs = None
        if resume:
            if self.model is None:
                return
            epochs = self._resume_target(one_step)
            if epochs is None:
                return
        name = self.run_controls.run_name()
        if not resume or (self.model is not None and name == self.model.name):
            name = "" if not resume else name
        self.session.training = True
        try:
            plan = self.session.training_plan(config, name, resume, epochs)
        except UserError as exc:
            self.session.training = False
            self.error(self.tr("Start Training"), str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - e.g. a device that fails to initialise
            self.session.training = False
            self.error(self.tr("Start Training"), arg(self.tr("Could not start training: %1"), exc))
            return
        c, model = plan.config, self.model
        tooltip = "\n".join(f"{k}: {v}" for k, v in c.to_dict().items())
        if resume:
            if not one_step:  # one step is not a new plan: the panel keeps the epochs the user set
                self.hyper.set_config(c)
            steps = max(1, -(-len(plan.dataset.train) // c.batch_size))
            self.plots.start_run(model.name, tooltip, keep_current=True, config=c.to_dict())
            self.plots.show_history(plan.history, model.name, steps)
        else:
            self.plots.start_run(model.name, tooltip, config=c.to_dict())
        self.plots.set_epoch_range(c.epochs)
        self.plots.set_live(True)
        self.controller.start(plan, model, resume=resume, one_step=one_step)
        if not one_step:
            self.tabs.setCurrentWidget(self.plots)
        self._update_controls()
        self.model_changed.emit()

    def use_best_weights(self, on: bool) -> None:
        """Train ▸ Use Best-Validation Weights: the open model switches between its run's best and
        final weights; Predictions re-evaluates; Classify, Explain and Save use them too."""
        if not self.session.use_weights("best" if on else "final"):
            self.actions.use_best.setChecked(self.session.weights_choice == "best")
            return
        if on:
            msg = arg(
                self.tr("The best-validation weights (epoch %1) are in use: Predictions, Classify, Explain and Save"),
                self.session.best[0],
            )
        else:
            msg = self.tr("The final weights are in use again")
        self.show_status(msg, 8000)
        if self.dataset is not None:
            self.browser.evaluate()
        self._update_controls()

    def _resume_target(self, one_step: bool) -> int | None:
        """The epoch a resumed run trains to: the run's own end if it stopped early; when it had
        finished, the user says how many more epochs (one, for a single step)."""
        model = self.model
        h, c = model.history, model.config
        done = h.epochs_completed
        if h.position is not None or done < c.epochs:
            return c.epochs
        if one_step:
            return done + 1
        more, ok = QInputDialog.getInt(
            self,
            self.tr("Resume Training"),
            arg(
                self.tr("“%1” has finished all %2 epochs it was set to train.\nTrain how many more epochs?"),
                model.name,
                done,
            ),
            max(1, min(c.epochs, 10)),
            1,
            100000,
        )
        return done + more if ok else None

    def train_one_step(self):
        """Playground's step: one optimisation step of the open model (a fresh one if none fits)."""
        if self.training or self.dataset is None:
            return
        if self.model is None or self.session.model_fits_dataset(self.model):
            if not self.reset_weights():
                return
        self.start_training(resume=True, one_step=True)

    def new_sweep(self, dialog: NewSweepDialog | None = None) -> bool:
        """Training ▸ New Sweep: the panel's settings are the base; the dialog says what varies."""
        from engine.errors import UserError

        if self.sweep_panel.running:
            self.error(self.tr("New Sweep"), self.tr("A sweep is already running: cancel it first."))
            return False
        if self.dataset is None:
            self.error(self.tr("New Sweep"), self.tr("Open a dataset first."))
            return False
        base = self.hyper.config()
        if base is None:
            return False
        dialog = dialog or NewSweepDialog(self)
        dialog.base = base.to_dict()
        if dialog.spec is None and dialog.exec() != NewSweepDialog.Accepted:
            return False
        try:
            self.sweep_panel.start(dialog.spec, self.dataset, dialog.workers.value())
        except UserError as exc:
            self.error(self.tr("New Sweep"), str(exc))
            return False
        self.tabs.setCurrentWidget(self.sweep_panel)
        return True

    def _train_again(self, config: dict) -> None:
        """The Runs view's "Train Again": its settings in the panel, ready for Train."""
        from engine.config import TrainConfig
        from engine.errors import UserError

        try:
            self.hyper.set_config(TrainConfig.from_dict(config).validate())
        except UserError as exc:
            self.show_status(arg(self.tr("Cannot use that run's settings: %1"), exc))
            return
        self.tabs.setCurrentWidget(self.plots)
        self.show_status(self.tr("Settings filled in from the run: press Start Training (Ctrl+R)"))

    def _show_runs_in_training(self, runs: list) -> None:
        self.plots.add_stored_runs(runs)
        self.tabs.setCurrentWidget(self.plots)

    def _show_stored_health(self, name: str, records: list, epochs: float) -> None:
        self.internals.show_stored_health(name, records, epochs)
        self.tabs.setCurrentWidget(self.internals)

    def reset_weights(self) -> bool:
        """A fresh, untrained model from the panel's hyperparameters (asks first if unsaved)."""
        if self.training or self.dataset is None:
            return False
        config = self.hyper.config()
        if config is None:
            self.error(self.tr("Reset Weights"), self._invalid_settings())
            return False
        if self.dirty and not self._confirm_discard(self.tr("reset the weights")):
            return False
        try:
            self.session.new_model(config)
        except UserError as exc:
            self.error(self.tr("Reset Weights"), str(exc))
            return False
        self.show_status(self.tr("Weights reset: a fresh untrained model. Train, or train one step."), 6000)
        return True

    def _on_update(self, update):
        self.plots.add_update(update.steps, update.events)
        if update.autosaved:
            self.actions.recover.setEnabled(True)
        for ev in update.events:
            if isinstance(ev, FailedEvent):
                self.error(
                    self.tr("Training Diverged"),
                    arg(
                        self.tr("Training %1. The curves keep what they had; the model keeps its last good weights."),
                        ev.reason,
                    ),
                )

    def _on_run_finished(self, final):
        self.session.training = False
        self.plots.set_live(False)
        self.dirty = True
        self.session.kept_copy = self.controller.kept_copy
        if isinstance(final, FinishedEvent):
            self.session.keep_best(final.best_epoch, self.controller.last_best)
        if isinstance(final, FailedEvent) and final.epoch == 0:  # an error, not a divergence
            self.run_controls.show_failed()
            self.error(self.tr("Training Failed"), arg(self.tr("Training %1"), final.reason))
        if isinstance(final, FinishedEvent):
            test = (
                arg(self.tr("test accuracy %1%"), f"{final.test_acc * 100:.1f}")
                if final.test_acc is not None
                else self.tr("no test split")
            )
            how = self.tr("Stopped") if final.stopped else self.tr("Finished")
            self.show_status(arg(self.tr("%1: %2"), how, test), 10000)
        self._update_controls()
        self._on_hyper_changed()
        if self.model is not None and isinstance(final, FinishedEvent) and self.dataset is not None:
            self.browser.evaluate()
        self.training_finished.emit(final)

    # == classification =====================================================================
    def ask_classify(self):
        paths, _ = QFileDialog.getOpenFileNames(
            self, self.tr("Classify Images"), self._start_dir("last_dir"), IMAGE_FILTER
        )
        if paths:
            self.classify_paths(paths)

    def classify_paths(self, paths: list[str]):
        """The one way images are classified (menu, drop, Add Images)."""
        self.tabs.setCurrentWidget(self.classify_panel)
        self.session.classify_paths(paths)

    # == export =============================================================================
    def _ask_export(self, title: str, stem: str, suffix: str, filters: str) -> str:
        start = suggested_name(self._start_dir("last_export_dir"), stem, suffix)
        path, _ = QFileDialog.getSaveFileName(self, title, start, filters)
        if path:
            settings.write("last_export_dir", str(Path(path).parent))
        return path

    def _run_name(self) -> str:
        return self.model.name if self.model is not None and self.model.name else "training"

    def export_plots(self):
        path = self._ask_export("Export Plots", self._run_name(), ".png", "PNG image (*.png);;SVG drawing (*.svg)")
        if path:
            if not path.lower().endswith((".png", ".svg")):
                path += ".png"
            self._export(lambda: export_plots(self.plots, path), "Export Plots")

    def export_curves(self):
        path = self._ask_export("Export Curves", self._run_name(), ".csv", "CSV (*.csv)")
        if path:
            self._export(lambda: [path] if self.plots.write_csv(path) >= 0 else [], "Export Curves")

    def export_misclassified(self):
        ev = self.browser.ev
        stem = f"{self._run_name()} misclassified {ev.split if ev else ''}".strip()
        path = self._ask_export("Export Misclassified Images", stem, ".png", "PNG image (*.png)")
        if path:
            self._export(lambda: (export_misclassified(ev, path), [path])[1], "Export Misclassified Images")

    def export_onnx(self):
        if self.model is None:
            return
        path = self._ask_export("Export Model as ONNX", self._run_name(), ".onnx", "ONNX model (*.onnx)")
        if path:
            from engine.export import export_onnx

            model = self.model
            self._export(lambda: [str(export_onnx(model, path))], "Export Model as ONNX")

    def _export(self, fn, title: str) -> None:
        try:
            written = fn()
        except UserError as exc:
            self.error(title, str(exc))
            return
        except OSError as exc:
            self.error(title, arg(self.tr("%1: cannot write here (%2)"), exc.filename or "", exc.strerror or exc))
            return
        self.show_status(arg(self.tr("Exported %1"), ", ".join(written)), 8000)

    # == drag and drop ======================================================================
    def dragEnterEvent(self, event):
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        paths = [u.toLocalFile() for u in urls if u.isLocalFile()]
        if not paths:
            return
        _accept_as_copy(event)
        self.drop_zone.show_for(self._drop_text(paths))

    def _explaining(self, paths: list[str]) -> bool:
        """One image dropped while Internals ▸ Explain is shown: it is explained, not classified."""
        return (
            len(paths) == 1
            and is_image_file(paths[0])
            and self.tabs.currentWidget() is self.internals
            and self.internals.showing_explain()
        )

    def _drop_text(self, paths: list[str]) -> str:
        if self._explaining(paths) and self.model is not None:
            return "Drop to explain this image"
        if any(p.lower().endswith(CHECKPOINT_SUFFIXES) for p in paths):
            return "Drop to open the checkpoint"
        if len(paths) == 1 and os.path.isdir(paths[0]):
            return "Drop to open the dataset, or classify the folder's images"
        if self.model is None:
            return "Drop images — open or train a model first to classify them"
        return f"Drop to classify {len(paths)} item(s) with {self.model.name}"

    def dragMoveEvent(self, event):
        if event.mimeData().hasUrls():
            _accept_as_copy(event)

    def dragLeaveEvent(self, event):
        self.drop_zone.hide()
        super().dragLeaveEvent(event)

    def dropEvent(self, event):
        self.drop_zone.hide()
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        _accept_as_copy(event)
        self.open_paths(paths)

    def open_paths(self, paths: list[str]):
        """Route dropped paths through the session's one open path per kind (.py files: the
        user's own functions, to the Functions tab)."""
        if self._explaining(paths):
            self.internals.explain_file(paths[0])
            return
        py = [p for p in paths if p.lower().endswith(".py") and os.path.isfile(p)]
        if py:
            self.functions_view.add_files(py)
            self.tabs.setCurrentWidget(self.functions_view)
            paths = [p for p in paths if p not in py]
            if not paths:
                return
        if any(p.lower().endswith(CHECKPOINT_SUFFIXES) and os.path.isfile(p) for p in paths):
            if self.training:
                self.error(self.tr("Open Checkpoint"), self.tr("Stop the training run before opening a checkpoint."))
                return
            if self.dirty and not self._confirm_discard(self.tr("open a checkpoint")):
                return
        self.session.route_paths(paths, self.hyper.device_name())

    def open_from_launch(self, paths: list[str]) -> None:
        """Files given on the command line, or handed over by a second launch: this window comes
        to the front and opens them as if dropped."""
        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()
        paths = [p for p in paths if os.path.exists(p)]
        if paths:
            self.open_paths(paths)

    def _show_in_gallery(self, split: str, index: int) -> None:
        """A point clicked in the Embedding map: its image selected in the Predictions gallery."""
        self.tabs.setCurrentWidget(self.browser)
        self.browser.show_image(split, index)

    def _explain_in_internals(self, split: str, index: int) -> None:
        self.tabs.setCurrentWidget(self.internals)
        self.internals.explain_image(split, index)

    # == your own functions ==================================================================
    def ask_load_functions(self) -> None:
        start = settings.read("last_dir") or str(Path.home())
        files, _ = QFileDialog.getOpenFileNames(self, self.tr("Load Your Functions"), start, "Python files (*.py)")
        if files:
            settings.write("last_dir", str(Path(files[0]).parent))
            self.functions_view.load(files)
            self.tabs.setCurrentWidget(self.functions_view)

    def _train_with_functions(self, files: list, roles: str) -> None:
        """The Functions tab's "Train with These": engine "user" with these files, and a run starts
        at once with the panel's other settings (when a dataset is open and nothing trains)."""
        self.hyper.use_functions(files, roles)
        self.tabs.setCurrentWidget(self.plots)
        if self.training:
            self.show_status(self.tr("The next run trains with your functions (engine: user)"))
        elif self.dataset is None:
            self.show_status(self.tr("Open a dataset: the next run trains with your functions (engine: user)"))
        else:
            self.start_training()

    def ask_check_class(self) -> None:
        """A folder of submissions (one subfolder or .zip per student) → the Class view and a gradebook
        beside it (``SUBMISSIONS-gradebook``), as ``main.py check --class`` writes it."""
        root = QFileDialog.getExistingDirectory(
            self, self.tr("Check a Class: the folder of submissions"), self._start_dir("last_dir")
        )
        if not root:
            return
        from gui.views.class_check import ClassCheck

        out = str(Path(root).with_name(Path(root).name + "-gradebook"))
        self.class_check = ClassCheck(self.tasks, root, out, workers=max(1, min(2, os.cpu_count() or 1)), parent=self)
        self.class_check.show()
        self.class_check.start()

    def ask_import_run(self, path: str | None = None) -> int | None:
        """File ▸ Import a Run…: a course script's printed log or a CSV of per-epoch metrics becomes a
        run in the run store, shown in the Runs tab beside the studio's own."""
        from engine.runs.importer import import_run

        if path is None:
            start = settings.read("last_dir") or str(Path.home())
            path, _ = QFileDialog.getOpenFileName(
                self, self.tr("Import a Run"), start, self.tr("Logs and CSV files (*.log *.txt *.csv);;All files (*)")
            )
            if not path:
                return None
        store = self.controller.store()
        if store is None:
            self.error(self.tr("Import a Run"), arg(self.tr("Runs are not recorded: %1"), self.controller.store_error))
            return None
        try:
            run_id, n = import_run(store, path)
        except UserError as exc:
            self.error(self.tr("Import a Run"), str(exc))
            return None
        self.runs_view.refresh()
        self.runs_view.select_ids({run_id})
        self.tabs.setCurrentWidget(self.runs_view)
        self.show_status(arg(self.tr("Imported %1 as run #%2 (%3 epochs)"), Path(path).name, run_id, n))
        return run_id

    # == tools and help =====================================================================
    def choose_run_store(self, location: str | None = None) -> bool:
        """Where runs are recorded: a file or a database URL (empty: the default); remembered."""
        from engine.runs.store import RunStore, StoreError, default_location

        if location is None:
            text, ok = QInputDialog.getText(
                self,
                self.tr("Run Store"),
                arg(self.tr("Record runs in this file or database URL (empty: the default, %1):"), default_location()),
                text=self.controller.store_location or "",
            )
            if not ok:
                return False
            location = text.strip()
        try:
            RunStore(location or None).close()
        except StoreError as exc:
            self.error(self.tr("Run Store"), str(exc))
            return False
        settings.write("runs_db", location)
        self.controller.set_store(location or None)
        self.runs_view.refresh()
        self.show_status(arg(self.tr("Runs are recorded in %1"), location or default_location()))
        return True

    def gradient_check(self):
        dialog = GradcheckDialog(self, self.functions_view.files)
        if dialog.check_yours is not None:
            dialog.check_yours.clicked.connect(lambda: self._check_yours(dialog))
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()
        import shiboken6

        def show(results) -> None:  # the dialog may be closed (and deleted) before the check ends
            if shiboken6.isValid(dialog):
                dialog.set_results(results)

        self.tasks.run(run_gradcheck, on_done=show, label="Gradient check")
        self._gradcheck_dialog = dialog
        return dialog

    def _check_yours(self, dialog) -> None:
        """Gradient Check's "Check Yours": the Functions tab checks the loaded files again."""
        dialog.close()
        self.tabs.setCurrentWidget(self.functions_view)
        self.functions_view.recheck()

    def show_shortcuts(self):
        rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;&nbsp;{v}</td></tr>" for k, v in shortcut_rows(self.actions))
        box = QMessageBox(
            QMessageBox.Information, self.tr("Keyboard Shortcuts"), f"<table>{rows}</table>", QMessageBox.Ok, self
        )
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()

    def show_about(self):
        QMessageBox.about(
            self,
            self.tr("About Backprop Studio"),
            f"<h3>Backprop Studio {__version__}</h3><p>"
            + self.tr(
                "Train and inspect multilayer perceptrons whose every backward pass is written by hand — "
                "custom torch.autograd.Functions and a pure-NumPy engine."
            )
            + "</p><p>"
            + self.tr("Drop images on the window to classify them; drop a checkpoint to open it.")
            + "</p>",
        )

    def _invalid_settings(self) -> str:
        return arg(self.tr("Some hyperparameters are invalid: %1"), self.hyper.problem())

    def language_setting(self) -> str:
        return settings.read("language")

    def set_language(self, code: str) -> None:
        """View ▸ Language: remembered, and applied at the next launch (every view is built in it)."""
        if code == settings.read("language"):
            return
        settings.write("language", code)
        self.show_status(self.tr("The language changes at the next launch of Backprop Studio."), 8000)

    def changeEvent(self, event):
        if event.type() in (QEvent.PaletteChange, QEvent.ApplicationPaletteChange):
            retheme(self)  # the OS switched light/dark: the plots follow
        super().changeEvent(event)

    # == window state =======================================================================
    def _restore_window(self):
        geo = settings.read("geometry")
        if geo:
            self.restoreGeometry(geo)
            self._keep_on_screen()
        st = settings.read("window_state")
        if st:
            self.restoreState(st)
        self._saved_splitter = settings.read("splitter")

    def _keep_on_screen(self) -> None:
        """A window restored from a bigger screen (or a monitor since unplugged) fits this one."""
        if self.isMaximized() or self.isFullScreen():
            return
        avail = self.screen().availableGeometry()
        frame = self.frameGeometry()
        geo = self.geometry()
        extra_w, extra_h = frame.width() - geo.width(), frame.height() - geo.height()
        w = min(geo.width(), avail.width() - extra_w)
        h = min(geo.height(), avail.height() - extra_h)
        x = min(max(frame.x(), avail.x()), avail.right() - w - extra_w + 1)
        y = min(max(frame.y(), avail.y()), avail.bottom() - h - extra_h + 1)
        self.resize(w, h)
        self.move(x, y)

    def showEvent(self, event):
        super().showEvent(event)
        if self._saved_splitter:  # sizes only stick once the window has its real size
            state, self._saved_splitter = self._saved_splitter, b""
            QTimer.singleShot(0, lambda: self.splitter.restoreState(state))

    def closeEvent(self, event):
        if not self._confirm_close():
            event.ignore()
            return
        self.shutdown_workers()
        settings.write("last_model", self._reopenable_model())
        settings.write("geometry", bytes(self.saveGeometry()))
        settings.write("window_state", bytes(self.saveState()))
        settings.write("splitter", bytes(self.splitter.saveState()))
        event.accept()

    def _reopenable_model(self) -> str:
        """The file the open model can be reopened from at the next launch ("" if none): its own
        checkpoint, or the run store's copy of a finished run's weights."""
        s = self.session
        if s.model is None:
            return ""
        if s.checkpoint_path and not s.dirty and os.path.isfile(s.checkpoint_path):
            return str(s.checkpoint_path)
        if s.kept_copy and os.path.isfile(s.kept_copy):
            return str(s.kept_copy)
        return ""

    def reopen_last_model(self) -> bool:
        """Pick up where the user left off: the model open at the last close, with its curves."""
        path = settings.read("last_model")
        if not path or not os.path.isfile(path) or self.model is not None:
            return False
        self.open_checkpoint(path)
        return True

    def _confirm_close(self) -> bool:
        """Ask once, with the run paused meanwhile; stop it only when the answer is final."""
        running = self.training
        was_paused = self.controller.paused
        if running:
            self.controller.pause()  # nothing happens behind the question
        if not running and not (self.dirty and self.model is not None):
            return True
        kept = self.session.kept_copy
        if not running and kept and os.path.isfile(kept):  # kept in the run store: reopened next launch
            return True
        if running:
            text = self.tr(
                "A training run is in progress (paused while you decide). Stop it and quit?\n\n"
                "Save stops the run and saves the model first; Discard stops it and quits without saving."
            )
        else:
            text = self.tr("The trained model has not been saved. Save it before you quit?")
        answer = QMessageBox.question(
            self,
            self.tr("Training in Progress") if running else self.tr("Unsaved Model"),
            text,
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel,
            QMessageBox.Save,
        )
        path = self.checkpoint_path
        if answer == QMessageBox.Save and path is None:
            path = self.ask_save_path()  # asked before the run stops: cancelling leaves it running
            if not path:
                answer = QMessageBox.Cancel
        if answer not in (QMessageBox.Save, QMessageBox.Discard):
            if running and not was_paused:
                self.controller.resume()
            return False
        if running:
            self.controller.shutdown()
            self.session.training = False
        if answer == QMessageBox.Save:
            return self.session.save_to(path)
        return True

    def shutdown_workers(self, timeout_ms: int = 10000):
        """Stop the run and wait for every worker thread, so none outlives the window."""
        self.tasks.cancelled.set()  # first: long tasks give up while the run stops
        self.sweep_panel.shutdown(timeout_ms / 1000)
        self.controller.shutdown(timeout_ms)
        self.tasks.cancel_all(timeout_ms)
