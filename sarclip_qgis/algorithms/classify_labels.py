"""sarclip:classify_labels — a label map (best label per window) and its confidence for a label set."""

from __future__ import annotations

from qgis.core import QgsProcessingOutputString, QgsProcessingParameterRasterDestination, QgsProcessingParameterString

from .base import SarclipAlgorithm


class ClassifyLabels(SarclipAlgorithm):
    """Processing algorithm: a label map (the most likely label per pixel) and its confidence."""
    LABELS, OUTPUT, OUTPUT_CONFIDENCE = "LABELS", "OUTPUT", "OUTPUT_CONFIDENCE"
    OUTPUT_KINDS = {OUTPUT_CONFIDENCE: "confidence", OUTPUT: "labels"}  # the label map loads on top
    PARAMETER_HELP = {
        "LABELS": "Two or more labels separated by commas, e.g. 'ship, land, water' or 'T72, BMP2, clutter'.",
        "OUTPUT": "The label map (uint8 GeoTIFF: 1..N = the labels in the order given, 0 = no data).",
        "OUTPUT_CONFIDENCE": "The probability of the chosen label per place (float32 GeoTIFF, 0-1).",
    }
    HELP = ("<p>Zero-shot classification of every window against a comma-separated label set "
            "(e.g. <i>ship, land, open water</i>). The label map holds 1..N in the order given (0/nodata where "
            "the scene has no data); the confidence raster holds the winning label's probability.</p>")

    def name(self) -> str:
        return "classify_labels"

    def displayName(self) -> str:  # noqa: N802
        return "Classify with a label set"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_input()
        self.addParameter(QgsProcessingParameterString(self.LABELS, "Labels (comma-separated, e.g. 'ship, land, water')"))
        self.add_common_parameters()
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "Label map"))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT_CONFIDENCE, "Confidence"))
        self.addOutput(QgsProcessingOutputString(self.LABELS, "Label names for values 1..N (comma-separated)"))

    def run_engine(self, engine, scene, parameters, context, settings, progress, is_cancelled):
        labels = self.parameterAsString(parameters, self.LABELS, context)
        out = self.output_path(parameters, self.OUTPUT, context, ".tif")
        confidence = self.output_path(parameters, self.OUTPUT_CONFIDENCE, context, ".tif")
        result = engine.classify_labels(scene, labels, out, confidence, model=self.model(parameters, context),
                                        settings=settings, progress=progress, is_cancelled=is_cancelled, quicklook=False)
        names = [result["labels"][key] for key in sorted(result["labels"], key=int)]  # value 1..N -> label
        what = ", ".join(names)
        self.style_on_load(context, self.OUTPUT, out, what, scene, names)
        self.style_on_load(context, self.OUTPUT_CONFIDENCE, confidence, what, scene)
        return {self.OUTPUT: out, self.OUTPUT_CONFIDENCE: confidence, self.LABELS: ",".join(names),
                self.MESSAGE: result["message"]}
