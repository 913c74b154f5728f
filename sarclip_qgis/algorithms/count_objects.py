"""sarclip:count_objects — estimated object counts per label on a grid of cells (and detected peaks)."""

from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorDestination,
)

from .base import SarclipAlgorithm


class CountObjects(SarclipAlgorithm):
    """Processing algorithm: objects of the given labels counted per grid cell, with their points."""
    LABELS, CELL_SIZE, OUTPUT, OUTPUT_POINTS = "LABELS", "CELL_SIZE", "OUTPUT", "OUTPUT_POINTS"
    OUTPUT_KINDS = {OUTPUT: "counts", OUTPUT_POINTS: "points"}
    PARAMETER_HELP = {
        "LABELS": "What to count, separated by commas, e.g. 'ship'. Background words (water, land) are not counted.",
        "CELL_SIZE": "Side of one count cell, in the scene's map units (metres for UTM, degrees for WGS 84, "
                     "pixels for a scene without CRS).",
        "OUTPUT": "The count grid (GeoPackage polygons with a count per label and the total).",
        "OUTPUT_POINTS": "One point per detected object, on its brightest scatterer, with its probability.",
    }
    HELP = ("<p>Estimates how many objects of each label (e.g. <i>ship</i>) lie in each cell of a grid "
            "(cell size in the scene's map units) from the peaks of per-label probability maps (local maxima at or "
            "above the peak threshold; empty = the model's calibrated threshold), and writes the "
            "grid as a GeoPackage (fields per label and <i>total</i>). The peaks go to their own point layer "
            "when one is asked for, otherwise into the grid's GeoPackage as layer <i>peaks</i>.</p>")

    def name(self) -> str:
        return "count_objects"

    def displayName(self) -> str:  # noqa: N802
        return "Count objects on a grid"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_input()
        self.addParameter(QgsProcessingParameterString(self.LABELS, "Labels to count (comma-separated, e.g. 'ship')"))
        self.addParameter(QgsProcessingParameterNumber(self.CELL_SIZE, "Cell size (map units)",
                                                       QgsProcessingParameterNumber.Double, 1000.0, False, 0.0))
        self.add_common_parameters()
        self.add_peak_threshold()
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT, "Count grid",
                                                                  QgsProcessing.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT_POINTS, "Detected peaks", QgsProcessing.TypeVectorPoint, optional=True, createByDefault=False))

    def run_engine(self, engine, scene, parameters, context, settings, progress, is_cancelled):
        labels = self.parameterAsString(parameters, self.LABELS, context)
        cell_size = self.parameterAsDouble(parameters, self.CELL_SIZE, context)
        out = self.output_path(parameters, self.OUTPUT, context, ".gpkg")
        points = self.output_path(parameters, self.OUTPUT_POINTS, context, ".gpkg")
        result = engine.count_objects(scene, labels, cell_size, out, out_points_path=points or None,
                                      model=self.model(parameters, context), settings=settings,
                                      progress=progress, is_cancelled=is_cancelled,
                                      min_score=self.peak_threshold(parameters, context))
        what = ", ".join(result["labels"])
        self.style_on_load(context, self.OUTPUT, out, what, scene, result["labels"])
        outputs = {self.OUTPUT: out, self.MESSAGE: result["message"]}
        if points:
            self.style_on_load(context, self.OUTPUT_POINTS, points, what, scene)
            outputs[self.OUTPUT_POINTS] = points
        return outputs
