from __future__ import annotations

from PIL import Image
from PySide6.QtWidgets import QToolButton

from engine.config import TrainConfig
from gui import settings
from gui.views.hyperparameters import HyperparameterPanel


def test_invalid_values_are_refused_inline(qtbot):
    panel = HyperparameterPanel(TrainConfig())
    qtbot.addWidget(panel)
    panel.lr.setText("0")
    assert panel.config() is None
    assert "Learning rate: must be > 0" in panel.error_label.text()
    assert "border" in panel.lr.styleSheet()
    panel.lr.setText("abc")
    assert panel.config() is None and "“abc” is not a number" in panel.error_label.text()
    panel.lr.setText("1e-3")
    c = panel.config()
    assert c is not None and c.lr == 1e-3 and panel.error_label.text() == ""
    assert panel.lr_slider.value() == -60  # log10(1e-3) in 1/20-decade steps
    panel.weight_decay.setText("-1")
    assert panel.config() is None and "Weight decay: must be ≥ 0" in panel.error_label.text()


def test_layers_summary_and_parameter_count(qtbot):
    panel = HyperparameterPanel(TrainConfig(hidden=[64]), 1024, 26)
    qtbot.addWidget(panel)
    assert "1024 → 64 → 26" in panel.summary_label.text() and "67,290 parameters" in panel.summary_label.text()
    panel.add_layer_button.click()
    panel.layer_spins[1].setValue(32)
    assert panel.config().hidden == [64, 32]
    assert "1024 → 64 → 32 → 26" in panel.summary_label.text()
    first_row_remove = panel.layer_spins[0].parentWidget().findChild(QToolButton)
    first_row_remove.click()
    assert panel.config().hidden == [32] and panel.layer_spins[0].prefix() == "h1: "
    assert not panel.layer_spins[0].parentWidget().findChild(QToolButton).isEnabled()  # the last one stays


def test_momentum_only_where_it_applies(qtbot):
    panel = HyperparameterPanel(TrainConfig(optim="adam"))
    qtbot.addWidget(panel)
    panel.show()
    assert panel.momentum.isHidden()
    panel.optim.setCurrentText("sgd")
    assert not panel.momentum.isHidden()
    panel.optim.setCurrentText("rmsprop")
    assert not panel.momentum.isHidden()
    panel.engine.setCurrentText("numpy")
    assert panel.config().device == "cpu" and not panel.device.isEnabled()


def test_values_persist_between_launches(window, qtbot, small_letters):
    from gui.main_window import MainWindow

    window.hyper.set_config(TrainConfig(hidden=[40, 20], optim="rmsprop", lr=0.01, epochs=7, engine="numpy"))
    assert settings.read("hyperparameters")["hidden"] == [40, 20]
    second = MainWindow(load_default=False)
    qtbot.addWidget(second)
    c = second.hyper.config()
    assert (c.hidden, c.optim, c.lr, c.epochs, c.engine) == ([40, 20], "rmsprop", 0.01, 7, "numpy")


def test_invalid_panel_blocks_start(window):
    window.hyper.lr.setText("-5")
    assert not window.run_controls.start_button.isEnabled()
    window.start_training()
    assert not window.training and "Some hyperparameters are invalid" in window._last_error


def test_the_mnist_course_preset_fills_input_scaling_and_bias_and_a_click_changes_them(qtbot):
    from PySide6.QtCore import QPoint, Qt

    panel = HyperparameterPanel(TrainConfig(), 784, 10)
    qtbot.addWidget(panel)
    panel.show()
    i = panel.preset.findText("mnist-course")
    panel.preset.setCurrentIndex(i)
    panel.preset.activated.emit(i)  # what choosing it in the open list sends
    c = panel.config()
    assert (c.input_norm, c.input_mean, c.input_std, c.bias, c.init, c.precision) == (
        "standardize",
        0.1307,
        0.3081,
        False,
        "uniform",
        "float64",
    )
    assert panel.precision.currentText() == "float64"
    assert not panel.bias.isChecked() and panel.input_norm.currentText() == "standardize"
    qtbot.mouseClick(panel.bias, Qt.LeftButton, pos=QPoint(8, panel.bias.height() // 2))  # on its box
    assert panel.config().bias is True
    panel.input_norm.setCurrentText("zero-one")
    assert panel.config().input_norm == "zero-one"
    panel.precision.setCurrentText("float32")
    assert panel.config().precision == "float32"


def test_the_split_cannot_be_edited_for_data_with_its_own_split(window, qtbot, tmp_path):
    from tests.conftest import write_course_layout

    course = write_course_layout(tmp_path / "course", (26, 6, 6))
    with qtbot.waitSignal(window.dataset_loaded, timeout=60000):
        window.open_dataset(str(course))
    assert not window.hyper.val_split.isEnabled() and "its own" in window.hyper.val_split.toolTip()
    folders = tmp_path / "folders"
    for c in "ab":
        (folders / c).mkdir(parents=True)
        for i in range(12):
            Image.new("L", (8, 8), 40 * i if c == "a" else 255 - 10 * i).save(folders / c / f"{i}.png")
    with qtbot.waitSignal(window.dataset_loaded, timeout=60000):
        window.open_dataset(str(folders))
    assert window.hyper.val_split.isEnabled() and window.hyper.split_seed.isEnabled()


def test_hidden_size_out_of_range_says_why(window):
    spin = window.hyper.layer_spins[0]
    spin.setValue(0)
    assert window.hyper.config() is None and "1 to 65,536" in window.hyper.error_label.text()
    assert spin.value() == 0  # not silently reverted
    spin.setValue(999999)
    assert window.hyper.config() is None and "999,999" in window.hyper.error_label.text()
    spin.setValue(64)
    assert window.hyper.config() is not None
