"""Styling result layers from the plugin's resources/styles/*.qml and adding them to the project in a group.

The QML files carry the look (colour ramps, palette, opacity, classification method); the code only
fits them to the data: the palette's names to the label set, the graduated classes to the count field.
Heatmaps and confidence keep the QML's fixed 0-1 ramp: they are calibrated probabilities, and a
stretch to their own range would paint a hot spot on a scene where the query is absent. Similarity
heatmaps (query by example) have no calibrated scale: their ramp and legend span the data's range. Call on the
main thread only.
"""

from __future__ import annotations

from qgis.core import (
    QgsGraduatedSymbolRenderer,
    QgsMapLayer,
    QgsPalettedRasterRenderer,
    QgsProcessingLayerPostProcessorInterface,
    QgsProject,
    QgsRasterBandStats,
    QgsRasterLayer,
    QgsRendererRange,
    QgsSingleBandPseudoColorRenderer,
    QgsSymbol,
    QgsVectorLayer,
)
from qgis.PyQt.QtGui import QColor

from . import paths

QML_OF = {"similarity": "heatmap"}  # kinds drawn with another kind's QML, then fitted to the data
VECTOR_KINDS = ("counts", "points")  # written as GeoPackage; the other kinds as GeoTIFF


def suffix_of(kind: str) -> str:
    """The file suffix the engine writes a kind of result as."""
    return ".gpkg" if kind in VECTOR_KINDS else ".tif"
HIDDEN_KINDS = ("confidence",)  # loaded but switched off: the label map is what an analyst looks at first


def _load_qml(layer: QgsMapLayer, kind: str) -> None:
    path = paths.style(QML_OF.get(kind, kind))
    message, ok = layer.loadNamedStyle(path)
    if not ok:
        raise RuntimeError(f"{path}: {message}")


def _stretch_to_data(layer: QgsRasterLayer) -> None:
    """Spread the colour ramp over the band's own minimum..maximum and rebuild the legend from it: a similarity
    has no fixed scale (unlike a calibrated probability), and the legend must say what the colours mean."""
    renderer = layer.renderer()
    if not isinstance(renderer, QgsSingleBandPseudoColorRenderer):
        return
    stats = layer.dataProvider().bandStatistics(1, QgsRasterBandStats.Min | QgsRasterBandStats.Max)
    if not stats.maximumValue > stats.minimumValue:
        return
    shader = renderer.shader().rasterShaderFunction()
    renderer.setClassificationMin(stats.minimumValue)
    renderer.setClassificationMax(stats.maximumValue)
    shader.setMinimumValue(stats.minimumValue)
    shader.setMaximumValue(stats.maximumValue)
    shader.classifyColorRamp(band=1, input=layer.dataProvider())


# Labels an analyst reads by colour: water blue, land brown, clutter grey, ships red (matched by word).
NAMED_COLOURS = {("water", "sea", "river", "lake", "lagoon", "flood", "flooded", "ocean"): "#377eb8",
                 ("land", "field", "fields", "urban", "forest", "coast", "coastline"): "#a6761d",
                 ("clutter", "background"): "#999999", ("ship", "ships", "vessel", "vessels", "boat"): "#e41a1c"}


def label_colours(labels: list[str], palette: list[str]) -> list[str]:
    """One colour per label: its named colour when a word of it has one, else the palette's next unused one."""
    named = [next((colour for words, colour in NAMED_COLOURS.items()
                   if set(label.lower().replace(",", " ").split()) & set(words)), None) for label in labels]
    spare = iter([c for c in palette if c not in named] or palette)
    return [colour or next(spare, palette[i % len(palette)]) for i, colour in enumerate(named)]


def _name_labels(layer: QgsRasterLayer, labels: list[str]) -> None:
    """Values 1..N named after the label set, coloured by meaning where a label has one, else from the QML palette."""
    renderer = layer.renderer()
    if not isinstance(renderer, QgsPalettedRasterRenderer):
        return
    palette = [item.color.name() for item in renderer.classes()]
    classes = [QgsPalettedRasterRenderer.Class(value, QColor(colour), name)
               for value, (name, colour) in enumerate(zip(labels, label_colours(labels, palette)), start=1)]
    layer.setRenderer(QgsPalettedRasterRenderer(layer.dataProvider(), 1, classes))
    layer.renderer().setOpacity(renderer.opacity())


COUNT_FIELD = "total"  # the engine's counts layer: an n_<label> field per label and their total, graduated on


def count_classes(largest: int) -> list[tuple[int, int]]:
    """Whole-number classes for object counts: 0, 1, 2-3, 4-7, ... up to the largest count (doubling widths),
    so the legend reads "0", "1", "2 - 3" instead of equal intervals such as "0 - 0, 0 - 0, 0 - 1"."""
    classes, low = [(0, 0)], 1
    while low <= max(largest, 1):
        high = min(2 * low - 1, max(largest, 1)) if low > 1 else 1
        classes.append((low, high))
        low = high + 1
    return classes


def _graduate_counts(layer: QgsVectorLayer) -> None:
    renderer = layer.renderer()
    index = layer.fields().indexOf(COUNT_FIELD)
    if not isinstance(renderer, QgsGraduatedSymbolRenderer) or index < 0:
        return
    renderer.setClassAttribute(COUNT_FIELD)
    largest = int(max((f[index] or 0 for f in layer.getFeatures()), default=0))
    ramp, symbol = renderer.sourceColorRamp().clone(), renderer.sourceSymbol() or QgsSymbol.defaultSymbol(
        layer.geometryType())
    classes = count_classes(largest)
    for range_index in reversed(range(len(renderer.ranges()))):
        renderer.deleteClass(range_index)
    for low, high in classes:
        label = str(low) if low == high else f"{low} - {high}"
        renderer.addClassRange(QgsRendererRange(low - 0.5, high + 0.5, symbol.clone(), label))
    renderer.updateColorRamp(ramp)


def apply_style(layer: QgsMapLayer, kind: str, labels: list[str] | None = None) -> None:
    """Style one result layer of a kind (a QML name in resources/styles, or a QML_OF key) fitted to the data."""
    _load_qml(layer, kind)
    if kind == "labels" and labels:
        _name_labels(layer, labels)
    elif kind == "counts":
        _graduate_counts(layer)
    elif kind == "similarity":
        _stretch_to_data(layer)
    layer.triggerRepaint()


class _StyleOnLoad(QgsProcessingLayerPostProcessorInterface):
    """Applies apply_style when Processing loads an output (toolbox, batch, models)."""

    def __init__(self, kind: str, labels: list[str] | None):
        super().__init__()
        self.kind, self.labels = kind, labels

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 - QGIS API
        apply_style(layer, self.kind, self.labels)
        node = context.project().layerTreeRoot().findLayer(layer.id()) if context.project() else None
        if node is not None:
            node.setItemVisibilityChecked(self.kind not in HIDDEN_KINDS)


# QGIS owns post-processors but calls into the Python object: keep the wrappers alive.
_alive: list[_StyleOnLoad] = []


def attach_style(kind: str, labels: list[str] | None = None) -> QgsProcessingLayerPostProcessorInterface:
    """A post-processor for QgsProcessingContext.LayerDetails that styles the layer on load."""
    processor = _StyleOnLoad(kind, labels)
    _alive.append(processor)
    return processor


KIND_TITLES = {"heatmap": "heatmap", "similarity": "similar to", "labels": "label map", "confidence": "confidence", "counts": "counts",
               "points": "peaks"}


def result_name(kind: str, what: str, scene: str | None = None) -> str:
    """A result layer's name: what it is and for which query or label set ("label map: water, land"), and the
    scene (" — S1A_scene") where no group says it (toolbox and batch outputs)."""
    name = f"{KIND_TITLES[kind]}: {what}"
    return f"{name} — {scene}" if scene else name


def _unique(name: str, taken: set[str]) -> str:
    """The name, or "name (2)", "name (3)"... when the group already holds it (a repeated run)."""
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name} ({k})", k + 1
    return candidate


def add_results(results: list[tuple[str, str, str]], group_name: str, labels: list[str] | None = None,
                project: QgsProject | None = None) -> list[QgsMapLayer]:
    """Load (path, kind, layer name) results, styled, into a group at the top of the layer tree; names stay
    unique in the group."""
    project = project or QgsProject.instance()
    root = project.layerTreeRoot()
    group = root.findGroup(group_name) or root.insertGroup(0, group_name)
    taken = {node.layer().name() for node in group.findLayers() if node.layer() is not None}
    added = []
    for path, kind, base in results:
        name = _unique(base, taken)
        taken.add(name)
        layer = QgsRasterLayer(path, name) if path.lower().endswith(".tif") else QgsVectorLayer(path, name, "ogr")
        if not layer.isValid():
            raise RuntimeError(f"{path}: QGIS cannot load this result")
        apply_style(layer, kind, labels)
        project.addMapLayer(layer, False)
        group.insertLayer(0, layer).setItemVisibilityChecked(kind not in HIDDEN_KINDS)
        added.append(layer)
    return added
