"""Scene tasks (pointing, detection, segmentation) and their classical baselines, on hand-made cases."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from raster_helpers import write_raster
from sarclip_core.evaluate.__main__ import main
from sarclip_core.evaluate.classical import (
    CfarParameters,
    brightest_patch,
    cfar_detections,
    otsu_threshold,
)
from sarclip_core.evaluate.embeddings import Embedder
from sarclip_core.evaluate.metrics import detection_metrics, iou_per_class, match_points
from sarclip_core.evaluate.pointing import box_mask, heat_share
from sarclip_core.evaluate.scene_runs import SourceMap
from sarclip_core.evaluate.suite import evaluate_task
from scene_helpers import ship_oracle_checkpoint, speckle_scene

TARGETS = [(100, 140), (330, 300)]  # (col, row) of 12x12 bright targets in the speckle scene


def _records(path, scene, boxes) -> str:
    path.write_text(json.dumps({"filepath": str(scene), "width": 512, "height": 512,
                                "boxes": [{"label": "ship", "bbox": list(b)} for b in boxes]}) + "\n")
    return str(path)


def _true_boxes(pad: int = 6) -> list[tuple[int, int, int, int]]:
    return [(c - pad, r - pad, c + 12 + pad, r + 12 + pad) for c, r in TARGETS]


# --- metrics and geometry ------------------------------------------------------------------------------

def test_two_peaks_on_one_box_count_once_and_a_peak_outside_counts_none():
    box = [(10.0, 10.0, 30.0, 30.0)]
    assert match_points([(20, 20, 0.9), (25, 25, 0.8)], box) == 1
    assert match_points([(50, 50, 0.9)], box) == 0
    two = [(10.0, 10.0, 30.0, 30.0), (28.0, 10.0, 50.0, 30.0)]
    assert match_points([(29, 20, 0.9), (45, 20, 0.5)], two) == 2  # the shared-edge peak takes the nearer box
    metrics = detection_metrics([1], [2], [1])
    assert metrics["precision"] == 50.0 and metrics["recall"] == 100.0 and metrics["f1"] == pytest.approx(200 / 3)
    assert metrics["count_mae"] == 1.0 and metrics["count_exact"] == 0.0


def test_iou_of_known_masks_ignores_nodata():
    true = np.array([[1, 1, 2, 2], [1, 1, 2, 0]])
    predicted = np.array([[1, 2, 2, 2], [1, 1, 2, 1]])  # the last pixel is no data in the truth: not counted
    intersection, union = iou_per_class(true, predicted, 2)
    assert intersection.tolist() == [3, 3] and union.tolist() == [4, 4]


def test_heat_share_and_box_mask():
    values = np.zeros((10, 10))
    values[2:4, 2:4] = 1.0
    assert box_mask((10, 10), [(2, 2, 4, 4)]).sum() == 4
    assert heat_share(values, [(2, 2, 4, 4)]) == 1.0
    assert heat_share(values, [(6, 6, 9, 9)]) == 0.0


def test_source_map_peak_lands_on_image_pixels_through_the_transforms():
    values = np.zeros((1, 4, 4))
    values[0, 2, 1] = 5.0  # output pixel (row 2, col 1) at 8 source pixels per output pixel
    image_to_map = rasterio.Affine(10, 0, 1000, 0, -10, 2000)
    output_to_map = image_to_map * rasterio.Affine.scale(8)
    source = SourceMap(values, ~image_to_map * output_to_map, (32, 32))
    assert source.best() == (12.0, 20.0, 5.0)  # the centre of output pixel (1, 2) is image pixel (12, 20)
    on_image = source.on_image()
    assert on_image[16:24, 8:16].min() == 5.0 and on_image.sum() == 5.0 * 64


# --- classical baselines -------------------------------------------------------------------------------

def test_brightest_patch_finds_the_bright_square():
    image = np.random.default_rng(1).exponential(1.0, (200, 300))
    image[50:60, 200:210] = 50.0
    x, y = brightest_patch(image)
    assert 200 <= x <= 210 and 50 <= y <= 60


def test_cfar_finds_a_bright_square_on_speckle_and_nothing_on_pure_speckle():
    rng = np.random.default_rng(2)
    speckle = np.sqrt(rng.gamma(4.0, 0.25, (256, 256)))  # 4-look amplitude speckle
    parameters = CfarParameters(guard=8, ring=8, k=5.0, min_area=4)
    assert cfar_detections(speckle, parameters) == []
    scene = speckle.copy()
    scene[100:108, 60:68] = 20.0
    found = cfar_detections(scene, parameters)
    assert len(found) == 1 and 60 <= found[0][0] <= 68 and 100 <= found[0][1] <= 108


def test_otsu_splits_two_modes():
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.normal(-22, 1.5, 4000), rng.normal(-8, 1.5, 6000)])
    assert -18 < otsu_threshold(values) < -12


# --- the tasks, end to end through the scene engine ------------------------------------------------------

@pytest.fixture(scope="module")
def oracle() -> Embedder:
    return Embedder(ship_oracle_checkpoint(), "oracle")


def test_pointing_hits_when_the_heatmap_peaks_in_a_box_and_misses_when_not(oracle, tmp_path):
    scene = speckle_scene(tmp_path / "scene.tif", TARGETS)
    near = _true_boxes(pad=100)  # window-level maps peak anywhere in the windows that hold a target
    hit = evaluate_task("pointing", oracle, query="ship", data=_records(tmp_path / "a.jsonl", scene, near))
    assert hit.metrics["hit_rate"] == 100.0 and hit.classical["brightest_patch"]["hit_rate"] == 100.0
    assert hit.metrics["heat_in_boxes"] > hit.metrics["box_area_share"]
    away = [(450, 0, 512, 60)]  # a box on plain speckle: neither the map nor the brightest patch is there
    miss = evaluate_task("pointing", oracle, query="ship", data=_records(tmp_path / "b.jsonl", scene, away))
    assert miss.metrics["hit_rate"] == 0.0 and miss.classical["brightest_patch"]["hit_rate"] == 0.0


def test_detection_reports_model_and_cfar_on_the_same_scene(oracle, tmp_path):
    scene = speckle_scene(tmp_path / "scene.tif", TARGETS)
    records = _records(tmp_path / "a.jsonl", scene, _true_boxes(pad=100))
    result = evaluate_task("detection", oracle, query="ship", data=records, fit_data=records)
    cfar = result.classical["cfar"]
    assert cfar["recall"] == 100.0 and cfar["f1"] == 100.0  # fitted on this very image: it must be perfect
    assert "fitted on 1 training images" in result.classical_methods["cfar"]
    assert result.metrics["recall"] == 100.0  # the oracle's peaks lie in the windows of both targets
    assert result.table[0]["objects"] == 2


def test_segmentation_on_a_georeferenced_water_scene(oracle, tmp_path):
    rng = np.random.default_rng(4)
    db = np.where(np.arange(256)[None, :] < 128, -22.0, -8.0) + rng.normal(0, 1.0, (256, 256))
    images, masks = tmp_path / "S1", tmp_path / "Labels"
    images.mkdir(), masks.mkdir()
    grid = dict(crs="EPSG:4326", transform=from_origin(10.0, 45.0, 0.0001, 0.0001))
    write_raster(images / "X_S1Hand.tif", db.astype(np.float32)[None], descriptions=["VV dB"], **grid)
    truth = np.where(np.arange(256)[None, :] < 128, 1, 0).repeat(256, axis=0).astype(np.int16)
    truth[:10] = -1
    write_raster(masks / "X_LabelHand.tif", truth[None], **grid)
    result = evaluate_task("segmentation", oracle, labels="water, land", images=str(images), masks=str(masks))
    otsu = result.classical["otsu"]
    assert otsu["iou_water"] > 95 and otsu["iou_land"] > 95  # two clean modes: Otsu splits them
    assert set(result.metrics) == {"iou_water", "iou_land", "mean_iou", "pixel_accuracy"}
    assert result.table[0]["pixels"] == 246 * 256  # no-data rows ignored


def test_cli_errors_are_one_line(tmp_path, capsys):
    code = main(["segmentation", "--images", str(tmp_path), "--masks", str(tmp_path), "--labels", "water, land",
                 "--mask-values", "1=water,zero=land", "--quiet"])
    assert code == 2 and "--mask-values: 'zero=land' is not VALUE=label" in capsys.readouterr().err
    code = main(["pointing", "--format", "jsonl", "--data", str(tmp_path / "missing.jsonl"), "--query", "ship", "--quiet"])
    assert code == 2 and "missing.jsonl: --data not found" in capsys.readouterr().err
