"""Every D2C reader on tiny fixtures, including broken files and out-of-image boxes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from d2c_helpers import write_image
from sarclip_core.d2c.readers import (
    read_coco,
    read_dota,
    read_masks,
    read_voc,
    read_yolo,
)
from sarclip_core.d2c.sources import read_folder, read_opensarship
from sarclip_core.d2c.validate import AnnotationError, Problems, parse_classes
from sarclip_core.errors import SarclipError

VOC = """<annotation><filename>a.png</filename><size><width>100</width><height>80</height></size>
<object><name>T72</name><bndbox><xmin>10</xmin><ymin>10</ymin><xmax>30</xmax><ymax>30</ymax></bndbox></object>
<object><name>1</name><bndbox><xmin>60</xmin><ymin>50</ymin><xmax>130</xmax><ymax>70</ymax></bndbox></object>
<object><name>T72</name><bndbox><xmin>5</xmin><ymin>5</ymin><xmax>5</xmax><ymax>40</ymax></bndbox></object>
<object><name>tank</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object>
</annotation>"""


def read(reader, *args, **kwargs):
    problems = Problems()
    return list(reader(*args, problems, **kwargs)), problems.items


def test_voc_maps_classes_clips_and_drops(tmp_path: Path) -> None:
    write_image(tmp_path / "img" / "a.png")
    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / "a.xml").write_text(VOC)
    records, problems = read(read_voc, tmp_path / "ann", tmp_path / "img", {"1": "BMP2", "0": "T72"})
    (record,) = records
    assert [(b.label, b.xmax) for b in record.boxes] == [("T72", 30), ("BMP2", 100)]
    assert any("clipped" in p for p in problems)
    assert any("degenerate" in p for p in problems)
    assert any("unknown class 'tank'" in p for p in problems)


def test_voc_malformed_names_file_and_line(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png")
    (tmp_path / "a.xml").write_text("<annotation>\n<object><name>T72</name>\n</annotation>")
    records, problems = read(read_voc, tmp_path, tmp_path, {})
    assert records == [] and len(problems) == 1
    assert "a.xml" in problems[0] and "line 3" in problems[0]


def test_voc_missing_bndbox_names_element(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png")
    (tmp_path / "a.xml").write_text("<annotation><object><name>T72</name></object></annotation>")
    _, problems = read(read_voc, tmp_path, tmp_path, {})
    assert "a.xml: <object> 1: has no <bndbox>" in problems[0]


def test_coco_reads_boxes_and_reports_bad_json(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png")
    data = {"images": [{"id": 7, "file_name": "a.png", "width": 100, "height": 80}],
            "categories": [{"id": 1, "name": "ship"}],
            "annotations": [{"image_id": 7, "category_id": 1, "bbox": [10, 20, 30, 10]}]}
    (tmp_path / "coco.json").write_text(json.dumps(data))
    (record,), problems = read(read_coco, tmp_path / "coco.json", tmp_path, {})
    assert problems == [] and record.boxes[0].label == "ship" and record.boxes[0].xmax == 40
    (tmp_path / "coco.json").write_text('{"images": [\n  {"id": 1,,}]}')
    records, problems = read(read_coco, tmp_path / "coco.json", tmp_path, {})
    assert records == [] and "coco.json: line 2" in problems[0]
    data["annotations"] = [{"image_id": 7, "bbox": [1, 2]}]
    (tmp_path / "coco.json").write_text(json.dumps(data))
    _, problems = read(read_coco, tmp_path / "coco.json", tmp_path, {})
    assert "annotations[0]" in problems[0]


@pytest.mark.parametrize("name", ["../../../../etc/passwd", "/etc/hostname", "../outside.png"])
def test_image_paths_that_leave_the_images_folder_are_refused(tmp_path: Path, name: str) -> None:
    """Annotations name an image of the dataset, not any file on disk (a VOC <filename>, a COCO file_name)."""
    write_image(tmp_path / "outside.png")
    write_image(tmp_path / "img" / "a.png")
    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / "a.xml").write_text(VOC.replace("<filename>a.png</filename>", f"<filename>{name}</filename>"))
    records, problems = read(read_voc, tmp_path / "ann", tmp_path / "img", {"1": "BMP2", "0": "T72"})
    assert records == [] and "leaves the images folder" in problems[0] and "refused" in problems[0]
    data = {"images": [{"id": 1, "file_name": name, "width": 100, "height": 80},
                       {"id": 2, "file_name": "a.png", "width": 100, "height": 80}],
            "categories": [{"id": 1, "name": "ship"}], "annotations": []}
    (tmp_path / "img" / "coco.json").write_text(json.dumps(data))
    records, problems = read(read_coco, tmp_path / "img" / "coco.json", tmp_path / "img", {})
    assert [Path(r.filepath).name for r in records] == ["a.png"]  # the good entry is still read
    assert "images[0]" in problems[0] and "leaves the images folder" in problems[0]


def test_yolo_normalised_and_oriented_and_empty(tmp_path: Path) -> None:
    write_image(tmp_path / "img" / "a.png", 100, 80)
    write_image(tmp_path / "img" / "empty.png", 100, 80)
    (tmp_path / "lab").mkdir()
    (tmp_path / "lab" / "classes.txt").write_text("2S1\nBMP2\n")
    (tmp_path / "lab" / "a.txt").write_text("0 0.5 0.5 0.2 0.25\n1 0.1 0.1 0.3 0.1 0.3 0.3 0.1 0.3\n")
    records, problems = read(read_yolo, tmp_path / "lab", tmp_path / "img", {})
    assert problems == []
    a, empty = records
    assert a.boxes[0].label == "2S1" and (a.boxes[0].xmin, a.boxes[0].ymax) == (40, 50)
    assert a.boxes[1].polygon is not None and a.boxes[1].xmax == pytest.approx(30)
    assert empty.boxes == []
    (tmp_path / "lab" / "a.txt").write_text("0 0.5 0.5 0.2\n")
    _, problems = read(read_yolo, tmp_path / "lab", tmp_path / "img", {})
    assert "a.txt: line 1" in problems[0]


def test_dota_keeps_oriented_box_and_gsd(tmp_path: Path) -> None:
    write_image(tmp_path / "img" / "p1.png", 100, 80)
    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / "p1.txt").write_text("imagesource:test\ngsd:0.5\n10 10 30 12 28 30 8 28 ship 0\n")
    (record,), problems = read(read_dota, tmp_path / "ann", tmp_path / "img", {})
    assert problems == [] and record.context == {"resolution_m": 0.5}
    box = record.boxes[0]
    assert (box.xmin, box.ymin, box.xmax, box.ymax) == (8, 10, 30, 30) and len(box.polygon) == 4
    (tmp_path / "ann" / "p1.txt").write_text("10 10 30 12 ship\n")
    _, problems = read(read_dota, tmp_path / "ann", tmp_path / "img", {})
    assert "p1.txt: line 1" in problems[0]


def test_instance_mask_one_box_per_colour(tmp_path: Path) -> None:
    write_image(tmp_path / "s.png", 40, 30)
    mask = np.zeros((30, 40, 3), np.uint8)
    mask[2:5, 3:9] = (0, 0, 128)
    mask[20:28, 30:33] = (0, 128, 0)
    Image.fromarray(mask).save(tmp_path / "s_instance_id_RGB.png")
    (record,), problems = read(read_masks, tmp_path, tmp_path, {})
    assert problems == []
    assert sorted((b.xmin, b.ymin, b.xmax, b.ymax) for b in record.boxes) == [(3, 2, 9, 5), (30, 20, 33, 28)]
    assert {b.label for b in record.boxes} == {"ship"}


def test_instance_mask_without_background_is_an_error(tmp_path: Path) -> None:
    write_image(tmp_path / "s.png", 8, 8)
    Image.fromarray(np.full((8, 8, 3), 9, np.uint8)).save(tmp_path / "s_instance_id_RGB.png")
    records, problems = read(read_masks, tmp_path, tmp_path, {})
    assert records == [] and "s_instance_id_RGB.png" in problems[0] and "background" in problems[0]


def test_classification_folder(tmp_path: Path) -> None:
    write_image(tmp_path / "T72" / "1.jpeg", 32, 32)
    write_image(tmp_path / "D7" / "2.png", 32, 32)
    records = list(read_folder(tmp_path, {}, Problems(), {"band": "X"}))
    assert [(r.boxes[0].label, r.boxes[0].exact, r.context) for r in records] == \
        [("D7", False, {"band": "X"}), ("T72", False, {"band": "X"})]


SHIP_XML = """<?xml version="1.0"?>
<ShipList><ship><SARShipInformation><Center_x>100</Center_x><Center_y>200</Center_y><Incidence>34.5</Incidence>
</SARShipInformation><AISShipInformation><Sog>127</Sog><True_Head>262</True_Head><Length>208</Length><Width>29</Width>
</AISShipInformation><MarineTrafficInformation><Elaborated_type>Container Ship</Elaborated_type></MarineTrafficInformation>
</ship>
<\\ShipList>"""


def test_opensarship_matches_chips_to_ais(tmp_path: Path) -> None:
    scene = tmp_path / "S1A_IW_GRDH_1SDV_X"
    (scene / "Patch").mkdir(parents=True)
    (scene / "Ship.xml").write_text(SHIP_XML)
    write_image(scene / "Patch" / "Cargo_x101_y200.tif", 20, 20)
    write_image(scene / "Patch" / "Tanker_x900_y900.tif", 20, 20)
    problems = Problems()
    cargo, tanker = read_opensarship(tmp_path, problems)
    assert cargo.boxes[0].label == "Cargo"
    assert cargo.boxes[0].attributes == {"length_m": 208, "width_m": 29, "speed_kn": 12.7, "heading_deg": 262,
                                         "type_detail": "Container Ship"}
    assert cargo.context["polarisation"] == "VV/VH" and cargo.context["incidence_deg"] == 34.5
    assert tanker.boxes[0].attributes == {} and "Tanker_x900_y900.tif: no AIS record" in problems.items[0]


def test_opensarship_broken_ship_xml(tmp_path: Path) -> None:
    (tmp_path / "s" / "Patch").mkdir(parents=True)
    (tmp_path / "s" / "Ship.xml").write_text("<ShipList><ship>\n<oops></ShipList>")
    problems = Problems()
    assert list(read_opensarship(tmp_path, problems)) == []
    assert "Ship.xml: line 2" in problems.items[0]


def test_class_map_from_text_and_files(tmp_path: Path) -> None:
    assert parse_classes("0=2S1, 1=BMP2") == {"0": "2S1", "1": "BMP2"}
    (tmp_path / "names.txt").write_text("2S1\nBMP2\n")
    assert parse_classes(str(tmp_path / "names.txt")) == {"0": "2S1", "1": "BMP2"}
    (tmp_path / "map.txt").write_text("# ids\n3 T72\n4=D7\n")
    assert parse_classes(str(tmp_path / "map.txt")) == {"3": "T72", "4": "D7"}
    with pytest.raises(SarclipError, match="entry 2"):
        parse_classes("0=2S1,BMP2")


def test_annotation_error_is_a_sarclip_error() -> None:
    assert issubclass(AnnotationError, SarclipError)
