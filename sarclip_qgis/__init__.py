"""SARCLIP QGIS plugin: a thin shell (dock panel, Processing provider) over sarclip_core.

The plugin entry point (classFactory) arrives with the dock and the Processing algorithms; for now
this package holds the dependency check the plugin will show when the engine cannot load.
"""
