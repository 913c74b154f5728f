"""Runs inside the QGIS desktop (qgis --code, see gui_test.sh): dock -> text query -> heatmap layer -> screenshot.

Writes $SARCLIP_GUI_OUT/result.json ({ok, message, layers}) and screenshot.png, then quits QGIS. An
uncaught exception in --code would open a modal dialog and hang, so every step is guarded and the
process ends with os._exit on failure; a watchdog does the same if the run never finishes.
"""

import json
import os
import traceback

from qgis.core import QgsProject
from qgis.PyQt.QtCore import QTimer
from qgis.utils import iface, plugins

OUT = os.environ["SARCLIP_GUI_OUT"]
state = {"ok": False, "message": "", "layers": []}


def write_result() -> None:
    with open(os.path.join(OUT, "result.json"), "w") as handle:
        json.dump(state, handle, indent=1)


def fail(message: str) -> None:
    state.update(ok=False, message=message)
    write_result()
    os._exit(1)


def guarded(step):
    def run(*args):
        try:
            step(*args)
        except Exception:  # noqa: BLE001 - anything here must end the test, not hang QGIS
            fail(traceback.format_exc())
    return run


@guarded
def start() -> None:
    plugin = plugins.get("sarclip_qgis")
    if plugin is None:
        fail(f"plugin not loaded; loaded: {sorted(plugins)}")
    layer = iface.addRasterLayer(os.environ["SARCLIP_GUI_SCENE"], "Sentinel-1 VV (dB)")
    if layer is None or not layer.isValid():
        fail("the Sentinel-1 scene did not load")
    plugin.panel_action.setChecked(True)  # what the toolbar button does
    dock = plugin.dock
    if dock is None or not dock.isVisible():
        fail("the SARCLIP dock did not open")
    dock.layer_box.setLayer(layer)
    dock.task_box.setCurrentIndex(0)
    dock.query_edit.setText("ship")
    model = os.environ["SARCLIP_GUI_MODEL"]
    dock.model_widget.setFilePath("" if model == "default" else model)
    dock.output_widget.setFilePath(os.path.join(OUT, "results"))
    dock.run_finished.connect(finished)
    dock.run()


@guarded
def finished(ok: bool, message: str) -> None:
    names = [layer.name() for layer in QgsProject.instance().mapLayers().values()]
    state.update(ok=ok and any(name.startswith("heatmap: ship") for name in names), message=message, layers=names)
    heatmap = next((l for l in QgsProject.instance().mapLayers().values() if l.name().startswith("heatmap")), None)
    if heatmap is not None:
        iface.setActiveLayer(heatmap)
        iface.layerTreeView().setCurrentLayer(heatmap)
        iface.mapCanvas().setExtent(heatmap.extent())
        iface.mapCanvas().refresh()
    QTimer.singleShot(4000, screenshot)


@guarded
def screenshot() -> None:
    iface.mainWindow().grab().save(os.path.join(OUT, "screenshot.png"))
    write_result()
    QgsProject.instance().clear()
    iface.actionExit().trigger()


QTimer.singleShot(3000, start)
QTimer.singleShot(480000, lambda: fail("timed out waiting for the run"))
