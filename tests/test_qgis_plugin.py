"""The plugin shell in a real QgsApplication: provider, toolbar/dock wiring, dock parameters, styles, zip layout."""

from __future__ import annotations

import uuid
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio

qgis_core = pytest.importorskip("qgis.core")

from qgis.PyQt.QtCore import Qt  # noqa: E402

from paths import ROOT  # noqa: E402
from raster_helpers import write_raster  # noqa: E402
from sarclip_qgis import layers  # noqa: E402
from sarclip_qgis.dock import TASKS  # noqa: E402

ALGORITHMS = {"sarclip:text_query", "sarclip:example_query", "sarclip:classify_labels", "sarclip:count_objects",
              "sarclip:build_index", "sarclip:clear_index_cache"}


def test_provider_registers_its_algorithms(sarclip_provider):
    registry = qgis_core.QgsApplication.processingRegistry()
    assert registry.providerById("sarclip").name() == "SARCLIP"
    assert {a.id() for a in registry.providerById("sarclip").algorithms()} == ALGORITHMS
    query = registry.algorithmById("sarclip:text_query")
    names = [p.name() for p in query.parameterDefinitions()]
    assert names[:2] == ["INPUT", "QUERY"] and {"MODEL", "EXTENT", "TILE", "OVERLAP", "RESOLUTION", "BATCH",
                                                 "INDEX_FOLDER", "OUTPUT"} <= set(names)
    advanced = {p.name() for p in query.parameterDefinitions()
                if p.flags() & qgis_core.QgsProcessingParameterDefinition.FlagAdvanced}
    assert advanced == {"TILE", "OVERLAP", "RESOLUTION", "BATCH", "INDEX_FOLDER", "PEAK_THRESHOLD"}
    assert query.parameterDefinition("PEAK_THRESHOLD").flags() & qgis_core.QgsProcessingParameterDefinition.FlagOptional
    count = registry.algorithmById("sarclip:count_objects")
    assert {"LABELS", "CELL_SIZE", "PEAK_THRESHOLD", "OUTPUT", "OUTPUT_POINTS"} <= {
        p.name() for p in count.parameterDefinitions()}
    assert registry.algorithmById("sarclip:classify_labels").parameterDefinition("OUTPUT_CONFIDENCE") is not None
    assert sarclip_provider.supportedOutputRasterLayerExtensions() == ["tif"]


def test_every_algorithm_parameter_has_help_and_the_help_button_opens_the_readme(sarclip_provider):
    from qgis.PyQt.QtCore import QUrl

    for algorithm in sarclip_provider.algorithms():
        missing = [p.name() for p in algorithm.parameterDefinitions() if len(p.help()) < 20]
        assert not missing, f"{algorithm.id()}: no help for {missing}"
        url = QUrl(algorithm.helpUrl())
        assert url.isLocalFile() and Path(url.toLocalFile()).name == "README.md" and url.fragment() == "the-qgis-plugin"
        assert Path(url.toLocalFile()).is_file() and "## The QGIS plugin" in Path(url.toLocalFile()).read_text()
    registry = qgis_core.QgsApplication.processingRegistry()
    similar = registry.algorithmById("sarclip:example_query").parameterDefinition("PEAK_THRESHOLD").help()
    assert "cosine similarity" in similar  # an algorithm's own help wins over the shared one


def test_plugin_registers_provider_toolbar_and_opens_the_dock(qgis_iface, qgis_processing):
    from sarclip_qgis import classFactory

    registry = qgis_core.QgsApplication.processingRegistry()
    plugin = classFactory(qgis_iface)
    plugin.initGui()
    try:
        assert registry.providerById("sarclip") is not None
        assert plugin.toolbar is not None and plugin.panel_action in plugin.toolbar.actions()
        assert [a.text() for a in plugin.algorithm_actions][0] == "Text query heatmap…"
        plugin.panel_action.setChecked(True)
        assert plugin.dock is not None and plugin.dock.objectName() == "SarclipDock"
    finally:
        plugin.unload()
    assert registry.providerById("sarclip") is None and plugin.dock is None


@pytest.fixture
def dock(qgis_iface, qgis_new_project, tmp_path, monkeypatch):
    from sarclip_qgis import dock_settings
    from sarclip_qgis.dock import SarclipDock

    prefix = f"SARCLIP-test-{uuid.uuid4().hex}"
    monkeypatch.setattr(dock_settings, "PREFIX", prefix + "/")
    widget = SarclipDock(qgis_iface)
    yield widget
    widget.deleteLater()
    qgis_core.QgsSettings().remove(prefix)


def _accepted(algorithm: str, params: dict) -> None:
    """The registered algorithm's own parameter check passes the dock's parameters (one code path)."""
    context = qgis_core.QgsProcessingContext()
    context.setProject(qgis_core.QgsProject.instance())
    instance = qgis_core.QgsApplication.processingRegistry().createAlgorithmById(f"sarclip:{algorithm}")
    ok, message = instance.checkParameterValues(params, context)
    assert ok, message


def test_dock_builds_processing_parameters_for_each_task(dock, sarclip_provider, small_scene, tmp_path,
                                                         qgis_new_project):
    layer = qgis_core.QgsRasterLayer(str(small_scene), "scene")
    qgis_new_project.addMapLayer(layer)
    dock.layer_box.setLayer(layer)
    dock.output_widget.setFilePath(str(tmp_path / "out"))
    dock.query_edit.setText("bright ship")
    algorithm, params, results = dock.parameters()
    assert algorithm == "text_query" and params["QUERY"] == "bright ship" and params["INPUT"] == str(small_scene)
    assert params["OUTPUT"] == str(tmp_path / "out" / "scene_db_bright-ship_heatmap.tif")
    assert results == [(params["OUTPUT"], "heatmap", "heatmap: bright ship")] and "EXTENT" not in params
    assert "PEAK_THRESHOLD" not in params  # the model's calibrated threshold
    _accepted(algorithm, params)
    (tmp_path / "out" / "scene_db_bright-ship_heatmap.tif").write_bytes(b"")  # taken: the next run is numbered
    assert dock.parameters()[1]["OUTPUT"].endswith("scene_db_bright-ship_heatmap_2.tif")

    dock.task_box.setCurrentIndex(1)
    assert dock.labels_edit.isVisibleTo(dock) and not dock.query_edit.isVisibleTo(dock)
    dock.labels_edit.setText(" ship, land, open water")
    algorithm, params, results = dock.parameters()
    assert algorithm == "classify_labels" and params["LABELS"] == "ship, land, open water"
    assert {kind for _, kind, _ in results} == {"labels", "confidence"} and params["OUTPUT_CONFIDENCE"].endswith(".tif")
    _accepted(algorithm, params)

    dock.task_box.setCurrentIndex(2)
    dock.cell_spin.setValue(500)
    algorithm, params, _ = dock.parameters()
    assert algorithm == "count_objects" and params["CELL_SIZE"] == 500 and params["OUTPUT"].endswith("_counts.gpkg")
    assert params["OUTPUT_POINTS"].endswith("_points.gpkg")
    _accepted(algorithm, params)
    dock.peak_spin.setValue(0.7)
    assert dock.parameters()[1]["PEAK_THRESHOLD"] == pytest.approx(0.7)


def test_dock_explains_missing_input_and_remembers_settings(dock, qgis_iface, small_scene):
    from sarclip_qgis import dock_settings
    from sarclip_qgis.dock import SarclipDock

    messages = []
    dock.run_finished.connect(lambda ok, message: messages.append((ok, message)))
    dock.run()
    assert messages == [(False, "add a SAR raster layer to the project and pick it")]
    assert dock.result_label.text() == messages[0][1] and dock.run_button.isEnabled()

    dock.query_edit.setText("oil tank")
    dock.batch_spin.setValue(16)
    dock.resolution_spin.setValue(25.0)  # in one scene's map units: not for the next scene or session
    dock.cell_spin.setValue(333.0)
    dock_settings.save(dock.values())
    again = SarclipDock(qgis_iface)
    assert again.query_edit.text() == "oil tank" and again.batch_spin.value() == 16
    assert again.resolution_spin.value() == 0.0 and again.cell_spin.value() == 1000.0
    assert again.cell_spin.suffix() == " px" and not again.resolution_spin.isEnabled()  # no layer: pixels
    layer = qgis_core.QgsRasterLayer(str(small_scene), "scene")
    qgis_core.QgsProject.instance().addMapLayer(layer)
    again.layer_box.setLayer(layer)
    assert again.resolution_spin.suffix() == " m/px" and again.cell_spin.suffix() == " m"  # UTM: metres
    again.resolution_spin.setValue(20.0)
    other = qgis_core.QgsRasterLayer(str(small_scene), "other")
    qgis_core.QgsProject.instance().addMapLayer(other)
    again.layer_box.setLayer(other)
    assert again.resolution_spin.value() == 0.0  # another scene starts afresh
    qgis_core.QgsProject.instance().removeMapLayers([layer.id(), other.id()])
    again.deleteLater()


def test_every_dock_control_explains_itself(dock):
    from qgis.gui import QgsExtentWidget, QgsFileWidget
    from qgis.PyQt.QtWidgets import (
        QAbstractButton,
        QAbstractSpinBox,
        QComboBox,
        QGroupBox,
        QLineEdit,
        QProgressBar,
    )

    kinds = (QComboBox, QLineEdit, QAbstractSpinBox, QAbstractButton, QgsFileWidget, QgsExtentWidget, QProgressBar,
             QGroupBox)
    controls = {name: widget for name, widget in vars(dock).items() if isinstance(widget, kinds)}
    assert len(controls) >= 18
    missing = sorted(name for name, widget in controls.items() if not widget.toolTip())
    assert not missing, f"no tooltip: {missing}"


def test_default_output_folder_is_next_to_the_scene_when_the_project_is_unsaved(small_scene, qgis_new_project):
    from sarclip_qgis.dock_settings import default_output_folder

    layer = qgis_core.QgsRasterLayer(str(small_scene), "scene")
    assert default_output_folder(layer) == str(small_scene.parent / "sarclip_outputs")


def test_styles_fit_the_data(tmp_path):
    heat = write_raster(tmp_path / "heat.tif", np.linspace(0.1, 0.3, 64, dtype=np.float32).reshape(8, 8))
    layer = qgis_core.QgsRasterLayer(str(heat), "heat")
    layers.apply_style(layer, "heatmap")
    renderer = layer.renderer()
    assert isinstance(renderer, qgis_core.QgsSingleBandPseudoColorRenderer)
    assert (renderer.classificationMin(), renderer.classificationMax()) == (0.0, 1.0)  # fixed: probabilities
    assert len(renderer.legendSymbologyItems()) >= 2
    # a map has about four pixels per scene cell: drawn zoomed in, a probability field is interpolated, not tiles
    assert isinstance(layer.resampleFilter().zoomedInResampler(), qgis_core.QgsBilinearRasterResampler)

    labels = write_raster(tmp_path / "labels.tif", (np.arange(64) % 3 + 1).astype(np.uint8).reshape(8, 8))
    layer = qgis_core.QgsRasterLayer(str(labels), "labels")
    layers.apply_style(layer, "labels", ["ship", "land", "water"])
    assert [(c.value, c.label) for c in layer.renderer().classes()] == [(1, "ship"), (2, "land"), (3, "water")]
    assert layer.renderer().opacity() == 1.0  # opaque categories: their colours match the legend
    assert layer.resampleFilter().zoomedInResampler() is None  # categories are never interpolated
    colours = {c.label: c.color.name() for c in layer.renderer().classes()}
    assert colours == {"ship": "#e41a1c", "land": "#a6761d", "water": "#377eb8"}  # read by meaning, not order
    layers.apply_style(layer, "labels", ["T72", "open water", "BMP2"])
    colours = [c.color.name() for c in layer.renderer().classes()]
    assert colours[1] == "#377eb8" and len(set(colours)) == 3 and "#377eb8" not in (colours[0], colours[2])

    # the fields the engine's counts layer has (scene/counts.py): an n_<label> count per label and their total
    grid = qgis_core.QgsVectorLayer("Polygon?crs=EPSG:32631&field=cell_row:integer&field=n_ship:integer"
                                    "&field=total:integer", "g", "memory")
    for i, value in enumerate([0, 1, 4, 9, 2, 7]):
        feature = qgis_core.QgsFeature(grid.fields())
        feature.setAttributes([i, value, value])
        feature.setGeometry(qgis_core.QgsGeometry.fromRect(qgis_core.QgsRectangle(i, 0, i + 1, 1)))
        grid.dataProvider().addFeature(feature)
    layers.apply_style(grid, "counts", ["ship"])
    renderer = grid.renderer()
    assert isinstance(renderer, qgis_core.QgsGraduatedSymbolRenderer) and renderer.classAttribute() == "total"
    assert [r.label() for r in renderer.ranges()] == ["0", "1", "2 - 3", "4 - 7", "8 - 9"]  # whole objects
    assert renderer.ranges()[-1].upperValue() == pytest.approx(9.5)
    assert layers.count_classes(0) == [(0, 0), (1, 1)] and layers.count_classes(3)[-1] == (2, 3)


def test_label_map_results_show_the_labels_and_load_the_confidence_switched_off(tmp_path, qgis_new_project):
    labels = write_raster(tmp_path / "l.tif", (np.arange(64) % 2 + 1).astype(np.uint8).reshape(8, 8))
    confidence = write_raster(tmp_path / "c.tif", np.full((8, 8), 0.7, np.float32))
    layers.add_results([(str(confidence), "confidence", "confidence: ship, sea"),
                        (str(labels), "labels", "label map: ship, sea")], "SARCLIP — s", ["ship", "sea"],
                       qgis_new_project)
    group = qgis_new_project.layerTreeRoot().findGroup("SARCLIP — s")
    visible = {node.layer().name(): node.itemVisibilityChecked() for node in group.findLayers()}
    assert visible == {"label map: ship, sea": True, "confidence: ship, sea": False}


def test_package_zip_has_one_plugin_folder_and_nothing_cached(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("package", ROOT / "scripts" / "package.py")
    package = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(package)
    target = package.build(tmp_path)
    assert target.name == f"sarclip_qgis-{package.version()}.zip"
    names = zipfile.ZipFile(target).namelist()
    assert {name.split("/")[0] for name in names} == {"sarclip_qgis"}
    for required in ("metadata.txt", "__init__.py", "algorithms/provider.py", "engine/sarclip_core/__init__.py",
                     "resources/styles/heatmap.qml", "resources/icons/sarclip.svg",
                     "engine/sarclip_core/resources/vocabulary.json",
                     "engine/sarclip_core/resources/demo/mstar_composed_768.png"):
        assert f"sarclip_qgis/{required}" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    metadata = zipfile.ZipFile(target).read("sarclip_qgis/metadata.txt").decode()
    for field in ("name", "qgisMinimumVersion=3.22", "description", "about", "version", "author", "email",
                  "category=Raster", "hasProcessingProvider=yes", "icon"):
        assert f"\n{field}" in metadata or metadata.startswith(field)
    assert "example.org/" not in metadata and "no public repository or issue tracker yet" in metadata
    icon = next(line.split("=", 1)[1] for line in metadata.splitlines() if line.startswith("icon="))
    assert f"sarclip_qgis/{icon}" in names
    assert "sarclip_qgis/engine/sarclip_core/resources/models/sarclip-tiny/open_clip_model.safetensors" in names
    models = ROOT / "sarclip_core" / "resources" / "models"
    assert package._is_other_model(models / "experiment" / "open_clip_model.safetensors")  # experiments stay home
    assert not package._is_other_model(models / "sarclip-tiny" / "sarclip.json")


def _wait_for_run(dock, seconds: float = 120) -> tuple[bool, str]:
    """Spin the event loop until the dock's background task reports back."""
    from qgis.PyQt.QtCore import QEventLoop, QTimer

    outcome = []
    loop = QEventLoop()
    dock.run_finished.connect(lambda ok, message: (outcome.append((ok, message)), loop.quit()))
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec_()
    assert outcome, "the background run did not finish"
    return outcome[0]


def _ship_query_on_the_scene(dock, project, scene: Path, model: Path, out: Path):
    """The dock set for "ship" on `scene` with `model`, results into `out`; the scene's layer."""
    layer = qgis_core.QgsRasterLayer(str(scene), "scene")
    project.addMapLayer(layer)
    dock.layer_box.setLayer(layer)
    dock.model_widget.setFilePath(str(model))
    dock.output_widget.setFilePath(str(out))
    dock.batch_spin.setValue(8)
    dock.query_edit.setText("ship")
    return layer


def test_dock_runs_the_algorithm_in_the_background_and_adds_styled_layers(
        dock, sarclip_provider, random_model, small_scene, tmp_path, qgis_new_project, monkeypatch):
    monkeypatch.setenv("SARCLIP_CACHE", str(tmp_path / "cache"))
    _ship_query_on_the_scene(dock, qgis_new_project, small_scene, random_model, tmp_path / "out")
    dock.run()
    assert not dock.run_button.isEnabled() and dock.cancel_button.isEnabled()
    ok, message = _wait_for_run(dock)
    assert ok and message.startswith("heatmap written; ") and dock.result_label.text() == message
    group = qgis_new_project.layerTreeRoot().findGroup("SARCLIP — scene")
    [heatmap] = [node.layer() for node in group.findLayers()]
    assert heatmap.name() == "heatmap: ship" and heatmap.source() == str(tmp_path / "out" / "scene_db_ship_heatmap.tif")
    assert isinstance(heatmap.renderer(), qgis_core.QgsSingleBandPseudoColorRenderer)
    assert dock.progress_bar.value() == 100 and dock.run_button.isEnabled()
    dock.run()  # the same query again: a second layer, named so the two can be told apart
    assert _wait_for_run(dock)[0]
    assert sorted(node.layer().name() for node in group.findLayers()) == ["heatmap: ship", "heatmap: ship (2)"]

    dock.task_box.setCurrentIndex(1)
    dock.labels_edit.setText("ship, open water")
    dock.run()
    dock.cancel()
    ok, message = _wait_for_run(dock)
    assert (ok, message) == (False, "cancelled")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["scene_db_ship_heatmap.tif",
                                                                   "scene_db_ship_heatmap_2.tif"]

    dock.model_widget.setFilePath(str(tmp_path / "no" / "model"))
    dock.run()
    ok, message = _wait_for_run(dock)
    assert not ok and "model not found" in message and dock.result_label.text() == message


def test_removing_the_input_layer_mid_run_leaves_a_working_dock(
        dock, sarclip_provider, random_model, small_scene, tmp_path, qgis_new_project, monkeypatch):
    monkeypatch.setenv("SARCLIP_CACHE", str(tmp_path / "cache"))
    layer = _ship_query_on_the_scene(dock, qgis_new_project, small_scene, random_model, tmp_path / "out")
    dock.run()
    qgis_new_project.removeMapLayer(layer.id())  # deletes the C++ layer while the run goes on
    ok, message = _wait_for_run(dock)
    assert ok and message.startswith("heatmap written; ")
    assert dock.run_button.isEnabled() and not dock.cancel_button.isEnabled()
    group = qgis_new_project.layerTreeRoot().findGroup("SARCLIP — scene")
    assert [node.layer().name() for node in group.findLayers()] == ["heatmap: ship"]  # the result was added


def test_the_dock_clears_the_index_cache_but_not_while_a_run_uses_it(
        dock, sarclip_provider, random_model, small_scene, tmp_path, qgis_new_project, monkeypatch):
    monkeypatch.setenv("SARCLIP_CACHE", str(tmp_path / "cache"))
    _ship_query_on_the_scene(dock, qgis_new_project, small_scene, random_model, tmp_path / "out")
    dock.run()
    assert not dock.clear_cache_button.isEnabled()
    ok, _ = _wait_for_run(dock)
    assert ok and dock.clear_cache_button.isEnabled() and len(list((tmp_path / "cache" / "index").iterdir())) == 1
    dock.clear_cache_button.click()
    assert dock.result_label.text().startswith("removed 1 scene index(es), ")
    assert list((tmp_path / "cache" / "index").iterdir()) == []


def test_an_example_picked_on_the_map_runs_a_similarity_query(
        dock, qgis_iface, sarclip_provider, random_model, small_scene, tmp_path, qgis_new_project, monkeypatch):
    monkeypatch.setenv("SARCLIP_CACHE", str(tmp_path / "cache"))
    _ship_query_on_the_scene(dock, qgis_new_project, small_scene, random_model, tmp_path / "out")
    dock.task_box.setCurrentIndex(list(TASKS.values()).index("example_query"))
    assert dock.example_row.isVisibleTo(dock) and not dock.query_edit.isVisibleTo(dock)
    assert not dock.labels_edit.isVisibleTo(dock) and not dock.peak_spin.isEnabled()
    with pytest.raises(ValueError, match="pick an example first"):
        dock.parameters()
    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(qgis_core.QgsCoordinateReferenceSystem("EPSG:4326"))  # the map in degrees, the scene in UTM
    with rasterio.open(small_scene) as ds:
        x, y = ds.transform * (66.5, 43.5)  # the first ship
    lon_lat = qgis_core.QgsCoordinateTransform(qgis_core.QgsCoordinateReferenceSystem("EPSG:32631"),
                                               canvas.mapSettings().destinationCrs(), qgis_new_project).transform(x, y)
    dock.pick_example()
    assert canvas.mapTool() is dock.pick_tool
    dock.pick_tool.canvasClicked.emit(lon_lat, Qt.LeftButton)  # what a click on the canvas emits
    assert canvas.mapTool() is not dock.pick_tool and "EPSG:4326" in dock.example_edit.text()
    algorithm, params, results = dock.parameters()
    assert algorithm == "example_query" and params["OUTPUT"].endswith("scene_db_example_similarity.tif")
    _accepted(algorithm, params)
    assert results[0][1] == "similarity" and results[0][2].startswith("similar to: example at ")
    dock.run()
    ok, message = _wait_for_run(dock)
    assert ok and message.startswith("heatmap written; "), message
    group = qgis_new_project.layerTreeRoot().findGroup("SARCLIP — scene")
    [layer] = [node.layer() for node in group.findLayers()]
    with rasterio.open(params["OUTPUT"]) as ds:
        similarity = ds.read(1)
        row, col = ds.index(x, y)
    assert similarity[row, col] == pytest.approx(np.nanmax(similarity), abs=0.02)  # the example is most like itself
    assert layer.renderer().classificationMax() == pytest.approx(float(np.nanmax(similarity)), abs=1e-4)


def test_dock_shows_missing_dependencies_with_the_install_command(qgis_iface, monkeypatch):
    from sarclip_qgis import deps
    from sarclip_qgis.dock import SarclipDock

    monkeypatch.setattr(deps, "REQUIREMENTS", {"numpy": "numpy", "sarclip_no_such_module": "no-such-dist"})
    dock = SarclipDock(qgis_iface)
    try:
        assert dock.banner.isVisibleTo(dock)
        assert "SARCLIP needs sarclip_no_such_module" in dock.banner_text.text()
        assert dock.install_command.endswith('requirements-qgis.txt"') and "--prefix" in dock.install_command
        assert dock.install_button.isEnabled()
    finally:
        dock.deleteLater()


@pytest.mark.parametrize("succeeds", [True, False])
def test_the_install_button_runs_its_command_as_a_background_task_and_reports(qgis_iface, monkeypatch, succeeds):
    """The Install click runs the dock's install arguments in a QgsTask (QGIS's task manager, no shell) and the
    banner tells the outcome; a failed install shows the command to run and pip's last lines. pip itself is run
    by tests/test_qgis_venv.py with the same arguments."""
    import sys
    import time

    from sarclip_qgis import deps
    from sarclip_qgis.dock import SarclipDock

    monkeypatch.setattr(deps, "REQUIREMENTS", {"sarclip_no_such_module": "no-such-dist"})
    dock = SarclipDock(qgis_iface)
    try:
        dock.install_args = [sys.executable, "-c", "import sys; print('pip says hello'); sys.exit(%d)" % (not succeeds)]
        dock.install_button.click()
        assert not dock.install_button.isEnabled() and "Installing in the background" in dock.banner_text.text()
        deadline = time.monotonic() + 60
        while dock.install_task is not None:
            assert time.monotonic() < deadline, "the install task never finished"
            qgis_core.QgsApplication.processEvents()
            time.sleep(0.01)
        if succeeds:
            assert dock.banner_text.text() == "Installed. Restart QGIS to use SARCLIP."
            assert not dock.install_button.isEnabled()
        else:
            text = dock.banner_text.text()
            assert text.startswith("The install failed; run it yourself:") and dock.install_command in text
            assert "pip says hello" in text and dock.install_button.isEnabled()
    finally:
        dock.deleteLater()


def test_the_plugin_s_default_overlap_is_the_engine_s(sarclip_provider):
    from sarclip_core.scene.settings import DEFAULT_OVERLAP, SceneSettings
    from sarclip_qgis import dock_settings

    query = qgis_core.QgsApplication.processingRegistry().algorithmById("sarclip:text_query")
    assert query.parameterDefinition("OVERLAP").defaultValue() == DEFAULT_OVERLAP == SceneSettings().overlap
    assert dock_settings.DEFAULTS["overlap"] == DEFAULT_OVERLAP
