"""sarclip:text_query — a similarity heatmap of a SAR scene for a free-text query."""

from __future__ import annotations

from qgis.core import QgsProcessingParameterRasterDestination, QgsProcessingParameterString

from .base import SarclipAlgorithm


class TextQuery(SarclipAlgorithm):
    """Processing algorithm: a heatmap of where a text query matches the scene."""
    QUERY, OUTPUT = "QUERY", "OUTPUT"
    OUTPUT_KINDS = {OUTPUT: "heatmap"}
    PARAMETER_HELP = {
        "QUERY": "What to look for, in words: 'ship', 'oil tank', 'a bright vessel in open water'. Phrases "
                 "separated by ';' are averaged ('tank; armoured vehicle').",
        "OUTPUT": "The probability heatmap (float32 GeoTIFF, 0-1, NaN where the scene has no data); for targets "
                  "(ships, vehicles) drawn as probability x radar return, so its maximum sits on a target.",
    }
    HELP = ("<p>Scores every cell of the scene against a text query (e.g. <i>ship</i>, <i>oil tank</i>, "
            "<i>a bright vessel in open water</i>) and writes a float32 heatmap on the scene's grid: the probability "
            "(0-1, the same meaning on every scene) that a place shows the query rather than background such as "
            "sea, land or clutter; NaN where the scene has no data. Phrases separated by ';' are averaged "
            "(<i>tank; armoured vehicle</i>). A query about targets (ships, vehicles) is drawn as that probability "
            "times how far each pixel's radar return stands above the scene's clutter, so the map's maximum sits on "
            "a target. Peaks at or above the peak threshold are listed in the message.</p>")

    def name(self) -> str:
        return "text_query"

    def displayName(self) -> str:  # noqa: N802
        return "Text query heatmap"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_input()
        self.addParameter(QgsProcessingParameterString(self.QUERY, "Query (what to look for, e.g. 'ship')"))
        self.add_common_parameters()
        self.add_peak_threshold()
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "Probability heatmap"))

    def run_engine(self, engine, scene, parameters, context, settings, progress, is_cancelled):
        query = self.parameterAsString(parameters, self.QUERY, context).strip()
        out = self.output_path(parameters, self.OUTPUT, context, ".tif")
        result = engine.text_query(scene, query, out, model=self.model(parameters, context), settings=settings,
                                   progress=progress, is_cancelled=is_cancelled, quicklook=False,
                                   peak_threshold=self.peak_threshold(parameters, context))
        self.style_on_load(context, self.OUTPUT, out, query, scene)
        return {self.OUTPUT: out, self.MESSAGE: result["message"]}
