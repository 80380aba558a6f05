"""The menu bar and its keyboard shortcuts; the Help ▸ Keyboard Shortcuts list is made from it."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu

from gui import i18n

# the tabs' titles, in the main window's translation context (where the tabs are made)
VIEWS = [
    QT_TRANSLATE_NOOP("MainWindow", "Training"),
    QT_TRANSLATE_NOOP("MainWindow", "Predictions"),
    QT_TRANSLATE_NOOP("MainWindow", "Classify"),
    QT_TRANSLATE_NOOP("MainWindow", "Dataset"),
    QT_TRANSLATE_NOOP("MainWindow", "Weights"),
    QT_TRANSLATE_NOOP("MainWindow", "Runs"),
    QT_TRANSLATE_NOOP("MainWindow", "Sweep"),
    QT_TRANSLATE_NOOP("MainWindow", "Functions"),
    QT_TRANSLATE_NOOP("MainWindow", "Internals"),
]


def view_name(name: str) -> str:
    return QCoreApplication.translate("MainWindow", name)


@dataclass
class Actions:
    open_ckpt: QAction
    recent: QMenu
    save: QAction
    save_as: QAction
    recover: QAction
    open_data: QAction
    builtin: QAction
    load_functions: QAction
    check_class: QAction
    import_run: QAction
    classify: QAction
    export_plots: QAction
    export_curves: QAction
    export_sheet: QAction
    export_onnx: QAction
    quit: QAction
    start: QAction
    resume: QAction
    one_step: QAction
    reset: QAction
    pause: QAction
    stop: QAction
    evaluate: QAction
    use_best: QAction
    new_sweep: QAction
    log: QAction
    legends: QAction
    clear_previous: QAction
    gradcheck: QAction
    shortcuts: QAction
    about: QAction


def _action(window, menu, text, slot, shortcut=None, tip="", checkable=False) -> QAction:
    act = QAction(text, window)
    if shortcut:
        keys = shortcut if isinstance(shortcut, list) else [shortcut]
        act.setShortcuts([QKeySequence(k) for k in keys])
    act.setStatusTip(tip)
    act.setToolTip(tip or text.replace("&", "").rstrip("…"))
    act.setCheckable(checkable)
    # triggered(bool) would land in a slot's optional parameter: only a checkable item passes it on
    if checkable:
        act.triggered.connect(lambda on: slot(on))
    else:
        act.triggered.connect(lambda: slot())
    menu.addAction(act)
    return act


def build_menus(w) -> Actions:
    """Every menu of the main window ``w``; each item calls one of its methods."""
    mb = w.menuBar()
    f = mb.addMenu(QCoreApplication.translate("Menus", "&File"))
    open_ckpt = _action(
        w, f, QCoreApplication.translate("Menus", "&Open Checkpoint…"), w.ask_open_checkpoint, QKeySequence.Open
    )
    recent = f.addMenu(QCoreApplication.translate("Menus", "Open &Recent"))
    save = _action(w, f, QCoreApplication.translate("Menus", "&Save Checkpoint"), w.save, QKeySequence.Save)
    save_as = _action(w, f, QCoreApplication.translate("Menus", "Save Checkpoint &As…"), w.save_as, "Ctrl+Shift+S")
    recover = _action(
        w,
        f,
        QCoreApplication.translate("Menus", "Recover Autosaved Model"),
        w.recover_autosave,
        tip=QCoreApplication.translate("Menus", "The best-validation weights of the last run"),
    )
    f.addSeparator()
    open_data = _action(w, f, QCoreApplication.translate("Menus", "Open &Dataset…"), w.ask_open_dataset, "Ctrl+D")
    builtin = _action(
        w, f, QCoreApplication.translate("Menus", "Use &Built-in Letters"), lambda: w.open_dataset("builtin")
    )
    load_functions = _action(
        w,
        f,
        QCoreApplication.translate("Menus", "Load Your &Functions…"),
        w.ask_load_functions,
        "Ctrl+Shift+F",
        QCoreApplication.translate("Menus", "Your own backward passes, to check and train"),
    )
    check_class = _action(
        w,
        f,
        QCoreApplication.translate("Menus", "Check a &Class…"),
        w.ask_check_class,
        tip=QCoreApplication.translate(
            "Menus", "Every student's functions in a folder of submissions, checked, as a gradebook (for teachers)"
        ),
    )
    import_run = _action(
        w,
        f,
        QCoreApplication.translate("Menus", "&Import a Run…"),
        w.ask_import_run,
        tip=QCoreApplication.translate(
            "Menus", "A run made elsewhere, from its printed log or a CSV of per-epoch metrics, into the run store"
        ),
    )
    f.addSeparator()
    classify = _action(w, f, QCoreApplication.translate("Menus", "&Classify Images…"), w.ask_classify, "Ctrl+I")
    ex = f.addMenu(QCoreApplication.translate("Menus", "&Export"))
    export_plots = _action(
        w, ex, QCoreApplication.translate("Menus", "&Plots as PNG or SVG…"), w.export_plots, "Ctrl+Shift+E"
    )
    export_curves = _action(w, ex, QCoreApplication.translate("Menus", "&Curves as CSV…"), w.export_curves)
    export_sheet = _action(
        w, ex, QCoreApplication.translate("Menus", "&Misclassified Images as Contact Sheet…"), w.export_misclassified
    )
    export_onnx = _action(
        w,
        ex,
        QCoreApplication.translate("Menus", "Model as &ONNX…"),
        w.export_onnx,
        tip=QCoreApplication.translate("Menus", "For Netron and onnxruntime"),
    )
    f.addSeparator()
    quit_ = _action(w, f, QCoreApplication.translate("Menus", "&Quit"), w.close, QKeySequence.Quit)

    t = mb.addMenu(QCoreApplication.translate("Menus", "&Train"))
    start = _action(
        w, t, QCoreApplication.translate("Menus", "&Start Training"), lambda: w.start_training(), ["Ctrl+R", "F5"]
    )
    resume = _action(
        w,
        t,
        QCoreApplication.translate("Menus", "&Resume Training"),
        lambda: w.start_training(resume=True),
        "Ctrl+Shift+R",
        QCoreApplication.translate("Menus", "Continue training the open model"),
    )
    one_step = _action(
        w,
        t,
        QCoreApplication.translate("Menus", "Train &One Step"),
        w.train_one_step,
        "Ctrl+T",
        QCoreApplication.translate("Menus", "Train the open model for one step"),
    )
    reset = _action(
        w,
        t,
        QCoreApplication.translate("Menus", "Reset &Weights"),
        w.reset_weights,
        "Ctrl+Shift+T",
        QCoreApplication.translate("Menus", "A fresh untrained model"),
    )
    pause = _action(w, t, QCoreApplication.translate("Menus", "&Pause / Resume"), w.controller.toggle_pause, "Space")
    stop = _action(w, t, QCoreApplication.translate("Menus", "S&top"), w.controller.stop, "Esc")
    t.addSeparator()
    use_best = _action(
        w,
        t,
        QCoreApplication.translate("Menus", "Use &Best-Validation Weights"),
        lambda on: w.use_best_weights(on),
        "Ctrl+B",
        QCoreApplication.translate(
            "Menus", "Predictions, Classify, Explain and Save use the weights of the run's best validation epoch"
        ),
        checkable=True,
    )
    evaluate = _action(
        w,
        t,
        QCoreApplication.translate("Menus", "&Evaluate Model"),
        w.browser.evaluate,
        "Ctrl+E",
        QCoreApplication.translate("Menus", "Evaluate on the chosen split"),
    )
    t.addSeparator()
    new_sweep = _action(
        w,
        t,
        QCoreApplication.translate("Menus", "New S&weep…"),
        w.new_sweep,
        "Ctrl+Shift+W",
        QCoreApplication.translate("Menus", "Many configurations × seeds on worker processes"),
    )

    v = mb.addMenu(QCoreApplication.translate("Menus", "&View"))
    log = _action(
        w,
        v,
        QCoreApplication.translate("Menus", "&Log-scale Loss"),
        lambda: w.plots.set_log_loss(not w.plots.log_box.isChecked()),
        "Ctrl+L",
    )
    legends = _action(
        w,
        v,
        QCoreApplication.translate("Menus", "Show Le&gends"),
        lambda on: w.plots.set_legends_visible(on),
        "Ctrl+Shift+L",
        checkable=True,
    )
    legends.setChecked(w.plots.legend_box.isChecked())
    w.plots.legend_box.toggled.connect(legends.setChecked)
    clear_previous = _action(w, v, QCoreApplication.translate("Menus", "&Clear Earlier Runs"), w.plots.clear_previous)
    language = v.addMenu(QCoreApplication.translate("Menus", "&Language"))
    group = QActionGroup(language)
    for code, label in i18n.LANGUAGES.items():
        shown = QCoreApplication.translate("I18n", label) if code == "system" else label
        act = _action(w, language, shown, lambda _=False, c=code: w.set_language(c), checkable=True)
        act.setChecked(code == w.language_setting())
        group.addAction(act)
    v.addSeparator()
    for i, name in enumerate(VIEWS):
        _action(w, v, view_name(name), lambda _=False, i=i: w.tabs.setCurrentIndex(i), f"Ctrl+{i + 1}")

    tools = mb.addMenu(QCoreApplication.translate("Menus", "T&ools"))
    gradcheck = _action(w, tools, QCoreApplication.translate("Menus", "&Gradient Check"), w.gradient_check, "Ctrl+G")
    _action(
        w,
        tools,
        QCoreApplication.translate("Menus", "&Run Store Location…"),
        w.choose_run_store,
        tip=QCoreApplication.translate("Menus", "The file or database URL runs are recorded in"),
    )
    h = mb.addMenu(QCoreApplication.translate("Menus", "&Help"))
    shortcuts = _action(w, h, QCoreApplication.translate("Menus", "&Keyboard Shortcuts"), w.show_shortcuts, "F1")
    about = _action(w, h, QCoreApplication.translate("Menus", "&About Backprop Studio"), w.show_about)
    return Actions(
        open_ckpt,
        recent,
        save,
        save_as,
        recover,
        open_data,
        builtin,
        load_functions,
        check_class,
        import_run,
        classify,
        export_plots,
        export_curves,
        export_sheet,
        export_onnx,
        quit_,
        start,
        resume,
        one_step,
        reset,
        pause,
        stop,
        evaluate,
        use_best,
        new_sweep,
        log,
        legends,
        clear_previous,
        gradcheck,
        shortcuts,
        about,
    )


def shortcut_rows(actions: Actions) -> list[tuple[str, str]]:
    """(keys, what) for every action with a shortcut, in menu order."""
    rows = []
    for act in vars(actions).values():
        if isinstance(act, QAction) and act.shortcuts():
            keys = " / ".join(k.toString(QKeySequence.NativeText) for k in act.shortcuts())
            rows.append((keys, act.text().replace("&", "").rstrip("…")))
    views = ", ".join(view_name(v) for v in VIEWS)
    rows.append(
        (f"Ctrl+1 … Ctrl+{len(VIEWS)}", QCoreApplication.translate("Menus", "Switch view: %1").replace("%1", views))
    )
    rows.append(
        ("F6", QCoreApplication.translate("Menus", "Functions tab: import your files again and re-check every op"))
    )
    rows.append(
        (
            "Alt+← / Alt+→",
            QCoreApplication.translate("Menus", "Internals ▸ Explain: the previous / next step of the backward pass"),
        )
    )
    return rows
