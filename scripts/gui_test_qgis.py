"""Runs inside the QGIS desktop (qgis --code, see gui_test.sh): the dock driven as an analyst drives it.

Steps, each ending in a screenshot (NN-name.png) and a line in result.json:
  1. the Sentinel-1 scene, text query "ship"            -> heatmap layer on the scene
  2. the same scene, label set "water, land"             -> label map (and its confidence, switched off)
  3. the same scene, count "ship"                        -> count grid and peak points
  4. an HRSID PNG without CRS, text query "ship"         -> heatmap whose extent is the image's, as QGIS draws it
  5. the same PNG, an example picked on the map          -> similarity heatmap
  6. the same PNG, a query whose input layer is removed right after Run -> the result is still added,
     and the dock can run again
Writes $SARCLIP_GUI_OUT/result.json ({ok, steps: [{name, ok, message, layers}]}) and quits QGIS. An
uncaught exception in --code would open a modal dialog and hang, so every step is guarded and the
process ends with os._exit on failure; a watchdog does the same if a run never finishes.
"""

import json
import os
import re
import traceback

from qgis.core import QgsPointXY, QgsProject, QgsReferencedPointXY
from qgis.PyQt.QtCore import QTimer
from qgis.utils import iface, plugins

OUT = os.environ["SARCLIP_GUI_OUT"]
state = {"ok": False, "steps": []}
context = {}


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


def layers_named(prefix: str) -> list:
    return [layer for layer in QgsProject.instance().mapLayers().values() if layer.name().startswith(prefix)]


def show(layer) -> None:
    """Zoom to a result and make it the current layer, as an analyst would look at it."""
    iface.setActiveLayer(layer)
    iface.layerTreeView().setCurrentLayer(layer)
    iface.mapCanvas().setExtent(layer.extent())
    iface.mapCanvas().refresh()


def same_extent(a, b, tolerance: float) -> bool:
    ea, eb = a.extent(), b.extent()
    return all(abs(u - v) <= tolerance for u, v in ((ea.xMinimum(), eb.xMinimum()), (ea.xMaximum(), eb.xMaximum()),
                                                   (ea.yMinimum(), eb.yMinimum()), (ea.yMaximum(), eb.yMaximum())))


# ---- the steps: (name, set up the dock, check the outcome -> (ok, note)) ----

def s1_ship(dock):
    dock.layer_box.setLayer(context["s1"])
    dock.task_box.setCurrentIndex(0)
    dock.query_edit.setText("ship")


def s1_labels(dock):
    dock.task_box.setCurrentIndex(1)
    dock.labels_edit.setText("water, land")


def s1_count(dock):
    dock.task_box.setCurrentIndex(2)
    dock.labels_edit.setText("ship")


def png_ship(dock):
    context["png"] = iface.addRasterLayer(os.environ["SARCLIP_GUI_PNG"], "HRSID scene (no CRS)")
    dock.layer_box.setLayer(context["png"])
    dock.task_box.setCurrentIndex(0)
    dock.query_edit.setText("ship")


def png_example(dock):
    heatmap = layers_named("heatmap: ship")[-1]
    dock.task_box.setCurrentIndex(3)
    centre = heatmap.extent().center()  # the strongest ship of step 4, else the scene's centre
    x, y = context.get("png_best") or (centre.x(), centre.y())
    dock.set_example(QgsReferencedPointXY(QgsPointXY(x, y), heatmap.crs()))


def png_removed(dock):
    dock.task_box.setCurrentIndex(0)
    dock.query_edit.setText("vessel")
    context["remove_after_run"] = True


def check_s1_ship(dock):
    """The map covers the scene to within one of its (coarser) pixels; beyond the scene it is NaN."""
    heatmap = layers_named("heatmap: ship")
    pixel = heatmap[0].rasterUnitsPerPixelX() if heatmap else 0.0
    return bool(heatmap) and same_extent(heatmap[0], context["s1"], pixel), \
        f"heatmap on the scene's extent to within one {pixel:g} m output pixel"


def check_s1_labels(dock):
    labels, confidence = layers_named("label map: water, land"), layers_named("confidence: water, land")
    hidden = bool(confidence) and not QgsProject.instance().layerTreeRoot().findLayer(
        confidence[0].id()).itemVisibilityChecked()
    return bool(labels) and hidden, "label map shown, confidence loaded and switched off"


def check_s1_count(dock):
    return bool(layers_named("counts: ship")) and bool(layers_named("peaks: ship")), "count grid and peaks"


def check_png_ship(dock):
    heatmaps = [layer for layer in layers_named("heatmap: ship") if layer.source().find("P0") >= 0]
    ok = bool(heatmaps) and same_extent(heatmaps[0], context["png"], 1.0)
    return ok, f"no-CRS heatmap extent {heatmaps[0].extent().toString(1) if heatmaps else None} vs image " \
               f"{context['png'].extent().toString(1)}"


def check_png_example(dock):
    return bool(layers_named("similar to: example at")), "similarity heatmap added"


def check_png_removed(dock):
    return bool(layers_named("heatmap: vessel")) and dock.run_button.isEnabled(), \
        "input layer removed mid-run: result added, Run enabled again"


STEPS = [("01-s1-ship", s1_ship, check_s1_ship), ("02-s1-labels", s1_labels, check_s1_labels),
         ("03-s1-count", s1_count, check_s1_count), ("04-png-ship", png_ship, check_png_ship),
         ("05-png-example", png_example, check_png_example), ("06-png-removed", png_removed, check_png_removed)]


@guarded
def start() -> None:
    plugin = plugins.get("sarclip_qgis")
    if plugin is None:
        fail(f"plugin not loaded; loaded: {sorted(plugins)}")
    context["s1"] = iface.addRasterLayer(os.environ["SARCLIP_GUI_SCENE"], "Sentinel-1 VV (dB)")
    if context["s1"] is None or not context["s1"].isValid():
        fail("the Sentinel-1 scene did not load")
    plugin.panel_action.setChecked(True)  # what the toolbar button does
    dock = context["dock"] = plugin.dock
    if dock is None or not dock.isVisible():
        fail("the SARCLIP dock did not open")
    model = os.environ["SARCLIP_GUI_MODEL"]
    dock.model_widget.setFilePath("" if model == "default" else model)
    dock.output_widget.setFilePath(os.path.join(OUT, "results"))
    dock.run_finished.connect(finished)
    next_step()


@guarded
def next_step() -> None:
    if len(state["steps"]) == len(STEPS):
        state["ok"] = all(step["ok"] for step in state["steps"])
        write_result()
        QgsProject.instance().clear()
        iface.actionExit().trigger()
        return
    name, set_up, _ = STEPS[len(state["steps"])]
    dock = context["dock"]
    context["before"] = set(QgsProject.instance().mapLayers())
    set_up(dock)
    dock.run()
    if context.pop("remove_after_run", False):
        QgsProject.instance().removeMapLayer(context["png"].id())  # the C++ layer goes while the run goes on


@guarded
def finished(ok: bool, message: str) -> None:
    name, _, check = STEPS[len(state["steps"])]
    dock = context["dock"]
    passed, note = check(dock) if ok else (False, "run failed")
    found = re.search(r"best [-0-9.]+ at \(([-0-9.]+), ([-0-9.]+)\)", message)
    if name == "04-png-ship" and found:
        context["png_best"] = (float(found.group(1)), float(found.group(2)))  # the strongest ship: step 5's example
    state["steps"].append({"name": name, "ok": bool(ok and passed), "message": message, "check": note,
                           "layers": [layer.name() for layer in QgsProject.instance().mapLayers().values()]})
    write_result()
    added = [layer for key, layer in QgsProject.instance().mapLayers().items()
             if key not in context["before"] and layer.name().split(":")[0] != "confidence"]
    if added:
        show(added[0])
    QTimer.singleShot(3000, lambda: screenshot(name))


@guarded
def screenshot(name: str) -> None:
    iface.mainWindow().grab().save(os.path.join(OUT, f"{name}.png"))
    next_step()


QTimer.singleShot(3000, start)
QTimer.singleShot(560000, lambda: fail("timed out waiting for the runs"))
