"""sarclip:example_query — "find more like this": a similarity heatmap from examples on the scene or example images."""

from __future__ import annotations

from qgis.core import (
    QgsCoordinateTransform,
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterPoint,
    QgsProcessingParameterRasterDestination,
)

from .base import SarclipAlgorithm, layer_file


class ExampleQuery(SarclipAlgorithm):
    """Processing algorithm: a similarity map to example points on the map or example image chips."""
    EXAMPLE_POINT, EXAMPLE_POINTS, EXAMPLE_IMAGES, OUTPUT = "EXAMPLE_POINT", "EXAMPLE_POINTS", "EXAMPLE_IMAGES", "OUTPUT"
    OUTPUT_KINDS = {OUTPUT: "similarity"}
    PARAMETER_HELP = {
        "EXAMPLE_POINT": "A point on the scene (click the map), in any CRS: the scene cell under it is the example.",
        "EXAMPLE_POINTS": "A point layer: every point is an example (transformed to the scene's CRS).",
        "EXAMPLE_IMAGES": "Image chips of what to find (any raster GDAL reads), e.g. a ship cut from another scene.",
        "PEAK_THRESHOLD": "The cosine similarity a peak must reach. Empty: half-way between the scene's median and "
                          "its best cell.",
        "OUTPUT": "The similarity heatmap (float32 GeoTIFF, cosine similarity, NaN where there is no data).",
    }
    HELP = ("<p>Query by example: give one or more examples of what you look for, and get a heatmap of how "
            "similar every cell of the scene is to them (cosine similarity of the model's embeddings). Examples "
            "are a point on the scene (clicked on the map), a point layer (every point is an example), and/or "
            "example image chips (e.g. a ship cut from another scene); they are averaged. A point's example is the "
            "scene cell under it, read from the scene index, so picking on the map needs no extra encoding. "
            "When the examples are bright targets (a ship, a vehicle), the peaks listed are those a bright "
            "scatterer confirms; for an example of water or fields they are the map's own maxima. Similarities "
            "are not calibrated: peaks default to half-way between the scene's median and its best cell.</p>")

    def name(self) -> str:
        return "example_query"

    def displayName(self) -> str:  # noqa: N802
        return "Find similar (query by example)"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_input()
        self.addParameter(QgsProcessingParameterPoint(self.EXAMPLE_POINT, "Example point on the scene", optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.EXAMPLE_POINTS, "Example points (every point of the layer)", [QgsProcessing.TypeVectorPoint],
            optional=True))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.EXAMPLE_IMAGES, "Example images (chips of what to find)", QgsProcessing.TypeRaster, optional=True))
        self.add_common_parameters()
        self.add_peak_threshold("cosine similarity, empty = half-way between the scene's median and best cell", -1.0)
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "Similarity heatmap"))

    def example_points(self, parameters: dict, context: QgsProcessingContext) -> list[tuple[float, float]]:
        """Every example point, in the scene's CRS (as given, for a scene without CRS: QGIS's pixel frame)."""
        points, scene_crs = [], self.scene_crs
        if parameters.get(self.EXAMPLE_POINT) not in (None, ""):
            crs = scene_crs if scene_crs.isValid() else None
            point = self.parameterAsPoint(parameters, self.EXAMPLE_POINT, context, crs) if crs else \
                self.parameterAsPoint(parameters, self.EXAMPLE_POINT, context)
            points.append((point.x(), point.y()))
        source = self.parameterAsSource(parameters, self.EXAMPLE_POINTS, context)
        if source is not None:
            transform = QgsCoordinateTransform(source.sourceCrs(), scene_crs, context.transformContext()) \
                if source.sourceCrs().isValid() and scene_crs.isValid() else None
            for feature in source.getFeatures():
                geometry = feature.geometry()
                if geometry.isEmpty():
                    continue
                if transform is not None:
                    geometry.transform(transform)
                points += [(vertex.x(), vertex.y()) for vertex in geometry.vertices()]
        return points

    def run_engine(self, engine, scene, parameters, context, settings, progress, is_cancelled):
        points = self.example_points(parameters, context)
        images = [layer_file(item) for item in self.parameterAsLayerList(parameters, self.EXAMPLE_IMAGES, context)]
        if not points and not images:
            raise QgsProcessingException("no example given: pick a point on the scene, give a point layer, "
                                         "or give example images")
        out = self.output_path(parameters, self.OUTPUT, context, ".tif")
        result = engine.image_query(scene, images, out, model=self.model(parameters, context), settings=settings,
                                    progress=progress, is_cancelled=is_cancelled, quicklook=False,
                                    example_points=points, peak_threshold=self.peak_threshold(parameters, context))
        self.style_on_load(context, self.OUTPUT, out, result["query"], scene)
        return {self.OUTPUT: out, self.MESSAGE: result["message"]}
