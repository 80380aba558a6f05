"""Run controls: Train, Pause, Stop, one step, reset weights, the run's name, progress with ETA,
and the text made from the run's events. Receives the run controller and the session."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from engine.training.run import EpochEvent, EvalEvent, FailedEvent, FinishedEvent, WarningEvent, format_duration
from gui.i18n import arg
from gui.runner import RunController, RunStart
from gui.session import Session
from gui.widgets.live_text import LiveText
from gui.worker import Update


def finished_text(ev: FinishedEvent) -> str:
    """ "Finished epoch 10", "Stopped after epoch 27", "Stopped at epoch 28, step 3/150 (epoch not finished)"."""
    where = ev.where()
    return where[0].upper() + where[1:]


class RunControls(QWidget):
    train_requested = Signal()
    step_requested = Signal()
    reset_requested = Signal()

    def __init__(self, controller: RunController, session: Session, parent=None):
        super().__init__(parent)
        self.controller, self.session = controller, session
        icons = self.style()
        self.start_button = QPushButton(icons.standardIcon(QStyle.SP_MediaPlay), self.tr("Train"))
        self.start_button.setToolTip(self.tr("Start training a new model (Ctrl+R, F5)"))
        self.pause_button = QPushButton(icons.standardIcon(QStyle.SP_MediaPause), "Pause")
        self.pause_button.setToolTip(self.tr("Pause or resume (Space)"))
        self.stop_button = QPushButton(icons.standardIcon(QStyle.SP_MediaStop), self.tr("Stop"))
        self.stop_button.setToolTip(self.tr("Stop after the current step (Esc)"))
        self.step_button = QPushButton(icons.standardIcon(QStyle.SP_MediaSkipForward), self.tr("One step"))
        self.step_button.setToolTip(self.tr("Train the open model for exactly one step, then stop (Ctrl+T)"))
        self.reset_button = QPushButton(icons.standardIcon(QStyle.SP_BrowserReload), self.tr("Reset weights"))
        self.reset_button.setToolTip(self.tr("A fresh, untrained model from the hyperparameters (Ctrl+Shift+T)"))
        self.start_button.clicked.connect(self.train_requested)
        self.pause_button.clicked.connect(controller.toggle_pause)
        self.stop_button.clicked.connect(controller.stop)
        self.step_button.clicked.connect(self.step_requested)
        self.reset_button.clicked.connect(self.reset_requested)
        self.name = QLineEdit()
        self.name.setPlaceholderText(self.tr("run name (made from its settings if empty)"))
        self.name.setToolTip(self.tr("The run's name: shown in legends, saved in its checkpoint"))
        self.name.editingFinished.connect(lambda: session.rename(self.name.text().strip()))
        self.progress = QProgressBar()
        self.progress.setFormat("%p%")
        self.progress_label = LiveText(self.tr("Ready."), lines=2)  # changes with every update: no relayout
        self._progress_text = self.progress_label.text()
        self._progress_for: str | None = None  # the model the progress line is about
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextFormat(Qt.RichText)
        # Room for the usual lines from the start (progress: speed and ETA; result: validation, best,
        # test — wrapped in a laptop's narrow panel): the buttons above do not move as they come and go.
        self.result_label.setMinimumHeight(3 * self.result_label.fontMetrics().lineSpacing() + 2)
        self.result_label.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.start_button, 0, 0)
        grid.addWidget(self.pause_button, 0, 1)
        grid.addWidget(self.stop_button, 0, 2)
        grid.addWidget(self.step_button, 1, 0, 1, 1)
        grid.addWidget(self.reset_button, 1, 1, 1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(self.tr("<b>Run</b>")))
        layout.addWidget(self.name)
        layout.addLayout(grid)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.result_label)
        self._steps_done = 0
        self._info: RunStart | None = None
        controller.started.connect(self._on_started)
        controller.updated.connect(self._on_update)
        controller.state_changed.connect(self.update_buttons)
        session.model_changed.connect(self._on_model_changed)
        session.state_changed.connect(self._on_state_changed)
        self.can_start = True
        self._was_running = False
        self.update_buttons()

    # -- state -----------------------------------------------------------------------
    def allow_start(self, allowed: bool, why_not: str = "") -> None:
        """Whether Start may be pressed (the hyperparameters are valid), and if not, why."""
        self.can_start = allowed
        self.start_button.setToolTip(self.tr("Start training a new model (Ctrl+R, F5)") if allowed else why_not)
        self.update_buttons()

    def run_name(self) -> str:
        """The name the user typed for the next run (empty: one is made from its settings)."""
        return self.name.text().strip()

    def show_failed(self) -> None:
        self._show_progress(self.tr("Failed."))

    def _show_progress(self, text: str | None = None) -> None:
        """The progress line (``text``, or the last one again). While paused, "Paused" replaces the
        speed and ETA line (a paused run has no ETA)."""
        if text is not None:
            self._progress_text = text
        if self.controller.paused:
            where = self._progress_text.split("\n")[0]
            self.progress_label.setText(where + "\n" + self.tr("Paused — Space resumes."))
        else:
            self.progress_label.setText(self._progress_text)

    def update_buttons(self) -> None:
        running, paused = self.controller.running, self.controller.paused
        has_data = self.session.dataset is not None
        self.start_button.setEnabled(not running and has_data and self.can_start)
        self.step_button.setEnabled(not running and has_data and self.can_start)
        self.reset_button.setEnabled(not running and has_data and self.can_start)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.name.setEnabled(True)
        if running and not self._was_running:
            # Train was disabled under the focus, which fell to the name field: Space would then
            # replace the run's name instead of pausing. Pause takes the focus instead.
            self.pause_button.setFocus(Qt.OtherFocusReason)
        self._was_running = running
        self.pause_button.setText(self.tr("Resume") if paused else self.tr("Pause"))
        self.pause_button.setIcon(self.style().standardIcon(QStyle.SP_MediaPlay if paused else QStyle.SP_MediaPause))
        self._show_progress()

    def _on_model_changed(self, model) -> None:
        self.name.setText(model.name if model is not None else "")
        if not self.controller.running and (model is None or model.name != self._progress_for):
            # another model is open: the last run's "Finished epoch 50 in …" is not about it
            self._progress_for = None
            self.progress.setValue(0)
            self._show_progress("")
        if model is not None and not self.controller.running:
            h = model.history
            test = arg(self.tr(", test accuracy %1%"), f"{h.test_acc * 100:.1f}") if h.test_acc is not None else ""
            arch = model.config.summary(model.norm_size[0] * model.norm_size[1], len(model.classes))
            notes = "".join(f"<br><i>{n}</i>" for n in model.notes)
            trained = arg(self.tr("trained %1"), h.where()) if h.epoch or h.position else self.tr("untrained")
            self.result_label.setText(arg(self.tr("<b>%1</b>: %2, %3%4.%5"), model.name, arch, trained, test, notes))

    def _on_state_changed(self) -> None:
        m = self.session.model
        if m is not None and self.name.text() != m.name and not self.name.hasFocus():
            self.name.setText(m.name)

    # -- events ----------------------------------------------------------------------
    def _on_started(self, info: RunStart) -> None:
        self._info, self._steps_done = info, 0
        self._progress_for = info.model.name
        # the whole run's progress: a resumed run starts where the earlier part left it
        self.progress.setRange(0, info.start_step + info.total_steps)
        self.progress.setValue(info.start_step)
        self.result_label.setText("")
        h, c = info.run.history, info.run.config
        if info.resume and (h.epoch or h.position):
            at = h.position
            start = (
                arg(self.tr("epoch %1, step %2"), at.epoch, at.step + 1)
                if at
                else arg(self.tr("epoch %1"), h.epochs_completed + 1)
            )
            self._show_progress(arg(self.tr("Resuming at %1, to epoch %2…"), start, c.epochs))
        else:
            self._show_progress(self.tr("Starting…"))

    def _on_update(self, update: Update) -> None:
        info = self._info
        if update.steps and info is not None:
            last = update.steps[-1]
            self._steps_done += len(update.steps)
            self.progress.setValue(min(info.start_step + self._steps_done, self.progress.maximum()))
            rate = last.samples_per_sec
            bs = info.run.config.batch_size
            eta_epoch = (last.steps_per_epoch - last.step) * bs / max(rate, 1e-9)
            eta_run = (info.total_steps - self._steps_done) * bs / max(rate, 1e-9)
            self._show_progress(
                arg(
                    self.tr("Epoch %1/%2 · step %3/%4\n%5 samples/s · ETA epoch %6 · run %7"),
                    last.epoch,
                    info.run.config.epochs,
                    last.step,
                    last.steps_per_epoch,
                    f"{rate:,.0f}",
                    format_duration(eta_epoch),
                    format_duration(eta_run),
                )
            )
        for ev in update.events:
            if isinstance(ev, EvalEvent):
                self.result_label.setText(
                    arg(
                        self.tr("Validation: loss %1, accuracy %2% (best %3% at epoch %4)"),
                        f"{ev.val_loss:.4f}",
                        f"{ev.val_acc * 100:.1f}",
                        f"{ev.best_val_acc * 100:.1f}",
                        ev.best_epoch,
                    )
                )
            elif isinstance(ev, EpochEvent) and info is not None and not len(info.run.dataset.val):
                self.result_label.setText(
                    arg(self.tr("Train: loss %1, accuracy %2%"), f"{ev.train_loss:.4f}", f"{ev.train_acc * 100:.1f}")
                )
            elif isinstance(ev, WarningEvent):
                self.result_label.setText(arg(self.tr("<b>Warning</b>: %1"), ev.message))
            elif isinstance(ev, FinishedEvent):
                self._on_finished(ev)
            elif isinstance(ev, FailedEvent):
                self._show_progress(arg(self.tr("Failed: %1."), ev.reason))

    def _on_finished(self, ev: FinishedEvent) -> None:
        test = (
            arg(self.tr("test accuracy %1%"), f"{ev.test_acc * 100:.1f}")
            if ev.test_acc is not None
            else self.tr("no test split")
        )
        how = self.tr("Stopped") if ev.stopped else self.tr("Finished")
        self._show_progress(arg(self.tr("%1 in %2."), finished_text(ev), format_duration(ev.elapsed)))
        if self._info is not None and self._info.one_step:
            self._show_progress(arg(self.tr("One step: %1."), finished_text(ev).lower()))
        text = self.result_label.text()
        self.result_label.setText((text + "<br>" if text else "") + arg(self.tr("<b>%1</b>: %2."), how, test))
