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
    <rasterrenderer opacity="0.8" alphaBand="-1" type="singlebandpseudocolor" classificationMax="1" classificationMin="0" nodataColor="" band="1">
      <minMaxOrigin>
        <limits>None</limits>
        <extent>WholeRaster</extent>
        <statAccuracy>Estimated</statAccuracy>
        <cumulativeCutLower>0.02</cumulativeCutLower>
        <cumulativeCutUpper>0.98</cumulativeCutUpper>
        <stdDevFactor>2</stdDevFactor>
      </minMaxOrigin>
      <rastershader>
        <colorrampshader labelPrecision="6" clip="0" minimumValue="0" maximumValue="1" colorRampType="INTERPOLATED" classificationMode="1">
          <colorramp type="gradient" name="[source]">
            <Option type="Map">
              <Option type="QString" value="0,0,4,255" name="color1"/>
              <Option type="QString" value="252,253,191,255" name="color2"/>
              <Option type="QString" value="0" name="discrete"/>
              <Option type="QString" value="gradient" name="rampType"/>
              <Option type="QString" value="0.0196078;2,2,11,255:0.0392157;5,4,22,255:0.0588235;9,7,32,255:0.0784314;14,11,43,255:0.0980392;20,14,54,255:0.117647;26,16,66,255:0.137255;33,17,78,255:0.156863;41,17,90,255:0.176471;49,17,101,255:0.196078;57,15,110,255:0.215686;66,15,117,255:0.235294;74,16,121,255:0.254902;82,19,124,255:0.27451;90,22,126,255:0.294118;98,25,128,255:0.313725;106,28,129,255:0.333333;114,31,129,255:0.352941;121,34,130,255:0.372549;129,37,129,255:0.392157;137,40,129,255:0.411765;145,43,129,255:0.431373;153,45,128,255:0.45098;161,48,126,255:0.470588;170,51,125,255:0.490196;178,53,123,255:0.509804;186,56,120,255:0.529412;194,59,117,255:0.54902;202,62,114,255:0.568627;210,66,111,255:0.588235;217,70,107,255:0.607843;224,76,103,255:0.627451;231,82,99,255:0.647059;236,88,96,255:0.666667;241,96,93,255:0.686275;244,105,92,255:0.705882;247,114,92,255:0.72549;249,123,93,255:0.745098;251,133,96,255:0.764706;252,142,100,255:0.784314;253,152,105,255:0.803922;254,161,110,255:0.823529;254,170,116,255:0.843137;254,180,123,255:0.862745;254,189,130,255:0.882353;254,198,138,255:0.901961;254,207,146,255:0.921569;254,216,154,255:0.941176;253,226,163,255:0.960784;253,235,172,255:0.980392;252,244,182,255" name="stops"/>
            </Option>
            <prop v="0,0,4,255" k="color1"/>
            <prop v="252,253,191,255" k="color2"/>
            <prop v="0" k="discrete"/>
            <prop v="gradient" k="rampType"/>
            <prop v="0.0196078;2,2,11,255:0.0392157;5,4,22,255:0.0588235;9,7,32,255:0.0784314;14,11,43,255:0.0980392;20,14,54,255:0.117647;26,16,66,255:0.137255;33,17,78,255:0.156863;41,17,90,255:0.176471;49,17,101,255:0.196078;57,15,110,255:0.215686;66,15,117,255:0.235294;74,16,121,255:0.254902;82,19,124,255:0.27451;90,22,126,255:0.294118;98,25,128,255:0.313725;106,28,129,255:0.333333;114,31,129,255:0.352941;121,34,130,255:0.372549;129,37,129,255:0.392157;137,40,129,255:0.411765;145,43,129,255:0.431373;153,45,128,255:0.45098;161,48,126,255:0.470588;170,51,125,255:0.490196;178,53,123,255:0.509804;186,56,120,255:0.529412;194,59,117,255:0.54902;202,62,114,255:0.568627;210,66,111,255:0.588235;217,70,107,255:0.607843;224,76,103,255:0.627451;231,82,99,255:0.647059;236,88,96,255:0.666667;241,96,93,255:0.686275;244,105,92,255:0.705882;247,114,92,255:0.72549;249,123,93,255:0.745098;251,133,96,255:0.764706;252,142,100,255:0.784314;253,152,105,255:0.803922;254,161,110,255:0.823529;254,170,116,255:0.843137;254,180,123,255:0.862745;254,189,130,255:0.882353;254,198,138,255:0.901961;254,207,146,255:0.921569;254,216,154,255:0.941176;253,226,163,255:0.960784;253,235,172,255:0.980392;252,244,182,255" k="stops"/>
          </colorramp>
          <item value="0" color="#000004" label="0" alpha="255"/>
          <item value="0.0196078" color="#02020b" label="0.0196" alpha="255"/>
          <item value="0.0392157" color="#050416" label="0.0392" alpha="255"/>
          <item value="0.0588235" color="#090720" label="0.0588" alpha="255"/>
          <item value="0.0784314" color="#0e0b2b" label="0.0784" alpha="255"/>
          <item value="0.0980392" color="#140e36" label="0.098" alpha="255"/>
          <item value="0.117647" color="#1a1042" label="0.118" alpha="255"/>
          <item value="0.137255" color="#21114e" label="0.137" alpha="255"/>
          <item value="0.156863" color="#29115a" label="0.157" alpha="255"/>
          <item value="0.176471" color="#311165" label="0.176" alpha="255"/>
          <item value="0.196078" color="#390f6e" label="0.196" alpha="255"/>
          <item value="0.215686" color="#420f75" label="0.216" alpha="255"/>
          <item value="0.235294" color="#4a1079" label="0.235" alpha="255"/>
          <item value="0.254902" color="#52137c" label="0.255" alpha="255"/>
          <item value="0.27451" color="#5a167e" label="0.275" alpha="255"/>
          <item value="0.294118" color="#621980" label="0.294" alpha="255"/>
          <item value="0.313725" color="#6a1c81" label="0.314" alpha="255"/>
          <item value="0.333333" color="#721f81" label="0.333" alpha="255"/>
          <item value="0.352941" color="#792282" label="0.353" alpha="255"/>
          <item value="0.372549" color="#812581" label="0.373" alpha="255"/>
          <item value="0.392157" color="#892881" label="0.392" alpha="255"/>
          <item value="0.411765" color="#912b81" label="0.412" alpha="255"/>
          <item value="0.431373" color="#992d80" label="0.431" alpha="255"/>
          <item value="0.45098" color="#a1307e" label="0.451" alpha="255"/>
          <item value="0.470588" color="#aa337d" label="0.471" alpha="255"/>
          <item value="0.490196" color="#b2357b" label="0.49" alpha="255"/>
          <item value="0.509804" color="#ba3878" label="0.51" alpha="255"/>
          <item value="0.529412" color="#c23b75" label="0.529" alpha="255"/>
          <item value="0.54902" color="#ca3e72" label="0.549" alpha="255"/>
          <item value="0.568627" color="#d2426f" label="0.569" alpha="255"/>
          <item value="0.588235" color="#d9466b" label="0.588" alpha="255"/>
          <item value="0.607843" color="#e04c67" label="0.608" alpha="255"/>
          <item value="0.627451" color="#e75263" label="0.627" alpha="255"/>
          <item value="0.647059" color="#ec5860" label="0.647" alpha="255"/>
          <item value="0.666667" color="#f1605d" label="0.667" alpha="255"/>
          <item value="0.686275" color="#f4695c" label="0.686" alpha="255"/>
          <item value="0.705882" color="#f7725c" label="0.706" alpha="255"/>
          <item value="0.72549" color="#f97b5d" label="0.725" alpha="255"/>
          <item value="0.745098" color="#fb8560" label="0.745" alpha="255"/>
          <item value="0.764706" color="#fc8e64" label="0.765" alpha="255"/>
          <item value="0.784314" color="#fd9869" label="0.784" alpha="255"/>
          <item value="0.803922" color="#fea16e" label="0.804" alpha="255"/>
          <item value="0.823529" color="#feaa74" label="0.824" alpha="255"/>
          <item value="0.843137" color="#feb47b" label="0.843" alpha="255"/>
          <item value="0.862745" color="#febd82" label="0.863" alpha="255"/>
          <item value="0.882353" color="#fec68a" label="0.882" alpha="255"/>
          <item value="0.901961" color="#fecf92" label="0.902" alpha="255"/>
          <item value="0.921569" color="#fed89a" label="0.922" alpha="255"/>
          <item value="0.941176" color="#fde2a3" label="0.941" alpha="255"/>
          <item value="0.960784" color="#fdebac" label="0.961" alpha="255"/>
          <item value="0.980392" color="#fcf4b6" label="0.98" alpha="255"/>
          <item value="1" color="#fcfdbf" label="1" alpha="255"/>
          <rampLegendSettings useContinuousLegend="1" direction="0" minimumLabel="" prefix="" orientation="2" maximumLabel="" suffix="">
            <numericFormat id="basic">
              <Option type="Map">
                <Option type="QChar" value="" name="decimal_separator"/>
                <Option type="int" value="6" name="decimals"/>
                <Option type="int" value="0" name="rounding_type"/>
                <Option type="bool" value="false" name="show_plus"/>
                <Option type="bool" value="true" name="show_thousand_separator"/>
                <Option type="bool" value="false" name="show_trailing_zeros"/>
                <Option type="QChar" value="" name="thousand_separator"/>
              </Option>
            </numericFormat>
          </rampLegendSettings>
        </colorrampshader>
      </rastershader>
    </rasterrenderer>
    <brightnesscontrast gamma="1" brightness="0" contrast="0"/>
    <huesaturation saturation="0" colorizeRed="255" grayscaleMode="0" invertColors="0" colorizeBlue="128" colorizeStrength="100" colorizeOn="0" colorizeGreen="128"/>
    <rasterresampler maxOversampling="2" zoomedInResampler="bilinear"/>
    <resamplingStage>resamplingFilter</resamplingStage>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
