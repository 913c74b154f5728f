"""sarclip:build_index — embed a scene's windows once so that later queries are a matrix product."""

from __future__ import annotations

from qgis.core import QgsProcessingOutputFolder

from .base import SarclipAlgorithm


class BuildIndex(SarclipAlgorithm):
    """Processing algorithm: build (or reuse) a scene's index for a model, so later queries skip the encoding."""
    INDEX = "INDEX"
    HELP = ("<p>Computes and stores the window embeddings of a scene (the scene index) for a model and window "
            "settings. Run it in batch mode over many scenes overnight; later text queries, label maps and counts "
            "on those scenes with the same settings reuse the index and answer in about a second.</p>")

    def name(self) -> str:
        return "build_index"

    def displayName(self) -> str:  # noqa: N802
        return "Build scene index"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_input()
        self.add_common_parameters()
        self.addOutput(QgsProcessingOutputFolder(self.INDEX, "Scene index folder"))

    def run_engine(self, engine, scene, parameters, context, settings, progress, is_cancelled):
        index = engine.build_index(scene, model=self.model(parameters, context), settings=settings,
                                   progress=progress, is_cancelled=is_cancelled)
        folder = str(index.path)
        return {self.INDEX: folder, self.MESSAGE: f"scene index ready: {folder}"}
