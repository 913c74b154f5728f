"""classFactory target: registers the Processing provider and, in the desktop, the toolbar, menu and dock.

Processing-first (as IAMAP): the toolbar opens the panel or an algorithm's dialog; both run the
same algorithms. Under qgis_process there is no iface and only initProcessing() is called.
"""

from __future__ import annotations

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction, QMenu, QToolButton

from . import paths
from .algorithms import SarclipProvider
from .algorithms.provider import ALGORITHMS

MENU = "&SARCLIP"


class SarclipPlugin:
    """The plugin QGIS loads: the Processing provider, a toolbar button and the SARCLIP dock."""
    def __init__(self, iface):
        self.iface = iface
        self.provider: SarclipProvider | None = None
        self.dock = None
        self.toolbar = None
        self.actions: list[QAction] = []

    def initProcessing(self) -> None:  # noqa: N802 - QGIS API
        if self.provider is None:
            provider = SarclipProvider()
            # the registry takes ownership; it refuses (and deletes) a duplicate id
            self.provider = provider if QgsApplication.processingRegistry().addProvider(provider) else None

    def initGui(self) -> None:  # noqa: N802 - QGIS API
        self.initProcessing()
        window = self.iface.mainWindow()
        self.panel_action = QAction(QIcon(paths.icon()), "SARCLIP panel", window)
        self.panel_action.setCheckable(True)
        self.panel_action.setToolTip("SARCLIP: search a SAR scene by text, label set or count")
        self.panel_action.toggled.connect(self.show_dock)
        self.algorithm_actions = [self._algorithm_action(algorithm(), window) for algorithm in ALGORITHMS]
        self.actions = [self.panel_action, *self.algorithm_actions]

        self.toolbar = self.iface.addToolBar("SARCLIP")
        self.toolbar.setObjectName("SarclipToolbar")
        self.toolbar.addAction(self.panel_action)
        menu = QMenu(window)
        menu.addActions(self.algorithm_actions)
        button = QToolButton(self.toolbar)
        button.setIcon(QgsApplication.getThemeIcon("/processingAlgorithm.svg"))
        button.setToolTip("SARCLIP Processing algorithms")
        button.setMenu(menu)
        button.setPopupMode(QToolButton.InstantPopup)
        self.toolbar.addWidget(button)
        for action in self.actions:
            self.iface.addPluginToRasterMenu(MENU, action)

    def _algorithm_action(self, algorithm, parent) -> QAction:
        action = QAction(algorithm.icon(), f"{algorithm.displayName()}…", parent)
        algorithm_id = f"sarclip:{algorithm.name()}"
        action.triggered.connect(lambda _checked=False, i=algorithm_id: self.open_algorithm(i))
        return action

    @staticmethod
    def open_algorithm(algorithm_id: str) -> None:
        import processing

        processing.execAlgorithmDialog(algorithm_id)

    def show_dock(self, visible: bool = True) -> None:
        """Create the dock on first use (that is when the dependency check runs), then show or hide it."""
        if self.dock is None:
            if not visible:
                return
            from .dock import SarclipDock

            self.dock = SarclipDock(self.iface)
            self.iface.addDockWidget(Qt.RightDockWidgetArea, self.dock)
            self.dock.visibilityChanged.connect(self.panel_action.setChecked)
        self.dock.setUserVisible(visible)

    def unload(self) -> None:
        for action in self.actions:
            self.iface.removePluginRasterMenu(MENU, action)
        if self.dock is not None:
            self.iface.removeDockWidget(self.dock)
            self.dock.shutdown()
            self.dock.deleteLater()
            self.dock = None
        if self.toolbar is not None:
            self.toolbar.deleteLater()
            self.toolbar = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
