"""sarclip:clear_index_cache — remove the cached scene indexes (of a folder, or the engine's cache)."""

from __future__ import annotations

from qgis.core import QgsProcessingOutputNumber, QgsProcessingOutputString, QgsProcessingParameterFile

from .base import SarclipAlgorithm
from .engine import user_errors


class ClearIndexCache(SarclipAlgorithm):
    """Processing algorithm: empty the scene index cache, to free disk space (no scene, no model)."""

    REMOVED, FREED_MB = "REMOVED", "FREED_MB"
    HELP = ("<p>Removes every cached scene index (the stored cell embeddings that make a second query on a scene "
            "take about a second), from the given folder or the engine's cache. Indexes are rebuilt on the next "
            "query of each scene. An index another run is still building is left alone.</p>")

    def name(self) -> str:
        return "clear_index_cache"

    def displayName(self) -> str:  # noqa: N802
        return "Clear scene index cache"

    def shortHelpString(self) -> str:  # noqa: N802
        return self.HELP

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFile(
            self.INDEX_FOLDER, "Scene index folder (empty = the engine's cache)",
            behavior=QgsProcessingParameterFile.Folder, optional=True))
        self.addOutput(QgsProcessingOutputNumber(self.REMOVED, "Indexes removed"))
        self.addOutput(QgsProcessingOutputNumber(self.FREED_MB, "Disk space freed (MB)"))
        self.addOutput(QgsProcessingOutputString(self.MESSAGE, "Message"))

    def prepareAlgorithm(self, parameters, context, feedback) -> bool:  # noqa: N802 - QGIS API
        return True  # no input layer to resolve

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 - QGIS API
        from sarclip_core.scene import clear_index_cache

        folder = self.parameterAsString(parameters, self.INDEX_FOLDER, context).strip() or None
        with user_errors():
            count, freed = clear_index_cache(folder)
        message = f"removed {count} scene index(es), {freed / 1e6:.1f} MB freed"
        feedback.pushInfo(message)
        return {self.REMOVED: count, self.FREED_MB: round(freed / 1e6, 1), self.MESSAGE: message}
