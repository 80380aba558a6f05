"""The hyperparameter panel: every field of :class:`TrainConfig`, validated inline."""

from __future__ import annotations

import math
import sys

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.config import (
    ACTIVATIONS,
    ENGINES,
    INITS,
    INPUT_NORMS,
    LOSS_REDUCTIONS,
    MOMENTUM_OPTIMIZERS,
    OPTIMIZERS,
    PRECISIONS,
    PRESETS,
    TrainConfig,
    parameter_count,
    preset_config,
)
from engine.errors import UserError
from engine.model.build import available_devices
from gui.i18n import arg

ERROR_STYLE = "border: 1px solid #D55E00;"
MAX_LAYERS = 8
MAX_UNITS = 65536  # units per hidden layer


def _parse_float(text: str) -> float:
    value = float(text.strip())
    if not math.isfinite(value):
        raise ValueError
    return value


class FloatField(QLineEdit):
    """A line edit for a float in scientific or plain notation, with a rule checked on every edit."""

    def __init__(self, value: float, rule, parent=None):
        super().__init__(f"{value:g}", parent)
        self.rule = rule  # value -> error text or ""
        self.error = ""

    def value(self) -> float | None:
        try:
            v = _parse_float(self.text())
        except ValueError:
            self.error = f"“{self.text()}” is not a number"
            return None
        self.error = self.rule(v)
        return None if self.error else v


class LogSlider(QSlider):
    """A horizontal slider over log10(value), 1e-5 … 1, in steps of 0.05 decades."""

    LOW, HIGH, STEPS = -5.0, 0.0, 20

    def __init__(self, parent=None):
        super().__init__(Qt.Horizontal, parent)
        self.setRange(int(self.LOW * self.STEPS), int(self.HIGH * self.STEPS))

    def set_value(self, v: float) -> None:
        if v > 0:
            self.blockSignals(True)
            self.setValue(round(math.log10(v) * self.STEPS))
            self.blockSignals(False)

    def float_value(self) -> float:
        return float(f"{10 ** (self.value() / self.STEPS):.2g}")


class HyperparameterPanel(QWidget):
    """Emits ``changed`` on every edit; ``config()`` is None while a field is invalid."""

    changed = Signal()

    def __init__(self, config: TrainConfig, in_features: int = 1024, n_classes: int = 26, parent=None):
        super().__init__(parent)
        self.in_features, self.n_classes = in_features, n_classes
        self._building = True
        self.functions: list[str] = []  # the user's own ops (engine "user"), from the Functions tab
        self.function_roles = ""
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)

        self.layers_box = QVBoxLayout()
        self.layers_box.setSpacing(2)
        self.preset = QComboBox()
        self.preset.addItems(list(PRESETS))
        self.preset.setToolTip(self.tr("Start from a preset: every hyperparameter below is set from it"))
        self.preset.activated.connect(
            lambda _i: self.set_config(
                preset_config(
                    self.preset.currentText(),
                    engine=self.engine.currentText(),
                    seed=self.seed.value(),
                    device=self.device.currentText(),
                )
            )
        )
        form.addRow(self.tr("Preset"), self.preset)
        self.layer_spins: list[QSpinBox] = []
        self.add_layer_button = QPushButton(self.tr("+ Add layer"))
        self.add_layer_button.setToolTip(self.tr("Add a hidden layer"))
        self.add_layer_button.clicked.connect(
            lambda: self._add_layer(self.layer_spins[-1].value() if self.layer_spins else 64)
        )
        layers = QVBoxLayout()
        layers.addLayout(self.layers_box)
        layers.addWidget(self.add_layer_button)
        form.addRow(self.tr("Hidden layers"), layers)

        self.act = QComboBox()
        self.act.addItems(ACTIVATIONS)
        form.addRow(self.tr("Activation"), self.act)
        self.optim = QComboBox()
        self.optim.addItems(OPTIMIZERS)
        self.optim.setItemData(
            OPTIMIZERS.index("adam"), "torch.optim.Adam: weight decay added to the gradient (L2)", Qt.ToolTipRole
        )
        self.optim.setItemData(OPTIMIZERS.index("adamw"), "torch.optim.AdamW: decoupled weight decay", Qt.ToolTipRole)
        form.addRow(self.tr("Optimizer"), self.optim)
        self.lr = FloatField(config.lr, lambda v: "" if 0 < v <= 100 else "must be > 0 and ≤ 100")
        self.lr_slider = LogSlider()
        self.lr_slider.setToolTip(self.tr("Learning rate on a log scale (10⁻⁵ … 1)"))
        lr_row = QHBoxLayout()
        lr_row.addWidget(self.lr, 1)
        lr_row.addWidget(self.lr_slider, 2)
        form.addRow(self.tr("Learning rate"), lr_row)
        self.momentum = FloatField(config.momentum, lambda v: "" if 0 <= v < 1 else "must be in [0, 1)")
        self.momentum_label = QLabel(self.tr("Momentum"))
        form.addRow(self.momentum_label, self.momentum)
        self.weight_decay = FloatField(config.weight_decay, lambda v: "" if v >= 0 else "must be ≥ 0")
        form.addRow(self.tr("Weight decay"), self.weight_decay)
        self.batch_size = QSpinBox(minimum=1, maximum=65536)
        form.addRow(self.tr("Batch size"), self.batch_size)
        self.epochs = QSpinBox(minimum=1, maximum=100000)
        form.addRow(self.tr("Epochs"), self.epochs)
        self.val_interval = QSpinBox(minimum=1, maximum=10000)
        self.val_interval.setSuffix(self.tr(" epoch(s)"))
        form.addRow(self.tr("Validate every"), self.val_interval)
        self.engine = QComboBox()
        self.engine.addItems(ENGINES)
        self.engine.setItemData(0, "custom torch.autograd.Functions", Qt.ToolTipRole)
        self.engine.setItemData(1, "pure NumPy operators and optimizers", Qt.ToolTipRole)
        self.engine.setItemData(2, "your own Functions or operators (the Functions tab), in a worker", Qt.ToolTipRole)
        form.addRow(self.tr("Engine"), self.engine)
        self.init = QComboBox()
        self.init.addItems(INITS)
        self.init.setToolTip(
            self.tr(
                "he: He-normal into relu, Xavier elsewhere · xavier · normal: N(0, 1) as the letters course's "
                "torch.randn · uniform: U(±1/√fan_in), nn.Linear's default (the MNIST course's)"
            )
        )
        form.addRow(self.tr("Initialisation"), self.init)
        self.input_norm = QComboBox()
        self.input_norm.addItems(INPUT_NORMS)
        self.input_norm.setToolTip(
            self.tr(
                "How pixels become inputs · minus-one-one: (x/255 − 0.5)/0.5, the letters course's · zero-one: x/255 · "
                "standardize: (x/255 − mean)/std, the MNIST course's (0.1307, 0.3081), or the training split's own"
            )
        )
        form.addRow(self.tr("Input scaling"), self.input_norm)
        self.bias = QCheckBox(self.tr("biases"))
        self.bias.setToolTip(self.tr("Unchecked: a bias-free MLP (the MNIST course's network)"))
        form.addRow(self.tr("Layers have"), self.bias)
        self.precision = QComboBox()
        self.precision.addItems(PRECISIONS)
        self.precision.setToolTip(
            self.tr(
                "float32 · float64: as the MNIST course's NumPy loop computes (its lr 0.5 run rides out "
                "loss spikes that overflow float32); about twice as slow"
            )
        )
        form.addRow(self.tr("Precision"), self.precision)
        self._input_stats = (0.0, 0.0)  # a preset's or a checkpoint's mean and std (0: measured)
        self._fixed_split = self._locked = False
        self._threads = 1
        self.loss_reduction = QComboBox()
        self.loss_reduction.addItems(LOSS_REDUCTIONS)
        self.loss_reduction.setToolTip(
            self.tr(
                "mean: gradient of the batch-mean loss · "
                "sum: of the summed loss (the letters course's backward omits 1/N)"
            )
        )
        form.addRow(self.tr("Loss gradient"), self.loss_reduction)
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.seed.setToolTip(self.tr("Initial weights and batch order"))
        form.addRow(self.tr("Seed"), self.seed)
        self.val_split = QDoubleSpinBox(minimum=0.0, maximum=0.5, singleStep=0.05, decimals=2)
        self.val_split.setToolTip(
            self.tr("Validation fraction for data without a validation split of its own (0: none)")
        )
        form.addRow(self.tr("Validation split"), self.val_split)
        self.split_seed = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.split_seed.setToolTip(
            self.tr(
                "Seed of the train/val/test split for data without a fixed split; "
                "kept with the model so its test images are never training images"
            )
        )
        form.addRow(self.tr("Split seed"), self.split_seed)
        for w in (self.val_split, self.split_seed):
            w.setProperty("free_tip", w.toolTip())
        self.device = QComboBox()
        self.device.addItem("cpu")  # and cuda / mps once torch is imported: see refresh_devices
        self._wanted_device = "cpu"
        form.addRow(self.tr("Device"), self.device)

        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #D55E00;")
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(form)
        outer.addWidget(self.summary_label)
        outer.addWidget(self.error_label)
        outer.addStretch()

        for w in (
            self.act,
            self.optim,
            self.engine,
            self.device,
            self.init,
            self.loss_reduction,
            self.input_norm,
            self.precision,
        ):
            w.currentIndexChanged.connect(self._on_edit)
        self.bias.toggled.connect(self._on_edit)
        self.val_split.valueChanged.connect(self._on_edit)
        for w in (self.lr, self.momentum, self.weight_decay):
            w.textChanged.connect(self._on_edit)
        for w in (self.batch_size, self.epochs, self.val_interval, self.seed, self.split_seed):
            w.valueChanged.connect(self._on_edit)
        self.lr.textChanged.connect(self._on_lr_text)
        self.lr_slider.valueChanged.connect(lambda _: self.lr.setText(f"{self.lr_slider.float_value():g}"))
        self.set_config(config)
        self._building = False
        self._on_edit()
        if "torch" in sys.modules:  # already imported (a test, a second window): list them now
            self.refresh_devices()

    # -- layers --------------------------------------------------------------------
    def _add_layer(self, size: int) -> None:
        if len(self.layer_spins) >= MAX_LAYERS:
            return
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        # The spin box accepts any count the user types; config() says why one is refused,
        # rather than the box silently reverting 0 or clamping 999999.
        spin = QSpinBox(minimum=0, maximum=9_999_999)
        spin.setValue(size)
        spin.setPrefix(f"h{len(self.layer_spins) + 1}: ")
        spin.valueChanged.connect(self._on_edit)
        remove = QToolButton(text="−")
        remove.setToolTip(self.tr("Remove this layer"))
        remove.clicked.connect(lambda: self._remove_layer(row, spin))
        h.addWidget(spin, 1)
        h.addWidget(remove)
        self.layers_box.addWidget(row)
        self.layer_spins.append(spin)
        self._on_edit()

    def _remove_layer(self, row: QWidget, spin: QSpinBox) -> None:
        if len(self.layer_spins) <= 1:
            return
        self.layer_spins.remove(spin)
        row.hide()
        row.setParent(None)
        row.deleteLater()
        for i, s in enumerate(self.layer_spins):
            s.setPrefix(f"h{i + 1}: ")
        self._on_edit()

    # -- values --------------------------------------------------------------------
    def set_config(self, c: TrainConfig) -> None:
        was = self._building
        self._building = True
        while self.layer_spins:
            row = self.layer_spins.pop().parentWidget()
            row.hide()
            row.setParent(None)
            row.deleteLater()
        for h in c.hidden:
            self._add_layer(int(h))
        self.act.setCurrentText(c.act)
        self.optim.setCurrentText(c.optim)
        self.lr.setText(f"{c.lr:g}")
        self.lr_slider.set_value(c.lr)  # the text may not have changed, so no signal moved it
        self.momentum.setText(f"{c.momentum:g}")
        self.weight_decay.setText(f"{c.weight_decay:g}")
        self.batch_size.setValue(c.batch_size)
        self.epochs.setValue(c.epochs)
        self.val_interval.setValue(c.val_interval)
        self.engine.setCurrentText(c.engine)
        if c.functions:  # a config without them (a preset, another run) keeps the ones loaded
            self.functions, self.function_roles = list(c.functions), c.function_roles
        self.seed.setValue(c.seed)
        self.init.setCurrentText(c.init)
        self.loss_reduction.setCurrentText(c.loss_reduction)
        self.input_norm.setCurrentText(c.input_norm)
        self._input_stats = (c.input_mean, c.input_std)
        self.bias.setChecked(c.bias)
        self.precision.setCurrentText(c.precision)
        self._threads = c.threads
        self.val_split.setValue(c.val_split)
        self.split_seed.setValue(c.split_seed)
        if c.preset in PRESETS:
            self.preset.setCurrentText(c.preset)
        self._wanted_device = c.device
        if self.device.findText(c.device) >= 0:
            self.device.setCurrentText(c.device)
        self._building = was
        self._on_edit()

    def problem(self) -> str:
        """What is wrong with the settings as entered (empty when :meth:`config` gives one)."""
        return self.error_label.text()

    def device_name(self) -> str:
        return self.device.currentText()

    def use_functions(self, files: list, roles: str) -> None:
        """Train with the user's own Functions (engine "user") from the next run."""
        self.functions, self.function_roles = list(files), roles
        self.engine.setCurrentText("user")

    def config(self) -> TrainConfig | None:
        """The panel's values as a validated config, or None (the reason is shown inline)."""
        fields = {"learning rate": self.lr, "momentum": self.momentum, "weight decay": self.weight_decay}
        values = {}
        errors = []
        for name, f in fields.items():
            v = f.value()
            f.setStyleSheet(ERROR_STYLE if f.error else "")
            f.setToolTip(f.error)
            if f.error:
                errors.append(f"{name.capitalize()}: {f.error}.")
            values[name] = v
        for i, spin in enumerate(self.layer_spins):
            bad = not 1 <= spin.value() <= MAX_UNITS
            spin.setStyleSheet(ERROR_STYLE if bad else "")
            spin.setToolTip(arg(self.tr("must be 1 to %1 units"), f"{MAX_UNITS:,}") if bad else "")
            if bad:
                errors.append(
                    arg(
                        self.tr("Hidden layer %1: %2 units — a layer has 1 to %3 units."),
                        i + 1,
                        f"{spin.value():,}",
                        f"{MAX_UNITS:,}",
                    )
                )
        if errors:
            self.error_label.setText(" ".join(errors))
            return None
        c = TrainConfig(
            hidden=[s.value() for s in self.layer_spins],
            act=self.act.currentText(),
            optim=self.optim.currentText(),
            lr=values["learning rate"],
            momentum=values["momentum"],
            weight_decay=values["weight decay"],
            batch_size=self.batch_size.value(),
            epochs=self.epochs.value(),
            val_interval=self.val_interval.value(),
            engine=self.engine.currentText(),
            seed=self.seed.value(),
            device=self.device.currentText(),
            init=self.init.currentText(),
            loss_reduction=self.loss_reduction.currentText(),
            input_norm=self.input_norm.currentText(),
            input_mean=self._input_stats[0],
            input_std=self._input_stats[1],
            bias=self.bias.isChecked(),
            threads=self._threads,
            precision=self.precision.currentText(),
            val_split=round(self.val_split.value(), 4),
            split_seed=self.split_seed.value(),
            preset=self.preset.currentText(),
            functions=list(self.functions),
            function_roles=self.function_roles,
        )
        try:
            c = c.validate()
        except UserError as exc:
            self.error_label.setText(str(exc))
            return None
        self.error_label.setText("")
        return c

    def set_fixed_split(self, fixed: bool, name: str = "") -> None:
        """Data whose split is its own (the course's train/validation/test files, the built-in
        letters): the validation split and split seed would be ignored, so they cannot be edited."""
        self._fixed_split = fixed
        for w in (self.val_split, self.split_seed):
            w.setEnabled(not fixed and not self._locked)
            w.setToolTip(
                arg(
                    self.tr("%1 comes with its own train/validation/test split: nothing to choose"),
                    name or self.tr("This dataset"),
                )
                if fixed
                else w.property("free_tip") or w.toolTip()
            )

    def set_shape(self, in_features: int, n_classes: int) -> None:
        self.in_features, self.n_classes = in_features, n_classes
        self._on_edit()

    def set_locked(self, locked: bool) -> None:
        """While a run trains nothing here can change."""
        self._locked = locked
        for w in self.findChildren(QWidget):
            if w is not self.summary_label and w is not self.error_label:
                w.setEnabled(not locked)
        if self._fixed_split:
            self.set_fixed_split(True)
        if not locked:
            self._on_edit()

    def _on_lr_text(self, text: str) -> None:
        try:
            self.lr_slider.set_value(_parse_float(text))
        except ValueError:
            pass

    def refresh_devices(self) -> None:
        """The devices torch sees (cpu, cuda, mps). Listing them imports torch, so the window
        calls this once torch is imported in the background, not while it opens; the device of
        the configuration set meanwhile is then chosen if it exists."""
        found = available_devices()
        if found == [self.device.itemText(i) for i in range(self.device.count())]:
            return
        want = self._wanted_device if self._wanted_device in found else self.device.currentText()
        self.device.blockSignals(True)
        self.device.clear()
        self.device.addItems(found)
        self.device.setCurrentText(want if want in found else "cpu")
        self.device.blockSignals(False)
        self._on_edit()

    def _on_edit(self, *_):
        if self._building:
            return
        is_momentum = self.optim.currentText() in MOMENTUM_OPTIMIZERS
        self.momentum.setVisible(is_momentum)
        self.momentum_label.setVisible(is_momentum)
        is_torch = self.engine.currentText() == "torch"
        self.device.setEnabled(is_torch and self.device.count() > 1)
        if not is_torch:
            self.device.setCurrentText("cpu")
        self.add_layer_button.setEnabled(len(self.layer_spins) < MAX_LAYERS)
        for spin in self.layer_spins:  # an MLP keeps at least one hidden layer
            spin.parentWidget().findChild(QToolButton).setEnabled(len(self.layer_spins) > 1)
        hidden = [s.value() for s in self.layer_spins]
        n = parameter_count(self.in_features, hidden, self.n_classes)
        arch = " → ".join(map(str, [self.in_features, *hidden, self.n_classes]))
        self.summary_label.setText(
            arg(self.tr("<b>%1</b>, %2<br>%3 parameters"), arch, self.act.currentText(), f"{n:,}")
        )
        self.config()
        self.changed.emit()
