"""Each sarclip:* algorithm through processing.run on a small scene with a random model: outputs, cancel, bad input."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

qgis_core = pytest.importorskip("qgis.core")



class Feedback(qgis_core.QgsProcessingFeedback):
    """Records progress; optionally cancels once the run is under way."""

    def __init__(self, cancel_at: float | None = None):
        super().__init__()
        self.progress_seen: list[float] = []
        self.cancel_at = cancel_at
        self.progressChanged.connect(self._progress)

    def _progress(self, value: float) -> None:
        self.progress_seen.append(value)
        if self.cancel_at is not None and value >= self.cancel_at:
            self.cancel()


@pytest.fixture
def run(sarclip_provider, random_model, small_scene, tmp_path):
    """processing.run of a sarclip algorithm with the random model, a private index folder and overrides."""
    import processing

    def go(name: str, feedback: Feedback | None = None, **overrides):
        parameters = {"INPUT": str(small_scene), "MODEL": str(random_model), "BATCH": 8,
                      "INDEX_FOLDER": str(tmp_path / "index"), **overrides}
        return processing.run(f"sarclip:{name}", parameters, feedback=feedback or Feedback())

    return go


def assert_on_scene_grid(out, scene) -> None:
    """Same CRS and top-left corner as the scene, covering it with less than one (coarser) output pixel to spare."""
    with rasterio.open(out) as result, rasterio.open(scene) as source:
        assert result.crs == source.crs
        assert (result.bounds.left, result.bounds.top) == (source.bounds.left, source.bounds.top)
        pixel = result.res[0]
        assert 0 <= result.bounds.right - source.bounds.right < pixel
        assert 0 <= source.bounds.bottom - result.bounds.bottom < pixel


def test_text_query_writes_a_georeferenced_heatmap_and_reports_progress(run, small_scene, tmp_path):
    feedback = Feedback()
    out = tmp_path / "ship.tif"
    result = run("text_query", feedback, QUERY="ship", OUTPUT=str(out))
    assert result["OUTPUT"] == str(out) and result["MESSAGE"].startswith("heatmap written; ")
    assert feedback.progress_seen and max(feedback.progress_seen) == pytest.approx(100)
    assert_on_scene_grid(out, small_scene)
    with rasterio.open(out) as ds:
        heat = ds.read(1)
    assert heat.dtype == np.float32 and np.isfinite(heat).any()
    assert np.isnan(heat[0, 0])  # the scene's nodata corner stays no data
    assert not list(tmp_path.glob("ship*.png"))  # QGIS is the viewer: no quicklook sidecar


def test_classify_labels_writes_label_map_confidence_and_names(run, tmp_path):
    result = run("classify_labels", LABELS="ship, open water", OUTPUT=str(tmp_path / "labels.tif"),
                 OUTPUT_CONFIDENCE=str(tmp_path / "confidence.tif"))
    assert result["LABELS"] == "ship,open water" and result["MESSAGE"].startswith("label map written; ")
    with rasterio.open(result["OUTPUT"]) as labels, rasterio.open(result["OUTPUT_CONFIDENCE"]) as confidence:
        values, conf = labels.read(1), confidence.read(1)
    assert set(np.unique(values)) <= {0, 1, 2} and (values > 0).any()
    assert np.nanmin(conf) >= 0.5 - 1e-6 and np.nanmax(conf) <= 1 + 1e-6  # the winner of two labels


def test_count_objects_writes_a_grid_and_peaks(run, tmp_path):
    result = run("count_objects", LABELS="ship", CELL_SIZE=1000, OUTPUT=str(tmp_path / "counts.gpkg"),
                 OUTPUT_POINTS=str(tmp_path / "peaks.gpkg"))
    assert result["MESSAGE"].startswith("counts written; ")
    grid = qgis_core.QgsVectorLayer(result["OUTPUT"], "grid", "ogr")
    peaks = qgis_core.QgsVectorLayer(result["OUTPUT_POINTS"], "peaks", "ogr")
    try:
        assert grid.isValid() and grid.featureCount() >= 3 * 3  # a 3000 m x 2600 m scene in 1 km cells
        assert "total" in grid.fields().names() and grid.crs().authid() == "EPSG:32631"
        assert peaks.isValid() and peaks.geometryType() == qgis_core.QgsWkbTypes.PointGeometry
    finally:
        del grid, peaks


def test_build_index_then_query_reuses_it(run, tmp_path):
    result = run("build_index")
    index = result["INDEX"]
    assert (tmp_path / "index") in Path(index).parents and (Path(index) / "index.json").is_file()
    assert result["MESSAGE"] == f"scene index ready: {index}"
    run("text_query", QUERY="ship", OUTPUT=str(tmp_path / "a.tif"))
    assert len(list((tmp_path / "index").iterdir())) == 1  # the query used the index instead of a new one


def test_clearing_the_index_cache_removes_the_indexes_and_says_how_much(run, tmp_path):
    import processing

    index = Path(run("build_index")["INDEX"])
    (tmp_path / "index" / "notes.txt").write_text("not an index")
    result = processing.run("sarclip:clear_index_cache", {"INDEX_FOLDER": str(tmp_path / "index")})
    assert result["REMOVED"] == 1 and result["FREED_MB"] >= 0 and not index.exists()
    assert result["MESSAGE"].startswith("removed 1 scene index(es), ")
    assert [p.name for p in (tmp_path / "index").iterdir()] == ["notes.txt"]


def test_cancel_mid_run_raises_and_leaves_no_output(run, tmp_path):
    feedback = Feedback(cancel_at=1.0)
    out = tmp_path / "out" / "cancelled.tif"
    out.parent.mkdir()
    with pytest.raises(qgis_core.QgsProcessingException, match="cancelled"):
        run("text_query", feedback, QUERY="ship", OUTPUT=str(out))
    assert list(out.parent.iterdir()) == []
    assert not list((tmp_path / "index").rglob("index.json"))  # nor a half-built scene index


@pytest.mark.parametrize("overrides, message", [
    ({"QUERY": "  "}, "the query is empty"),
    ({"QUERY": "ship", "OUTPUT": "{tmp}/heat.png"}, "OUTPUT must be a .tif file"),
    ({"QUERY": "ship", "OUTPUT": "{tmp}/missing/heat.tif"}, "output folder does not exist"),
    ({"QUERY": "ship", "MODEL": "{tmp}/no/such/model"}, "model not found"),
    ({"QUERY": "ship", "TILE": 4}, "tile must be a whole number of pixels >= 8"),
    ({"QUERY": "ship", "EXTENT": "0,10,0,10 [EPSG:32631]"}, "outside"),
])
def test_bad_text_query_input_is_one_clear_message(run, tmp_path, overrides, message):
    overrides = {key: value.format(tmp=tmp_path) if isinstance(value, str) else value for key, value in overrides.items()}
    overrides.setdefault("OUTPUT", str(tmp_path / "heat.tif"))
    with pytest.raises(qgis_core.QgsProcessingException, match=message):
        run("text_query", **overrides)
    assert not (tmp_path / "heat.tif").exists()


@pytest.mark.parametrize("name, overrides, message", [
    ("classify_labels", {"LABELS": "ship"}, "at least two labels"),
    ("classify_labels", {"LABELS": "ship, ship"}, "repeats a label"),
    ("count_objects", {"LABELS": "ship", "CELL_SIZE": 0}, "cell size must be positive"),
    ("count_objects", {"LABELS": "", "CELL_SIZE": 100}, "Incorrect parameter value for LABELS"),  # QGIS checks
    ("count_objects", {"LABELS": " , ", "CELL_SIZE": 100}, "label set is empty"),
])
def test_bad_label_input_is_one_clear_message(run, tmp_path, name, overrides, message):
    outputs = {"OUTPUT": str(tmp_path / ("o.tif" if name == "classify_labels" else "o.gpkg"))}
    if name == "classify_labels":
        outputs["OUTPUT_CONFIDENCE"] = str(tmp_path / "c.tif")
    with pytest.raises(qgis_core.QgsProcessingException, match=message):
        run(name, **overrides, **outputs)
    assert not any(tmp_path.glob("o.*"))


def test_missing_dependencies_are_named_with_the_install_command(run, tmp_path, monkeypatch):
    from sarclip_qgis import deps

    monkeypatch.setitem(sys.modules, "sarclip_core.scene", None)  # import fails as without torch
    monkeypatch.setattr(deps, "REQUIREMENTS", {**deps.REQUIREMENTS, "sarclip_no_such_module": "no-such-dist"})
    with pytest.raises(qgis_core.QgsProcessingException) as error:
        run("text_query", QUERY="ship", OUTPUT=str(tmp_path / "heat.tif"))
    text = str(error.value)
    assert "SARCLIP needs sarclip_no_such_module" in text and '-m pip install --prefix' in text
    assert text.rstrip().endswith(f'-r "{deps.REQUIREMENTS_FILE}" and restart QGIS.')


def test_the_engine_s_pytorch_side_is_loaded_when_an_algorithm_starts(monkeypatch):
    """sarclip_core.scene imports without PyTorch; the first algorithm run loads the rest, and a gap shows then."""
    import sarclip_core.scene as scene
    from sarclip_qgis.algorithms.engine import scene_engine

    assert scene_engine() is scene
    monkeypatch.delattr(scene, "text_query", raising=False)  # as in a fresh session, before the first use
    monkeypatch.setitem(sys.modules, "sarclip_core.scene.api", None)  # its import fails as without torch
    with pytest.raises(qgis_core.QgsProcessingException, match="sarclip_core.scene.api"):
        scene_engine()


def test_toolbox_runs_load_named_styled_layers(sarclip_provider, random_model, small_scene, tmp_path, qgis_new_project):
    """processing.runAndLoadResults is what the toolbox dialog does: outputs load named and styled from the QML."""
    import processing

    common = {"INPUT": str(small_scene), "MODEL": str(random_model), "BATCH": 8, "INDEX_FOLDER": str(tmp_path / "index")}
    processing.runAndLoadResults("sarclip:text_query", {**common, "QUERY": "ship", "OUTPUT": str(tmp_path / "h.tif")})
    processing.runAndLoadResults("sarclip:classify_labels", {**common, "LABELS": "ship, open water",
                                 "OUTPUT": str(tmp_path / "l.tif"), "OUTPUT_CONFIDENCE": str(tmp_path / "c.tif")})
    processing.runAndLoadResults("sarclip:count_objects", {**common, "LABELS": "ship", "CELL_SIZE": 1000,
                                 "OUTPUT": str(tmp_path / "n.gpkg"), "OUTPUT_POINTS": str(tmp_path / "p.gpkg")})
    loaded = {layer.name(): layer for layer in qgis_new_project.mapLayers().values()}
    # names say what, for which query or label set, and on which scene (toolbox outputs have no scene group)
    assert isinstance(loaded["heatmap: ship — scene_db"].renderer(), qgis_core.QgsSingleBandPseudoColorRenderer)
    labels = loaded["label map: ship, open water — scene_db"].renderer()
    assert [(c.value, c.label) for c in labels.classes()] == [(1, "ship"), (2, "open water")]
    confidence = loaded["confidence: ship, open water — scene_db"]
    assert isinstance(confidence.renderer(), qgis_core.QgsSingleBandPseudoColorRenderer)
    assert not qgis_new_project.layerTreeRoot().findLayer(confidence.id()).itemVisibilityChecked()  # off at first
    counts = loaded["counts: ship — scene_db"].renderer()
    assert isinstance(counts, qgis_core.QgsGraduatedSymbolRenderer) and counts.classAttribute() == "total"
    assert loaded["peaks: ship — scene_db"].geometryType() == qgis_core.QgsWkbTypes.PointGeometry


def _ship_point(scene, row: int = 43, col: int = 66) -> tuple[float, float]:
    """Map coordinates of a pixel of the small scene (its first ship by default)."""
    with rasterio.open(scene) as ds:
        return ds.transform * (col + 0.5, row + 0.5)


def test_example_query_from_a_point_a_point_layer_in_another_crs_and_an_image(run, small_scene, tmp_path):
    x, y = _ship_point(small_scene)
    out = tmp_path / "similar.tif"
    result = run("example_query", EXAMPLE_POINT=f"{x},{y} [EPSG:32631]", OUTPUT=str(out))
    assert result["MESSAGE"].startswith("heatmap written; ") and result["OUTPUT"] == str(out)
    assert_on_scene_grid(out, small_scene)
    with rasterio.open(out) as ds:
        similarity = ds.read(1)
    with rasterio.open(small_scene) as ds:
        row, col = ds.index(x, y)
    factor = similarity.shape[1] / 300
    assert similarity[int(row * factor), int(col * factor)] == pytest.approx(np.nanmax(similarity), abs=0.02)
    # the same ship as a point layer in WGS 84: transformed to the scene's CRS, the same map
    layer = qgis_core.QgsVectorLayer("Point?crs=EPSG:4326", "examples", "memory")
    wgs84 = qgis_core.QgsCoordinateTransform(qgis_core.QgsCoordinateReferenceSystem("EPSG:32631"),
                                             qgis_core.QgsCoordinateReferenceSystem("EPSG:4326"),
                                             qgis_core.QgsProject.instance()).transform(x, y)
    feature = qgis_core.QgsFeature()
    feature.setGeometry(qgis_core.QgsGeometry.fromPointXY(wgs84))
    layer.dataProvider().addFeatures([feature])
    again = tmp_path / "again.tif"
    run("example_query", EXAMPLE_POINTS=layer, OUTPUT=str(again))
    with rasterio.open(again) as ds:
        assert np.allclose(ds.read(1), similarity, equal_nan=True, atol=1e-6)
    images = tmp_path / "chip.tif"
    with rasterio.open(small_scene) as ds:
        chip = ds.read(1, window=rasterio.windows.Window(0, 130, 128, 128))
    from raster_helpers import write_raster
    write_raster(images, chip)
    run("example_query", EXAMPLE_IMAGES=[str(images)], OUTPUT=str(tmp_path / "by_image.tif"))
    assert (tmp_path / "by_image.tif").exists()


@pytest.mark.parametrize("overrides, message", [
    ({}, "no example given"),
    ({"EXAMPLE_POINT": "0,0 [EPSG:32631]"}, "outside the scene's indexed area"),
])
def test_bad_example_query_input_is_one_clear_message(run, tmp_path, overrides, message):
    with pytest.raises(qgis_core.QgsProcessingException, match=message):
        run("example_query", OUTPUT=str(tmp_path / "s.tif"), **overrides)
    assert not (tmp_path / "s.tif").exists()


def test_a_similarity_map_loads_with_a_legend_over_its_own_range(sarclip_provider, random_model, small_scene, tmp_path,
                                                                  qgis_new_project):
    """Similarities have no calibrated 0-1 scale: colours and legend both span the data's minimum..maximum."""
    import processing

    x, y = _ship_point(small_scene)
    processing.runAndLoadResults("sarclip:example_query", {
        "INPUT": str(small_scene), "MODEL": str(random_model), "BATCH": 8, "INDEX_FOLDER": str(tmp_path / "index"),
        "EXAMPLE_POINT": f"{x},{y} [EPSG:32631]", "OUTPUT": str(tmp_path / "s.tif")})
    layer, = [lyr for lyr in qgis_new_project.mapLayers().values()
              if lyr.name() == "similar to: 1 example point(s) — scene_db"]
    renderer = layer.renderer()
    with rasterio.open(tmp_path / "s.tif") as ds:
        values = ds.read(1)
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    assert renderer.classificationMin() == pytest.approx(low, abs=1e-4)
    assert renderer.classificationMax() == pytest.approx(high, abs=1e-4)
    items = renderer.shader().rasterShaderFunction().colorRampItemList()
    assert items[0].value == pytest.approx(low, abs=1e-4) and items[-1].value == pytest.approx(high, abs=1e-4)


def test_the_model_is_loaded_once_per_session_and_again_when_its_files_change(run, random_model, tmp_path,
                                                                                monkeypatch):
    import sarclip_core.model as model_package
    from sarclip_qgis.algorithms import engine

    loads = []
    original = model_package.load_model
    monkeypatch.setattr(model_package, "load_model", lambda spec, *a, **k: loads.append(spec) or original(spec, *a, **k))
    monkeypatch.setattr(engine, "_loaded", {})
    run("text_query", QUERY="ship", OUTPUT=str(tmp_path / "a.tif"))
    run("text_query", QUERY="vessel", OUTPUT=str(tmp_path / "b.tif"))
    assert loads == [str(random_model)]
    sidecar = random_model / "sarclip.json"
    sidecar.write_text(sidecar.read_text())  # rewritten: a new modification time
    os.utime(sidecar, ns=(sidecar.stat().st_atime_ns, sidecar.stat().st_mtime_ns + 10**9))
    run("text_query", QUERY="ship", OUTPUT=str(tmp_path / "c.tif"))
    assert loads == [str(random_model)] * 2
