"""Non-detection sources captioned the same way: classification folders (MSTAR) and OpenSARShip chips + AIS."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterator

from ..data.images import image_files
from ..errors import SarclipError
from ..io import describe
from .boxes import Box, ImageRecord
from .validate import AnnotationError, Problems

CHIP_NAME = re.compile(r"^(?P<type>.+?)_x(?P<x>\d+)_y(?P<y>\d+)$")
MATCH_TOLERANCE_PX = 3  # chip centre in the file name vs. Center_x/Center_y in Ship.xml
AIS_MISSING = {"True_Head": 511.0, "Sog": 1023.0}


def read_folder(root: Path, classes: dict[str, str], problems: Problems, context: dict[str, Any]) -> Iterator[ImageRecord]:
    """A classification folder root/<CLASS>/*.img: one object per image, centred, class from the folder name."""
    if not root.is_dir():
        raise SarclipError(f"{root}: classification folder not found")
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    if not folders:
        raise SarclipError(f"{root}: has no class sub-folders (expected ROOT/<CLASS>/images)")
    for folder in folders:
        label = classes.get(folder.name, folder.name)
        for image in image_files(folder):
            try:
                info = describe(image)
            except SarclipError as exc:
                problems.add(str(exc))
                continue
            # The chip is centred on the target but its extent is unknown: no size claims.
            box = Box(label, 0.0, 0.0, float(info.width), float(info.height), exact=False)
            yield ImageRecord(str(image), info.width, info.height, [box], dict(context))


def read_opensarship(root: Path, problems: Problems, patch: str = "Patch") -> Iterator[ImageRecord]:
    """OpenSARShip: every chip in <scene>/<patch>/ matched to its AIS record in the scene's Ship.xml."""
    ship_files = sorted(root.rglob("Ship.xml"))
    if not ship_files:
        raise SarclipError(f"{root}: no Ship.xml found (is this an OpenSARShip folder?)")
    for ship_file in ship_files:
        try:
            ships = _read_ships(ship_file)
        except SarclipError as exc:
            problems.add(str(exc))
            continue
        scene = ship_file.parent
        chip_dir = scene / patch
        if not chip_dir.is_dir():
            problems.add(f"{scene}: no {patch}/ folder of chips, scene skipped")
            continue
        for chip in sorted(chip_dir.glob("*.tif")):
            record = _chip_record(chip, ships, _scene_context(scene), problems)
            if record is not None:
                yield record


def _read_ships(path: Path) -> list[dict[str, str]]:
    """One flat dict per <ship> (SAR, AIS and MarineTraffic fields together)."""
    # The public release closes most Ship.xml files with "<\\ShipList>"; read past that known typo.
    text = path.read_text(encoding="utf-8", errors="replace").replace("<\\ShipList>", "</ShipList>")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise AnnotationError(path, f"line {exc.position[0]}, column {exc.position[1]}", "malformed XML") from None
    ships = []
    for ship in root.iter("ship"):
        ships.append({el.tag: (el.text or "").strip() for el in ship.iter() if len(el) == 0})
    return ships


def _scene_context(scene: Path) -> dict[str, Any]:
    """Sensor, mode, product and polarisation from the Sentinel-1 scene name."""
    name = scene.name
    context: dict[str, Any] = {"sensor": "Sentinel-1", "band": "C"}
    if "_IW_" in name:
        context["mode"] = "IW"
    context["product"] = "SLC" if "_SLC_" in name else "GRD"
    if "1SDV" in name:
        context["polarisation"] = "VV/VH"
    elif "1SSV" in name:
        context["polarisation"] = "VV"
    return context


def _chip_record(chip: Path, ships: list[dict[str, str]], context: dict[str, Any], problems: Problems) -> ImageRecord | None:
    match = CHIP_NAME.match(chip.stem)
    if match is None:
        problems.add(f"{chip}: name is not '<Type>_x<col>_y<row>', skipped")
        return None
    try:
        info = describe(chip)
    except SarclipError as exc:
        problems.add(str(exc))
        return None
    x, y = int(match["x"]), int(match["y"])
    ship = _nearest(ships, x, y)
    attributes: dict[str, Any] = {}
    context = dict(context, value_kind=info.value_kind.value)
    if ship is None:
        problems.add(f"{chip}: no AIS record within {MATCH_TOLERANCE_PX} px of ({x}, {y}) in Ship.xml")
    else:
        attributes = _ais_attributes(ship)
        incidence = _float(ship.get("Incidence"))
        if incidence is not None:
            context["incidence_deg"] = round(incidence, 1)
    box = Box(match["type"], 0.0, 0.0, float(info.width), float(info.height), exact=False, attributes=attributes)
    return ImageRecord(str(chip), info.width, info.height, [box], context)


def _nearest(ships: list[dict[str, str]], x: int, y: int) -> dict[str, str] | None:
    best, best_distance = None, MATCH_TOLERANCE_PX + 1
    for ship in ships:
        cx, cy = _float(ship.get("Center_x")), _float(ship.get("Center_y"))
        if cx is None or cy is None:
            continue
        distance = max(abs(cx - x), abs(cy - y))
        if distance < best_distance:
            best, best_distance = ship, distance
    return best


def _ais_attributes(ship: dict[str, str]) -> dict[str, Any]:
    """Length and width (m), speed (knots), heading (deg) and detailed type, leaving out AIS 'not available'."""
    out: dict[str, Any] = {}
    length, width = _float(ship.get("Length")), _float(ship.get("Width"))
    if length and length > 0:
        out["length_m"] = round(length)
    if width and width > 0:
        out["width_m"] = round(width)
    sog = _float(ship.get("Sog"))
    if sog is not None and sog != AIS_MISSING["Sog"]:
        out["speed_kn"] = round(sog / 10, 1)  # AIS speed over ground is in tenths of a knot
    heading = _float(ship.get("True_Head"))
    if heading is not None and heading != AIS_MISSING["True_Head"] and 0 <= heading < 360:
        out["heading_deg"] = round(heading)
    detail = ship.get("Elaborated_type", "")
    if detail and detail not in ("NA", "Unspecified", "Reserved"):
        out["type_detail"] = detail
    return out


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None
