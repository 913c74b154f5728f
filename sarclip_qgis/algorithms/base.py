"""What every SARCLIP algorithm shares: scene, model and window parameters, and running the engine.

Subclasses declare their own inputs/outputs and call one engine function in `run`; reading the
parameters into SceneSettings, adapting feedback, translating errors and styling outputs on load
happen here once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputString,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProviderRegistry,
    QgsRasterLayer,
)
from qgis.PyQt.QtCore import QUrl
from qgis.PyQt.QtGui import QIcon

from .. import paths
from ..layers import attach_style, result_name
from .engine import callbacks, scene_engine, session_model, user_errors

DEFAULT_OVERLAP = 0.25  # the engine's (sarclip_core.scene.settings), without importing it while QGIS starts

COMMON_HELP = {
    "INPUT": "The SAR raster: GeoTIFF or any file GDAL reads, with or without a CRS; dB, amplitude, intensity "
             "or complex values (the band descriptions or the data say which).",
    "MODEL": "Empty: the bundled model. Or a SARCLIP checkpoint folder, or an open_clip name such as "
             "'ViT-B-32:openai'.",
    "EXTENT": "Only this part of the scene, in any CRS (transformed to the scene's). Empty: the whole scene.",
    "TILE": "Window size in pixels the model reads; 0 = the model's own (128 for the bundled model).",
    "OVERLAP": "Overlap of neighbouring windows as a fraction of the tile (0-0.9). Maps resolve scene cells "
               "whatever the overlap; more overlap gives each cell more views and costs time.",
    "RESOLUTION": "Resample windows to this ground resolution, in the scene's map units per pixel; 0 = the "
                  "scene's own pixels. Needs a CRS.",
    "BATCH": "Windows encoded at once: more is faster and uses more memory.",
    "INDEX_FOLDER": "Where the scene's cell embeddings are kept; empty = the engine's cache. A second query on "
                    "the same scene and settings reuses them and takes about a second.",
    "PEAK_THRESHOLD": "The value a peak (a detected object) must reach. Empty: the model's calibrated threshold "
                      "(e.g. 0.68 for ships).",
    "OUTPUT": "Where the result is written (GeoTIFF for maps, GeoPackage for vectors) on the scene's grid and CRS.",
}


class SarclipAlgorithm(QgsProcessingAlgorithm):
    """Base class: INPUT raster, MODEL, EXTENT, advanced TILE/OVERLAP/RESOLUTION/BATCH/INDEX_FOLDER."""

    INPUT, MODEL, EXTENT = "INPUT", "MODEL", "EXTENT"
    TILE, OVERLAP, RESOLUTION, BATCH, INDEX_FOLDER = "TILE", "OVERLAP", "RESOLUTION", "BATCH", "INDEX_FOLDER"
    PEAK_THRESHOLD = "PEAK_THRESHOLD"
    MESSAGE = "MESSAGE"
    HELP = ""
    PARAMETER_HELP: dict[str, str] = {}  # an algorithm's own parameters' help; COMMON_HELP covers the shared ones
    OUTPUT_KINDS: dict[str, str] = {}  # output parameter -> kind of result layer (layers.apply_style), in loading order

    def createInstance(self):  # noqa: N802 - QGIS API
        return type(self)()

    def helpUrl(self) -> str:  # noqa: N802
        """The Help button opens the README's plugin section (shipped inside the plugin)."""
        return QUrl.fromLocalFile(str(paths.help_page())).toString() + "#the-qgis-plugin"

    def addParameter(self, parameter, createOutput: bool = True) -> bool:  # noqa: N802,N803 - QGIS API
        """Every parameter carries its help (shown as the tooltip in the algorithm dialog): see PARAMETER_HELP."""
        parameter.setHelp(self.PARAMETER_HELP.get(parameter.name(), COMMON_HELP.get(parameter.name(), "")))
        return super().addParameter(parameter, createOutput)

    def icon(self) -> QIcon:
        return QIcon(paths.icon())

    def shortHelpString(self) -> str:  # noqa: N802
        return self.HELP + (
            "<p>MODEL: empty for the bundled default model, a checkpoint folder, or an open_clip name "
            "such as <code>ViT-B-32:openai</code>. Advanced: tile size in model pixels (empty = the model's), "
            "window overlap (0-0.9), ground resolution in map units per pixel (empty = native), batch size, "
            "and a folder for the scene index (empty = the engine's cache), which makes a second query on "
            "the same scene near-instant.</p>")

    def add_input(self) -> None:
        """INPUT comes first; each algorithm adds its own inputs, then add_common_parameters()."""
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, "SAR raster"))

    def add_common_parameters(self) -> None:
        """MODEL, the optional EXTENT, the advanced window settings and the MESSAGE output."""
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL, "Model (empty = bundled default; checkpoint folder or open_clip name)",
            behavior=QgsProcessingParameterFile.Folder, optional=True))
        self.addParameter(QgsProcessingParameterExtent(self.EXTENT, "Area of interest (empty = whole scene)",
                                                       optional=True))
        advanced = [
            QgsProcessingParameterNumber(self.TILE, "Tile size (model pixels, 0 = the model's)",
                                         QgsProcessingParameterNumber.Integer, 0, True, 0, 8192),
            QgsProcessingParameterNumber(self.OVERLAP, "Window overlap (fraction of the tile)",
                                         QgsProcessingParameterNumber.Double, DEFAULT_OVERLAP, False, 0.0, 0.9),
            QgsProcessingParameterNumber(self.RESOLUTION, "Ground resolution (map units per pixel, 0 = native)",
                                         QgsProcessingParameterNumber.Double, 0.0, True, 0.0),
            QgsProcessingParameterNumber(self.BATCH, "Batch size", QgsProcessingParameterNumber.Integer,
                                         64, False, 1, 4096),
            QgsProcessingParameterFile(self.INDEX_FOLDER, "Scene index folder (empty = cache)",
                                       behavior=QgsProcessingParameterFile.Folder, optional=True),
        ]
        for parameter in advanced:
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(parameter)
        self.addOutput(QgsProcessingOutputString(self.MESSAGE, "Result message"))

    def add_peak_threshold(self, meaning: str = "probability 0-1, empty = the model's calibrated threshold",
                           minimum: float = 0.0) -> None:
        """The optional, advanced PEAK_THRESHOLD: the value a peak must reach; empty = the engine's default."""
        parameter = QgsProcessingParameterNumber(self.PEAK_THRESHOLD, f"Peak threshold ({meaning})",
                                                 QgsProcessingParameterNumber.Double, None, True, minimum, 1.0)
        parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(parameter)

    def peak_threshold(self, parameters: dict, context: QgsProcessingContext) -> float | None:
        """PEAK_THRESHOLD, or None (the engine then uses the model's calibrated threshold) when it is not set."""
        if parameters.get(self.PEAK_THRESHOLD) in (None, ""):
            return None
        return self.parameterAsDouble(parameters, self.PEAK_THRESHOLD, context)

    def prepareAlgorithm(self, parameters: dict, context: QgsProcessingContext,  # noqa: N802 - QGIS API
                         feedback: QgsProcessingFeedback) -> bool:
        """Resolve the input layer to its file and CRS here, on the thread that owns the project's layers (the
        main thread, for a background task): the run itself touches no layer, so removing the layer from the
        project mid-run cannot break it."""
        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        if layer is None or not layer.isValid():
            raise QgsProcessingException(f"{parameters.get(self.INPUT)}: not a readable raster layer")
        if layer.providerType() != "gdal":
            raise QgsProcessingException(
                f"{layer.name()}: SARCLIP reads raster files (GDAL), not '{layer.providerType()}' layers")
        self.scene_file, self.scene_crs = layer_file(layer), QgsCoordinateReferenceSystem(layer.crs())
        return True

    def model(self, parameters: dict, context: QgsProcessingContext):
        """The MODEL's checkpoint, kept for the session (engine.session_model): empty means the bundled one."""
        return session_model(self.parameterAsString(parameters, self.MODEL, context).strip() or "default")

    def settings(self, engine, parameters: dict, context: QgsProcessingContext):
        """SceneSettings from the window parameters; the AOI is taken in the scene's own CRS."""
        from sarclip_core.io import MapExtent

        aoi = None
        if parameters.get(self.EXTENT) not in (None, ""):
            rect = self.parameterAsExtent(parameters, self.EXTENT, context, self.scene_crs)
            if not rect.isNull() and not rect.isEmpty():
                aoi = MapExtent(rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum())
        index_dir = self.parameterAsString(parameters, self.INDEX_FOLDER, context).strip()
        return engine.SceneSettings(
            tile=self.parameterAsInt(parameters, self.TILE, context) or None,
            overlap=self.parameterAsDouble(parameters, self.OVERLAP, context),
            resolution=self.parameterAsDouble(parameters, self.RESOLUTION, context) or None,
            batch_size=self.parameterAsInt(parameters, self.BATCH, context),
            aoi=aoi, index_dir=index_dir or None)

    def output_path(self, parameters: dict, name: str, context: QgsProcessingContext, suffix: str) -> str:
        """A destination file path ('' for a skipped optional output); the engine writes GeoTIFF/GeoPackage."""
        path = self.parameterAsOutputLayer(parameters, name, context) or ""
        if path and Path(path).suffix.lower() != suffix:
            raise QgsProcessingException(f"{path}: {name} must be a {suffix} file")
        return path

    def processAlgorithm(self, parameters: dict, context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        engine = scene_engine()
        progress, is_cancelled = callbacks(feedback)
        with user_errors():
            settings = self.settings(engine, parameters, context)
            outputs = self.run_engine(engine, self.scene_file, parameters, context, settings, progress, is_cancelled)
        feedback.pushInfo(outputs.get(self.MESSAGE, ""))
        return outputs

    def run_engine(self, engine, scene: str, parameters: dict, context: QgsProcessingContext, settings,
            progress, is_cancelled) -> dict[str, Any]:
        """Call one engine function and return the algorithm's outputs (MESSAGE included)."""
        raise NotImplementedError

    def style_on_load(self, context: QgsProcessingContext, key: str, path: str, what: str, scene: str,
                      labels: list[str] | None = None) -> None:
        """Name and style output `key` (its kind in OUTPUT_KINDS) when Processing loads it (toolbox, batch,
        models); the dock loads the same kinds with the same styles and names (layers.add_results)."""
        if path and context.willLoadLayerOnCompletion(path):
            kind = self.OUTPUT_KINDS[key]
            details = context.layerToLoadOnCompletionDetails(path)
            details.name = result_name(kind, what, Path(scene).stem)
            details.setPostProcessor(attach_style(kind, labels))


def layer_file(layer: QgsRasterLayer) -> str:
    """The file behind a GDAL raster layer (its URI reduced to the path)."""
    return QgsProviderRegistry.instance().decodeUri("gdal", layer.source()).get("path") or layer.source()
