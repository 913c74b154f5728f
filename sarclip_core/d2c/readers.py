"""Detection annotation readers (Pascal VOC, COCO, YOLO, DOTA, instance masks) -> image records with boxes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
from scipy import ndimage

from ..data.images import IMAGE_SUFFIXES, image_files
from ..errors import SarclipError
from ..io import describe, open_raster
from .boxes import Box, ImageRecord, from_polygon
from .validate import AnnotationError, Problems, checked, class_name, parse_classes

MASK_SUFFIXES = ("_instance_id_RGB", "_instance_id", "_instances", "_mask")


def find_image(images: Path, name: str) -> Path | None:
    """The image called name (or with name's stem and any image suffix) in the images folder.

    A name that leads out of the folder (absolute, or climbing with '..': "../../../etc/passwd") is refused
    with a SarclipError: annotations say which image they describe, not which file on disk to read.
    """
    direct = images / name
    if not direct.resolve().is_relative_to(images.resolve()):
        raise SarclipError(f"image {name!r} leaves the images folder {images}; refused")
    if direct.is_file():
        return direct
    stem = Path(name).stem
    for suffix in IMAGE_SUFFIXES:
        for candidate in (images / (stem + suffix), images / (stem + suffix.upper())):
            if candidate.is_file():
                return candidate
    return None


def _each(files: Iterable[Path], parse: Callable[[Path], Iterable[ImageRecord]],
          problems: Problems) -> Iterator[ImageRecord]:
    """Parse file after file; a file that fails is reported and skipped, so one bad file never hides the rest."""
    for path in files:
        try:
            for record in parse(path):
                yield checked(record, record.filepath, problems)
        except SarclipError as exc:
            problems.add(str(exc))


def need_folder(path: Path | None, what: str) -> Path:
    """The folder given for --what, or a SarclipError saying it is missing or not found."""
    if path is None:
        raise SarclipError(f"--{what} is required for this format")
    if not path.is_dir():
        raise SarclipError(f"{path}: --{what} folder not found")
    return path


def _image_size(path: Path) -> tuple[int, int]:
    info = describe(path)
    return info.width, info.height


def read_mask(path: Path, width: int, height: int) -> np.ndarray:
    """The first band of a pixel mask (sea/land, water) that must cover its image exactly, pixel for pixel."""
    with open_raster(path) as ds:
        if (ds.width, ds.height) != (width, height):
            raise AnnotationError(path, "", f"mask is {ds.width}x{ds.height} px, its image {width}x{height} px")
        return ds.read(1)


# --- Pascal VOC -------------------------------------------------------------------------------------

def read_voc(annotations: Path, images: Path | None, classes: dict[str, str], problems: Problems) -> Iterator[ImageRecord]:
    """Pascal VOC XML files (one per image): <size>, <object><name><bndbox>; <robndbox> is ignored."""
    folder = need_folder(annotations, "annotations")
    images = images or folder

    def parse(path: Path) -> Iterator[ImageRecord]:
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as exc:
            line, column = exc.position
            raise AnnotationError(path, f"line {line}, column {column}", "malformed XML") from None
        name = _text(root, "filename", path, required=False) or path.stem
        image = find_image(images, name)
        if image is None:
            raise AnnotationError(path, "<filename>", f"image {name!r} not found in {images}")
        size = root.find("size")
        width = int(_number(size, "width", path)) if size is not None else 0
        height = int(_number(size, "height", path)) if size is not None else 0
        if width <= 0 or height <= 0:
            width, height = _image_size(image)
        boxes = []
        for number, obj in enumerate(root.iter("object"), 1):
            where = f"{path}: <object> {number}"
            label = class_name(_text(obj, "name", path, f"<object> {number}"), classes, where, problems)
            bnd = obj.find("bndbox")
            if bnd is None:
                raise AnnotationError(path, f"<object> {number}", "has no <bndbox>")
            coords = [_number(bnd, tag, path, f"<object> {number} <bndbox>") for tag in ("xmin", "ymin", "xmax", "ymax")]
            if label is not None:
                boxes.append(Box(label, *coords))
        yield ImageRecord(str(image), width, height, boxes)

    return _each(sorted(folder.glob("*.xml")), parse, problems)


def _text(node: ET.Element, tag: str, path: Path, where: str = "", required: bool = True) -> str:
    child = node.find(tag)
    if child is None or not (child.text or "").strip():
        if not required:
            return ""
        raise AnnotationError(path, where, f"missing <{tag}>")
    return child.text.strip()


def _number(node: ET.Element, tag: str, path: Path, where: str = "") -> float:
    text = _text(node, tag, path, where)
    try:
        return float(text)
    except ValueError:
        raise AnnotationError(path, f"{where} <{tag}>".strip(), f"not a number: {text!r}") from None


# --- COCO -------------------------------------------------------------------------------------------

def read_coco(annotations: Path, images: Path | None, classes: dict[str, str], problems: Problems) -> Iterator[ImageRecord]:
    """A COCO JSON file (or a folder of them): images, annotations with bbox [x, y, w, h], categories."""
    files = sorted(annotations.glob("*.json")) if annotations.is_dir() else [annotations]

    def parse(path: Path) -> Iterator[ImageRecord]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AnnotationError(path, "", "file not found") from None
        except json.JSONDecodeError as exc:
            raise AnnotationError(path, f"line {exc.lineno}, column {exc.colno}", f"malformed JSON ({exc.msg})") from None
        if not isinstance(data, dict) or not isinstance(data.get("images"), list):
            raise AnnotationError(path, "", "not a COCO file (no 'images' list)")
        names = {str(c.get("id")): str(c.get("name")) for c in data.get("categories", []) if isinstance(c, dict)}
        folder = images or path.parent
        by_image: dict[object, list[Box]] = {}
        for number, ann in enumerate(data.get("annotations", [])):
            where = f"annotations[{number}]"
            try:
                x, y, w, h = (float(v) for v in ann["bbox"])
                raw, image_id = str(ann["category_id"]), ann["image_id"]
            except (KeyError, TypeError, ValueError):
                raise AnnotationError(path, where, "needs image_id, category_id and bbox [x, y, w, h]") from None
            label = class_name(names.get(raw, raw) if raw not in classes else raw, classes, f"{path}: {where}", problems)
            if label is not None:
                polygon = _coco_polygon(ann)
                box = from_polygon(label, polygon) if polygon and ann.get("oriented") else Box(label, x, y, x + w, y + h)
                by_image.setdefault(image_id, []).append(box)
        for number, entry in enumerate(data["images"]):
            try:
                image_id, name = entry["id"], entry["file_name"]
                width, height = int(entry.get("width", 0)), int(entry.get("height", 0))
            except (KeyError, TypeError, ValueError):
                raise AnnotationError(path, f"images[{number}]", "needs id, file_name, width and height") from None
            try:
                image = find_image(folder, name)
            except SarclipError as exc:
                problems.add(f"{path}: images[{number}]: {exc}, skipped")
                continue
            if image is None:
                problems.add(f"{path}: images[{number}]: image {name!r} not found in {folder}, skipped")
                continue
            if width <= 0 or height <= 0:
                width, height = _image_size(image)
            yield ImageRecord(str(image), width, height, by_image.get(image_id, []))

    return _each(files, parse, problems)


def _coco_polygon(ann: dict) -> list[tuple[float, float]] | None:
    seg = ann.get("segmentation")
    if isinstance(seg, list) and len(seg) == 1 and isinstance(seg[0], list) and len(seg[0]) == 8:
        flat = [float(v) for v in seg[0]]
        return list(zip(flat[0::2], flat[1::2]))
    return None


# --- YOLO -------------------------------------------------------------------------------------------

def read_yolo(annotations: Path, images: Path | None, classes: dict[str, str], problems: Problems) -> Iterator[ImageRecord]:
    """YOLO txt per image: "class cx cy w h" (or "class x1 y1 .. x4 y4") normalised; no file = empty image."""
    folder = need_folder(annotations, "annotations")
    image_dir = need_folder(images, "images")
    if not classes and (folder / "classes.txt").is_file():
        classes = parse_classes(str(folder / "classes.txt"))

    def parse(image: Path) -> Iterator[ImageRecord]:
        width, height = _image_size(image)
        label_file = folder / (image.stem + ".txt")
        lines = label_file.read_text(encoding="utf-8").splitlines() if label_file.is_file() else []
        boxes = []
        for number, line in enumerate(lines, 1):
            fields = line.split()
            if not fields:
                continue
            where = f"line {number}"
            values = _floats(fields[1:], label_file, where)
            if len(values) not in (4, 8):
                raise AnnotationError(label_file, where, f"expected 'class cx cy w h' or 'class x1 y1 .. x4 y4', got {line.strip()!r}")
            label = class_name(fields[0], classes, f"{label_file}: {where}", problems)
            if label is None:
                continue
            if len(values) == 4:
                cx, cy, w, h = values[0] * width, values[1] * height, values[2] * width, values[3] * height
                boxes.append(Box(label, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
            else:
                boxes.append(from_polygon(label, [(values[i] * width, values[i + 1] * height) for i in range(0, 8, 2)]))
        yield ImageRecord(str(image), width, height, boxes)

    return _each(image_files(image_dir), parse, problems)


def _floats(fields: list[str], path: Path, where: str) -> list[float]:
    try:
        return [float(v) for v in fields]
    except ValueError:
        raise AnnotationError(path, where, f"not a number in {' '.join(fields)!r}") from None


# --- DOTA -------------------------------------------------------------------------------------------

def read_dota(annotations: Path, images: Path | None, classes: dict[str, str], problems: Problems) -> Iterator[ImageRecord]:
    """DOTA txt per image: "x1 y1 x2 y2 x3 y3 x4 y4 class [difficult]"; keeps the oriented box, 'gsd:' as context."""
    folder = need_folder(annotations, "annotations")
    image_dir = need_folder(images, "images")

    def parse(path: Path) -> Iterator[ImageRecord]:
        image = find_image(image_dir, path.stem)
        if image is None:
            raise AnnotationError(path, "", f"no image {path.stem}.* in {image_dir}")
        width, height = _image_size(image)
        boxes, context = [], {}
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            fields = line.split()
            if not fields:
                continue
            if ":" in fields[0] and len(fields) == 1:
                key, _, value = line.partition(":")
                if key.strip().lower() == "gsd" and value.strip() not in ("", "null", "None"):
                    context["resolution_m"] = float(_floats([value], path, f"line {number}")[0])
                continue
            where = f"line {number}"
            if len(fields) not in (9, 10):
                raise AnnotationError(path, where, f"expected 8 coordinates, a class and a difficulty, got {line.strip()!r}")
            values = _floats(fields[:8], path, where)
            label = class_name(fields[8], classes, f"{path}: {where}", problems)
            if label is not None:
                boxes.append(from_polygon(label, list(zip(values[0::2], values[1::2]))))
        yield ImageRecord(str(image), width, height, boxes, context)

    return _each(sorted(folder.glob("*.txt")), parse, problems)


# --- instance masks ---------------------------------------------------------------------------------

def read_masks(annotations: Path, images: Path | None, classes: dict[str, str], problems: Problems,
               mask_class: str = "ship") -> Iterator[ImageRecord]:
    """Instance masks (each distinct non-black colour or id is one object, as in HRSID) -> one box each."""
    folder = need_folder(annotations, "annotations")
    image_dir = images or folder
    masks = [p for p in image_files(folder) if p.stem.endswith(MASK_SUFFIXES)]
    label = classes.get("1", classes.get(mask_class, mask_class))

    def parse(path: Path) -> Iterator[ImageRecord]:
        stem = path.stem
        for suffix in MASK_SUFFIXES:
            stem = stem.removesuffix(suffix)
        image = find_image(image_dir, stem)
        if image is None:
            raise AnnotationError(path, "", f"no image {stem}.* in {image_dir}")
        with open_raster(path) as ds:
            data = ds.read()
        ids = np.zeros(data.shape[1:], dtype=np.int64)
        for band in data[:3]:
            ids = ids * 256 + band.astype(np.int64)
        if ids.min() != 0:
            raise AnnotationError(path, "", "has no black (0) background, so it is not an instance mask")
        # np.unique numbers the ids from the smallest, so the background (0) becomes label 0,
        # which find_objects skips.
        labels = np.unique(ids, return_inverse=True)[1].reshape(ids.shape)
        boxes = [Box(label, float(s[1].start), float(s[0].start), float(s[1].stop), float(s[0].stop))
                 for s in ndimage.find_objects(labels) if s is not None]
        yield ImageRecord(str(image), ds.width, ds.height, boxes)

    return _each(masks, parse, problems)


# --- D2C records (e.g. one part of a seeded split) ----------------------------------------------------

def read_records(annotations: Path, images: Path | None, classes: dict[str, str],
                 problems: Problems) -> Iterator[ImageRecord]:
    """A D2C records JSONL read back (boxes, size, context), e.g. the training part of a split to cut windows from.

    Image paths are taken as written, else relative to the records file; `images`, if given, is where they are.
    """
    if not annotations.is_file():
        raise SarclipError(f"{annotations}: records file not found")
    with open(annotations, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                image = Path(data["filepath"])
                if not image.is_absolute() and not image.exists():
                    image = (images or annotations.parent) / image
                boxes = [Box.from_dict(box) for box in data.get("boxes") or []]
                record = ImageRecord(str(image), int(data["width"]), int(data["height"]),
                                     [replace(b, label=classes.get(b.label, b.label)) for b in boxes],
                                     dict(data.get("context") or {}))
            except (ValueError, KeyError, TypeError) as error:
                problems.add(f"{annotations}: line {number}: not a D2C record ({error}), skipped")
                continue
            yield checked(record, record.filepath, problems)


READERS = {"voc": read_voc, "coco": read_coco, "yolo": read_yolo, "dota": read_dota, "mask": read_masks,
           "records": read_records}
