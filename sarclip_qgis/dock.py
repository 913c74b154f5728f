"""The SARCLIP dock panel: pick a SAR layer, type a query or a label set, run, see styled results.

It only builds Processing parameters and runs the same sarclip:* algorithms as the toolbox in a
background task (runner.AlgorithmRun); results are added on the main thread when the task ends.
"""

from __future__ import annotations

import os
from pathlib import Path

from qgis.core import QgsMapLayerProxyModel, QgsReferencedPointXY, QgsReferencedRectangle
from qgis.gui import (
    QgsCollapsibleGroupBox,
    QgsDockWidget,
    QgsExtentWidget,
    QgsFileWidget,
    QgsMapLayerComboBox,
    QgsMapToolEmitPoint,
)
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from . import deps, dock_settings, paths
from .algorithms.base import SarclipAlgorithm as Common
from .algorithms.classify_labels import ClassifyLabels
from .algorithms.count_objects import CountObjects
from .algorithms.example_query import ExampleQuery
from .algorithms.text_query import TextQuery
from .layers import add_results, result_name, suffix_of
from .runner import AlgorithmRun

ALGORITHMS = {"text_query": TextQuery, "classify_labels": ClassifyLabels, "count_objects": CountObjects,
              "example_query": ExampleQuery}
# task name -> algorithm id; the order is the task combo box's (saved as an index: new tasks go last)
TASKS = {"Text query → heatmap": "text_query", "Label set → label map": "classify_labels",
         "Count objects → grid": "count_objects", "Example on the map → similar places": "example_query"}
NON_FILE_PROVIDERS = ["wms", "wcs", "arcgismapserver", "postgresraster", "virtualraster", "mdal", "xyzvectortiles"]


class SarclipDock(QgsDockWidget):
    """Dock panel; emits run_finished(ok, message) after each run (used by the desktop test too)."""

    run_finished = pyqtSignal(bool, str)

    def __init__(self, iface, parent=None):
        super().__init__("SARCLIP", parent)
        self.setObjectName("SarclipDock")
        self.iface = iface
        self.current: AlgorithmRun | None = None
        self.install_task = None
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.addWidget(self._dependency_banner())
        layout.addLayout(self._inputs())
        layout.addWidget(self._advanced())
        layout.addLayout(self._run_row())
        layout.addStretch(1)
        self.setWidget(body)
        self._restore()
        self._task_changed()
        self.layer_box.layerChanged.connect(self._layer_changed)  # once every widget it resets exists
        for name, tip in TOOLTIPS.items():
            getattr(self, name).setToolTip(tip)

    # ---- building the widgets ----

    def _dependency_banner(self) -> QWidget:
        """Shown only when onnxruntime/rasterio/... are missing: what, the exact command, and an Install button."""
        self.banner = QWidget()
        box = QVBoxLayout(self.banner)
        box.setContentsMargins(0, 0, 0, 0)
        missing = deps.missing_dependencies()
        self.install_args = deps.install_args(str(paths.dependencies_dir())) if missing else []
        self.install_command = deps.install_command(str(paths.dependencies_dir())) if missing else ""
        self.banner_text = QLabel(deps.explain(missing, target=str(paths.dependencies_dir())) if missing else "")
        self.banner_text.setWordWrap(True)
        self.banner_text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.banner_text.setStyleSheet("QLabel { background: #fff3cd; color: #664d03; padding: 6px; }")
        self.install_button = QPushButton("Install dependencies")
        self.install_button.clicked.connect(self._install)
        box.addWidget(self.banner_text)
        box.addWidget(self.install_button)
        self.banner.setVisible(bool(missing))
        return self.banner

    def _inputs(self) -> QFormLayout:
        form = QFormLayout()
        self.layer_box = QgsMapLayerComboBox()
        self.layer_box.setFilters(QgsMapLayerProxyModel.RasterLayer)
        self.layer_box.setExcludedProviders(NON_FILE_PROVIDERS)
        self.task_box = QComboBox()
        self.task_box.addItems(list(TASKS))
        self.task_box.currentIndexChanged.connect(self._task_changed)
        self.query_edit = QLineEdit()
        self.query_edit.setPlaceholderText("e.g. ship · oil tank · a bright vessel in open water")
        self.labels_edit = QLineEdit()
        self.labels_edit.setPlaceholderText("e.g. ship, land, open water · T72, BMP2, ZSU234, clutter")
        self.model_widget = QgsFileWidget()
        self.model_widget.setStorageMode(QgsFileWidget.GetDirectory)
        self.model_widget.lineEdit().setPlaceholderText("default (bundled model) · checkpoint folder · open_clip name")
        self.output_widget = QgsFileWidget()
        self.output_widget.setStorageMode(QgsFileWidget.GetDirectory)
        self.example_row = self._example_row()
        for label, widget in (("SAR layer", self.layer_box), ("Task", self.task_box), ("Query", self.query_edit),
                              ("Labels", self.labels_edit), ("Example", self.example_row), ("Model", self.model_widget),
                              ("Output folder", self.output_widget)):
            form.addRow(label, widget)
        self.form = form
        return form

    def _example_row(self) -> QWidget:
        """The picked example point (read-only) and the button that arms a one-click map tool."""
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        self.example_edit = QLineEdit()
        self.example_edit.setReadOnly(True)
        self.example_edit.setPlaceholderText("click Pick, then the thing to find more of")
        self.pick_button = QPushButton("Pick on map")
        self.pick_button.clicked.connect(self.pick_example)
        box.addWidget(self.example_edit, 1)
        box.addWidget(self.pick_button)
        self.example: QgsReferencedPointXY | None = None
        self.pick_tool = None
        return row

    def pick_example(self) -> None:
        """Arm a map tool: the next click on the canvas becomes the example, then the previous tool comes back."""
        if self.iface is None:
            self._show_result(False, "no map canvas to pick on")
            return
        canvas = self.iface.mapCanvas()
        previous = canvas.mapTool()
        self.pick_tool = QgsMapToolEmitPoint(canvas)

        def picked(point, _button) -> None:
            self.set_example(QgsReferencedPointXY(point, canvas.mapSettings().destinationCrs()))
            canvas.unsetMapTool(self.pick_tool)
            if previous is not None:
                canvas.setMapTool(previous)

        self.pick_tool.canvasClicked.connect(picked)
        canvas.setMapTool(self.pick_tool)
        self.result_label.setText("click the example on the map…")

    def set_example(self, point: QgsReferencedPointXY) -> None:
        """The example point for the next run, shown with its CRS."""
        self.example = point
        crs = point.crs().authid() if point.crs().isValid() else "pixels"
        self.example_edit.setText(f"{point.x():.2f}, {point.y():.2f} ({crs})")
        self.result_label.setText("")

    def _advanced(self) -> QWidget:
        group = self.advanced_group = QgsCollapsibleGroupBox("Advanced")
        group.setCollapsed(True)
        form = QFormLayout(group)
        self.tile_spin = _spin(QSpinBox(), 0, 8192, "model's own", " px")
        self.overlap_spin = _spin(QDoubleSpinBox(), 0.0, 0.9, None, " of the tile", step=0.05)
        self.resolution_spin = _spin(QDoubleSpinBox(), 0.0, 1e6, "native", "")
        self.batch_spin = _spin(QSpinBox(), 1, 4096, None, " windows")
        self.cell_spin = _spin(QDoubleSpinBox(), 0.01, 1e7, None, "")
        self.peak_spin = _spin(QDoubleSpinBox(), 0.0, 1.0, "model's calibrated", "", step=0.05)  # 0: not passed
        self.extent_widget = QgsExtentWidget(None, QgsExtentWidget.CondensedStyle)
        self.extent_widget.setNullValueAllowed(True, "Whole scene")
        self.extent_widget.clear()
        if self.iface is not None:
            self.extent_widget.setMapCanvas(self.iface.mapCanvas())
        self.clear_cache_button = QPushButton("Clear")
        self.clear_cache_button.clicked.connect(self.clear_cache)
        for label, widget in (("Tile", self.tile_spin), ("Overlap", self.overlap_spin),
                              ("Ground resolution", self.resolution_spin), ("Batch size", self.batch_spin),
                              ("Count cell size", self.cell_spin), ("Peak threshold (0-1)", self.peak_spin),
                              ("Area of interest", self.extent_widget), ("Scene index cache", self.clear_cache_button)):
            form.addRow(label, widget)
        return group

    def _run_row(self) -> QVBoxLayout:
        box = QVBoxLayout()
        buttons = QHBoxLayout()
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        box.addLayout(buttons)
        box.addWidget(self.progress_bar)
        box.addWidget(self.result_label)
        return box

    # ---- state ----

    def _restore(self) -> None:
        saved = dock_settings.load()
        self.task_box.setCurrentIndex(min(saved["task"], len(TASKS) - 1))
        self.query_edit.setText(saved["query"])
        self.labels_edit.setText(saved["labels"])
        self.model_widget.setFilePath(saved["model"])
        self.tile_spin.setValue(saved["tile"])
        self.overlap_spin.setValue(saved["overlap"])
        self.batch_spin.setValue(saved["batch"])
        self.peak_spin.setValue(saved["peak_threshold"])
        self._scene_settings(self.layer_box.currentLayer())
        default_folder = dock_settings.default_output_folder(self.layer_box.currentLayer())
        self.output_widget.setFilePath(saved["output_folder"] or default_folder)

    def values(self) -> dict:
        return {"task": self.task_box.currentIndex(), "query": self.query_edit.text().strip(),
                "labels": self.labels_edit.text().strip(), "model": self.model_widget.filePath().strip(),
                "tile": self.tile_spin.value(), "overlap": self.overlap_spin.value(),
                "resolution": self.resolution_spin.value(), "batch": self.batch_spin.value(),
                "cell_size": self.cell_spin.value(), "peak_threshold": self.peak_spin.value(),
                "output_folder": self.output_widget.filePath().strip()}

    def _task_changed(self) -> None:
        """Show the field the task needs: the query, the label set or the example point."""
        algorithm = self.algorithm()
        query, example = algorithm == "text_query", algorithm == "example_query"
        for widget, shown in ((self.query_edit, query), (self.labels_edit, not (query or example)),
                              (self.example_row, example)):
            widget.setVisible(shown)
            self.form.labelForField(widget).setVisible(shown)
        self.cell_spin.setEnabled(algorithm == "count_objects")
        self.peak_spin.setEnabled(algorithm in ("text_query", "count_objects"))

    def _layer_changed(self, layer) -> None:
        if not dock_settings.load()["output_folder"]:
            self.output_widget.setFilePath(dock_settings.default_output_folder(layer))
        self._scene_settings(layer)

    def _scene_settings(self, layer) -> None:
        """Settings in a scene's map units start afresh for each scene, their unit shown beside the number."""
        units = dock_settings.map_units(layer)
        self.resolution_spin.setValue(dock_settings.SCENE_DEFAULTS["resolution"])
        self.resolution_spin.setSuffix(f" {units}/px")
        self.resolution_spin.setEnabled(units != "px")  # a ground resolution needs a CRS
        self.cell_spin.setValue(dock_settings.SCENE_DEFAULTS["cell_size"])
        self.cell_spin.setSuffix(f" {units}")
        self.extent_widget.clear()

    def algorithm(self) -> str:
        return TASKS[self.task_box.currentText()]

    # ---- running ----

    def parameters(self) -> tuple[str, dict, list[tuple[str, str, str]]]:
        """(algorithm id, Processing parameters, results to load as (path, kind, layer name)).

        Queries and label sets are checked by the engine, so the panel and the toolbox say the same.
        """
        layer = self.layer_box.currentLayer()
        if layer is None:
            raise ValueError("add a SAR raster layer to the project and pick it")
        algorithm = self.algorithm()
        if algorithm == "example_query" and self.example is None:
            raise ValueError("pick an example first: click 'Pick on map', then the thing to find more of")
        v = self.values()
        folder = v["output_folder"] or dock_settings.default_output_folder(layer)
        os.makedirs(folder, exist_ok=True)
        params = {Common.INPUT: layer.source(), Common.MODEL: v["model"], Common.TILE: v["tile"],
                  Common.OVERLAP: v["overlap"], Common.RESOLUTION: v["resolution"], Common.BATCH: v["batch"]}
        extent = self.extent_widget.outputExtent()
        if self.extent_widget.isValid() and not extent.isNull() and not extent.isEmpty():
            params[Common.EXTENT] = QgsReferencedRectangle(extent, self.extent_widget.outputCrs())
        if v["peak_threshold"] > 0 and algorithm in ("text_query", "count_objects"):
            params[Common.PEAK_THRESHOLD] = v["peak_threshold"]
        text = {"text_query": v["query"], "example_query": "example"}.get(algorithm, v["labels"])
        what = f"example at {self.example.x():.0f}, {self.example.y():.0f}" if algorithm == "example_query" else text
        stem = f"{Path(layer.source()).stem}_{dock_settings.slug(text)}"
        inputs = {"text_query": {TextQuery.QUERY: v["query"]},
                  "example_query": {ExampleQuery.EXAMPLE_POINT: self.example},
                  "classify_labels": {ClassifyLabels.LABELS: v["labels"]},
                  "count_objects": {CountObjects.LABELS: v["labels"], CountObjects.CELL_SIZE: v["cell_size"]}}
        params.update(inputs[algorithm])
        results = []
        for key, kind in ALGORITHMS[algorithm].OUTPUT_KINDS.items():  # the algorithm says what it writes
            params[key] = dock_settings.unique_path(folder, f"{stem}_{kind}", suffix_of(kind))
            results.append((params[key], kind, result_name(kind, what)))
        return algorithm, params, results

    def run(self) -> None:
        """Start the selected algorithm in the background; results are added when it finishes."""
        if self.current is not None:
            return
        try:
            algorithm, params, results = self.parameters()
            run = AlgorithmRun(f"sarclip:{algorithm}", params, self)
        except (ValueError, OSError, RuntimeError) as exc:
            self._show_result(False, str(exc))
            return
        dock_settings.save(self.values())
        scene_name = self.layer_box.currentLayer().name()  # now: the layer may be removed during the run
        self.current = run
        self.current.progress.connect(lambda value: self.progress_bar.setValue(int(value)))
        self.current.finished.connect(
            lambda ok, outputs, error: self._finished(ok, outputs, error, results, scene_name))
        self.run_button.setEnabled(False)
        self.clear_cache_button.setEnabled(False)  # the run's index must not go from under it
        self.cancel_button.setEnabled(True)
        self.progress_bar.setValue(0)
        self.result_label.setText("running…")
        self.current.start()

    def cancel(self) -> None:
        if self.current is not None:
            self.result_label.setText("cancelling…")
            self.current.cancel()

    def _finished(self, ok: bool, outputs: dict, error: str, results, scene_name: str) -> None:
        self.current = None
        self.run_button.setEnabled(True)
        self.clear_cache_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if not ok:
            self.progress_bar.setValue(0)
            self._show_result(False, error)
            return
        present = [item for item in results if os.path.exists(item[0])]
        labels = outputs["LABELS"].split(",") if outputs.get("LABELS") else None  # as the engine parsed them
        try:
            add_results(present, f"SARCLIP — {scene_name}", labels)
        except RuntimeError as exc:
            self._show_result(False, str(exc))
            return
        self.progress_bar.setValue(100)
        self._show_result(True, outputs.get("MESSAGE", "done"))

    def _show_result(self, ok: bool, message: str) -> None:
        self._show(ok, message)
        self.run_finished.emit(ok, message)

    def _show(self, ok: bool, message: str) -> None:
        self.result_label.setText(message)
        self.result_label.setStyleSheet("" if ok else "QLabel { color: #b00020; }")

    def clear_cache(self) -> None:
        """Remove the cached scene indexes through the toolbox's sarclip:clear_index_cache (no run is active:
        the button is disabled during runs)."""
        import processing
        from qgis.core import QgsProcessingException

        try:
            outputs = processing.run("sarclip:clear_index_cache", {})
        except QgsProcessingException as exc:
            self._show(False, str(exc))
            return
        self._show(True, outputs["MESSAGE"])

    # ---- dependencies ----

    def _install(self) -> None:
        from .installer import start_install

        self.install_button.setEnabled(False)
        self.banner_text.setText(f"Installing in the background (see the task bar):\n{self.install_command}")
        self.install_task = start_install(self.install_args, self._installed)

    def _installed(self, ok: bool, output: str) -> None:
        self.install_task = None
        self.install_button.setEnabled(not ok)
        self.banner_text.setText("Installed. Restart QGIS to use SARCLIP." if ok
                                 else f"The install failed; run it yourself:\n{self.install_command}\n\n{output}")

    def shutdown(self) -> None:
        """Stop a running job when the plugin unloads."""
        self.cancel()


TOOLTIPS = {  # what each control does and in which unit; the README's "QGIS plugin" section says more
    "layer_box": "The SAR raster to analyse (GeoTIFF with or without CRS; dB, amplitude, intensity or complex).",
    "task_box": "Text query: a probability heatmap of what you type. Label set: a label map and its confidence. "
                "Count objects: a grid of counts and a point per object.",
    "query_edit": "What to look for, e.g. 'ship'. Several phrases separated by ';' are averaged.",
    "labels_edit": "Labels separated by commas, e.g. 'ship, land, water'; add 'clutter' as a contrast.",
    "example_row": "The example to find more of: a point on the scene, picked on the map.",
    "example_edit": "The picked example point and its CRS (it is transformed to the scene's CRS).",
    "pick_button": "Arm the map: the next click on the canvas becomes the example (e.g. one ship).",
    "model_widget": "Empty: the bundled model. Or a SARCLIP checkpoint folder, or an open_clip name such as "
                    "'ViT-B-32:openai'.",
    "output_widget": "Where results are written (default: sarclip_outputs/ next to the project or the scene).",
    "advanced_group": "Window size, overlap, resolution, batch, count cell, peak threshold and area of interest.",
    "tile_spin": "Window size in pixels the model reads (0: the model's own, 128 for the bundled model).",
    "overlap_spin": "Overlap of neighbouring windows, as a fraction of the tile (0.25: a quarter of a window).",
    "resolution_spin": "Resample windows to this ground resolution, in the scene's map units per pixel "
                       "(0: the scene's own pixels). Not kept for the next scene.",
    "batch_spin": "Windows encoded at once: more is faster and uses more memory.",
    "cell_spin": "Size of one count cell, in the scene's map units. Not kept for the next scene.",
    "peak_spin": "A peak (a detected object) needs at least this probability (0: the model's calibrated "
                 "threshold, e.g. 0.68 for ships).",
    "extent_widget": "Only this part of the scene (whole scene when empty). Not kept for the next scene.",
    "clear_cache_button": "Remove every cached scene index to free disk space; the next query of a scene "
                          "indexes it again.",
    "run_button": "Run the task in the background through the same Processing algorithm as the toolbox.",
    "cancel_button": "Stop the running task; nothing half-written is left behind.",
    "progress_bar": "Progress of the running task (indexing the scene first, then the query).",
    "result_label": "The last run's result or error.",
    "install_button": "Install the missing Python packages into the plugin's own folder, then restart QGIS.",
}


def _spin(widget, low, high, special: str | None, suffix: str, step: float | None = None):
    """A spin box with a range, an optional 'special value' text at its minimum, and a suffix."""
    widget.setRange(low, high)
    if special:
        widget.setSpecialValueText(special)
    if suffix:
        widget.setSuffix(suffix)
    if step is not None:
        widget.setSingleStep(step)
    if isinstance(widget, QDoubleSpinBox):
        widget.setDecimals(2)
    return widget
