"""The "SARCLIP" Processing provider (id `sarclip`): the single code path for real work in QGIS."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .. import paths
from .build_index import BuildIndex
from .classify_labels import ClassifyLabels
from .clear_index_cache import ClearIndexCache
from .count_objects import CountObjects
from .example_query import ExampleQuery
from .text_query import TextQuery

ALGORITHMS = (TextQuery, ExampleQuery, ClassifyLabels, CountObjects, BuildIndex, ClearIndexCache)


class SarclipProvider(QgsProcessingProvider):
    """Registers the algorithms; outputs are GeoTIFF and GeoPackage because the engine writes those."""

    def id(self) -> str:
        return "sarclip"

    def name(self) -> str:
        return "SARCLIP"

    def longName(self) -> str:  # noqa: N802
        return "SARCLIP: vision-language search of SAR imagery"

    def icon(self) -> QIcon:
        return QIcon(paths.icon())

    def loadAlgorithms(self) -> None:  # noqa: N802
        for algorithm in ALGORITHMS:
            self.addAlgorithm(algorithm())

    def supportedOutputRasterLayerExtensions(self) -> list[str]:  # noqa: N802
        return ["tif"]

    def defaultRasterFileExtension(self) -> str:  # noqa: N802
        return "tif"

    def supportedOutputVectorLayerExtensions(self) -> list[str]:  # noqa: N802
        return ["gpkg"]

    def defaultVectorFileExtension(self, hasGeometry: bool = True) -> str:  # noqa: N802,N803
        return "gpkg"
