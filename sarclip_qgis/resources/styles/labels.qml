<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis styleCategories="AllStyleCategories" hasScaleBasedVisibilityFlag="0" maxScale="0" version="3.22.16-Białowieża" minScale="1e+08">
  <flags>
    <Identifiable>1</Identifiable>
    <Removable>1</Removable>
    <Searchable>1</Searchable>
    <Private>0</Private>
  </flags>
  <temporal enabled="0" mode="0" fetchMode="0">
    <fixedRange>
      <start></start>
      <end></end>
    </fixedRange>
  </temporal>
  <customproperties>
    <Option type="Map">
      <Option type="QString" value="Value" name="identify/format"/>
    </Option>
  </customproperties>
  <pipe-data-defined-properties>
    <Option type="Map">
      <Option type="QString" value="" name="name"/>
      <Option name="properties"/>
      <Option type="QString" value="collection" name="type"/>
    </Option>
  </pipe-data-defined-properties>
  <pipe>
    <provider>
      <resampling enabled="false" zoomedInResamplingMethod="nearestNeighbour" zoomedOutResamplingMethod="nearestNeighbour" maxOversampling="2"/>
    </provider>
    <rasterrenderer opacity="1" alphaBand="-1" type="paletted" nodataColor="" band="1">
      <minMaxOrigin>
        <limits>None</limits>
        <extent>WholeRaster</extent>
        <statAccuracy>Estimated</statAccuracy>
        <cumulativeCutLower>0.02</cumulativeCutLower>
        <cumulativeCutUpper>0.98</cumulativeCutUpper>
        <stdDevFactor>2</stdDevFactor>
      </minMaxOrigin>
      <colorPalette>
        <paletteEntry value="1" color="#e41a1c" alpha="255" label="label 1"/>
        <paletteEntry value="2" color="#377eb8" alpha="255" label="label 2"/>
        <paletteEntry value="3" color="#4daf4a" alpha="255" label="label 3"/>
        <paletteEntry value="4" color="#984ea3" alpha="255" label="label 4"/>
        <paletteEntry value="5" color="#ff7f00" alpha="255" label="label 5"/>
        <paletteEntry value="6" color="#ffff33" alpha="255" label="label 6"/>
        <paletteEntry value="7" color="#a65628" alpha="255" label="label 7"/>
        <paletteEntry value="8" color="#f781bf" alpha="255" label="label 8"/>
        <paletteEntry value="9" color="#66c2a5" alpha="255" label="label 9"/>
        <paletteEntry value="10" color="#fc8d62" alpha="255" label="label 10"/>
        <paletteEntry value="11" color="#8da0cb" alpha="255" label="label 11"/>
        <paletteEntry value="12" color="#e78ac3" alpha="255" label="label 12"/>
      </colorPalette>
    </rasterrenderer>
    <brightnesscontrast gamma="1" brightness="0" contrast="0"/>
    <huesaturation saturation="0" colorizeRed="255" grayscaleMode="0" invertColors="0" colorizeBlue="128" colorizeStrength="100" colorizeOn="0" colorizeGreen="128"/>
    <rasterresampler maxOversampling="2"/>
    <resamplingStage>resamplingFilter</resamplingStage>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
