"""How dark each map pixel is within its scene: the cue a water threshold uses, which the model cannot see.

The encoder reads each window standardised on its own (io.convert), so a window wholly on calm water
and one wholly on land differ to it only by texture: the absolute level that makes water dark in SAR
is gone. Maps of water-like labels therefore add the scene's own radiometric evidence:

- every output pixel's mean level in dB (first SAR band; an average over its factor x factor source
  pixels, so speckle is averaged out as an analyst's multilooking would);
- a two-component Gaussian mixture over the scene's levels; only when the two are clearly apart
  (Ashman's D >= 2, the bimodality test of split-based flood thresholding) and each holds at least
  MIN_SHARE of the scene is there a dark mode (a few bright ships or vehicles on sea or clutter make a
  second mode too, but a tiny one: there the dark mode is the scene's background, not water);
- each pixel's log-odds of belonging to the darker mode, clipped to +-CLIP and scaled by WEIGHT,
  added to the logits of the water-like labels (a product of experts: the model's semantics, the
  scene's radiometry). A scene with one mode (all sea, all land) adds nothing, and where the model is
  more certain than the clipped evidence it still decides (land darker than its surroundings);
- on a calibrated scene (values in dB, first band co-polarised or unnamed: sigma0/gamma0 as Sentinel-1
  products give it) also the absolute level: calm water is dark in absolute terms, so a pixel far
  brighter than the calm sea cannot be water, whatever its texture says. That evidence is one-sided
  (darkness alone proves nothing: radar shadow, tarmac and sand are dark too): the log-likelihood drop
  of the calm-sea level distribution above its mean, -z^2/2, measured on calibrated OpenSARShip
  training chips (SEA_DB). This is what keeps a dry, one-mode Sentinel-1 field scene from being called water.

The same dark mode tells a ship from a bright quay: the best location of a vessel query weighs each
candidate by the share of water within a cell of it (SceneLevels.afloat), since a ship floats and a coast's bright
returns sit on land. On 160 SSDD training images pointing went from 95.6% to 96.9% (a reach of two
cells: 96.2%); as a filter of count peaks it changed nothing (F1 77.3 vs 77.2), so counts do not use it.

WEIGHT, CLIP and MIN_SHARE were chosen on training scenes only (SSDD training images with their sea/land
masks and composed MSTAR clutter scenes, which hold no water), SEA_DB on OpenSARShip's calibrated training
chips; see scripts/fit_water_evidence.py.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from scipy import ndimage
from scipy.special import expit
from sklearn.mixture import GaussianMixture

from ..d2c.vocabulary import DEFAULT_VOCABULARY, load_vocabulary
from ..files import atomic_file
from ..io import OutputGrid, RasterInfo, ValueKind, open_raster, to_domain

BIMODAL_D = 2.0  # Ashman's D at which two modes count as separate (Ashman et al. 1994)
MIN_SHARE = 0.1  # the smaller mode's share of the scene for it to be a surface, not scattered targets
WEIGHT = 1.0  # log-odds of the dark mode, times this, are added to water-like labels' logits
CLIP = 4.0  # ... after clipping to +-CLIP, so a confident model still decides
STRIP_ROWS = 64  # output rows of levels read at once
FIT_SAMPLES = 100_000  # levels the mixture is fitted on (a seeded sample of the scene's)
SEA_DB = (-20.67, 3.71)  # calm-sea VV sigma0 in dB, mean and spread (280 OpenSARShip training chips)
CO_POLARISED = ("VV", "HH")
WATER_KEYS = ("water",)  # a label is water-like when the vocabulary's hypernym or key says water
WATER_WORDS = ("water", "sea", "river", "lake", "flood", "lagoon", "ocean", "pond", "reservoir")  # labels it lacks
VESSEL = "ship"  # the vocabulary's hypernym of vessels
AFLOAT_CELLS = 1  # a vessel's surroundings: this many cells around its peak (2 pointed worse on training images)
# A target's return: an output pixel counts half as one at TARGET_ABOVE_DB above the scene's upper-quartile level,
# on a logistic of TARGET_SOFTNESS_DB (chosen on 160 SSDD training images, see SceneLevels.target_return).
TARGET_ABOVE_DB = 6.0
TARGET_SOFTNESS_DB = 2.0


@dataclass(frozen=True)
class DarkMode:
    """The darker of two well-separated level modes of a scene (means and spreads in dB, weights)."""

    means: tuple[float, float]
    spreads: tuple[float, float]
    weights: tuple[float, float]

    @property
    def separation(self) -> float:
        """Ashman's D: distance of the means over their pooled spread."""
        return math.sqrt(2) * abs(self.means[1] - self.means[0]) / math.hypot(*self.spreads)

    def log_odds(self, levels: np.ndarray) -> np.ndarray:
        """Per pixel, log P(dark mode) - log P(bright mode); NaN where the level is NaN."""
        dark, bright = (_log_density(levels, self.means[i], self.spreads[i], self.weights[i]) for i in (0, 1))
        return dark - bright


def _log_density(x: np.ndarray, mean: float, spread: float, weight: float) -> np.ndarray:
    return math.log(weight) - math.log(spread) - 0.5 * ((x - mean) / spread) ** 2


def is_water_label(label: str) -> bool:
    """True for labels that name water: a vocabulary background whose hypernym is water (water, sea, river,
    flooded fields...; "harbour" and "seaport" are land there), else any label holding a WATER_WORDS word."""
    vocabulary = load_vocabulary(DEFAULT_VOCABULARY)
    folded = label.strip().lower()
    for key, words in vocabulary.backgrounds.items():
        if folded in {key.lower(), *(t.lower() for t in words.terms)}:
            return words.hypernym.lower() in WATER_KEYS or key.lower() in WATER_KEYS
    return any(word in folded for word in WATER_WORDS)


def output_levels(info: RasterInfo, grid: OutputGrid) -> np.ndarray:
    """(height, width) mean level in dB of the first SAR band per output pixel; NaN where no data.

    Read in strips of STRIP_ROWS output rows and averaged block by block (nodata and non-finite pixels
    left out), so memory is a strip's, whatever the scene size (and 4x faster than GDAL's averaging
    resampler on a 100-Mpixel scene). Complex (SLC) scenes give no levels: averaging complex samples
    cancels their phases.
    """
    levels = np.full((grid.height, grid.width), np.nan, np.float32)
    if info.value_kind.is_complex:
        return levels
    f, area = grid.factor, grid.origin
    cols = min(area.col + area.width, info.width) - area.col
    with open_raster(info.path) as ds:
        for r0 in range(0, grid.height, STRIP_ROWS):
            r1 = min(grid.height, r0 + STRIP_ROWS)
            rows = min(area.row + r1 * f, area.row + area.height, info.height) - (area.row + r0 * f)
            data = ds.read(1, window=rasterio.windows.Window(area.col, area.row + r0 * f, cols, rows),
                           out_dtype=np.float32)
            valid = np.isfinite(data) if info.nodata is None else np.isfinite(data) & (data != info.nodata)
            shape = (r1 - r0, f, grid.width, f)
            if data.shape == (shape[0] * f, shape[2] * f) and valid.all():  # whole blocks, all valid: the usual
                levels[r0:r1] = to_domain(data.reshape(shape).mean(axis=(1, 3))[None], info.value_kind, "db")[0]
                continue
            sums = np.zeros(((r1 - r0) * f, grid.width * f), np.float32)
            sums[:rows, :cols] = np.where(valid, data, 0)
            counts = np.zeros(sums.shape, np.uint8)
            counts[:rows, :cols] = valid
            total = sums.reshape(shape).sum(axis=(1, 3))
            count = counts.reshape(shape).sum(axis=(1, 3), dtype=np.int32)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = total / count
            levels[r0:r1] = np.where(count > 0, to_domain(mean[None], info.value_kind, "db")[0], np.nan)
    return levels


def dark_mode(levels: np.ndarray, seed: int = 0, separation: float = BIMODAL_D,
              min_share: float = MIN_SHARE) -> DarkMode | None:
    """The scene's dark mode when its levels have two clearly separate modes (Ashman's D >= `separation`),
    each holding at least `min_share` of the levels; else None."""
    values = levels[np.isfinite(levels)].astype(np.float64)
    if values.size < 16 or np.ptp(values) == 0:
        return None
    if values.size > FIT_SAMPLES:
        values = np.random.default_rng(seed).choice(values, FIT_SAMPLES, replace=False)
    mixture = GaussianMixture(2, random_state=seed).fit(values[:, None])
    order = np.argsort(mixture.means_[:, 0])
    mode = DarkMode(tuple(float(mixture.means_[i, 0]) for i in order),
                    tuple(float(np.sqrt(mixture.covariances_.reshape(2)[i])) for i in order),
                    tuple(float(mixture.weights_[i]) for i in order))
    return mode if mode.separation >= separation and min(mode.weights) >= min_share else None


def water_evidence(levels: np.ndarray, mode: DarkMode | None) -> np.ndarray:
    """Per pixel, what radiometry adds to a water-like label's logit: WEIGHT * clip(log-odds dark, +-CLIP);
    0 where there is no dark mode or no data."""
    if mode is None:
        return np.zeros_like(levels, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        evidence = WEIGHT * np.clip(mode.log_odds(levels.astype(np.float64)), -CLIP, CLIP)
    return np.nan_to_num(evidence, nan=0.0)


def is_calibrated(info: RasterInfo) -> bool:
    """True for scenes whose levels are absolute: values in dB with a co-polarised (or unnamed) first band."""
    return info.value_kind is ValueKind.DB and (not info.polarisations or info.polarisations[0].upper() in CO_POLARISED)


def too_bright_for_water(levels: np.ndarray) -> np.ndarray:
    """Per pixel, the calm sea's log-likelihood drop at this level above its mean (-z^2/2, 0 at or below it;
    0 where no data)."""
    mean, spread = SEA_DB
    with np.errstate(invalid="ignore"):
        above = np.clip((levels.astype(np.float64) - mean) / spread, 0, None)
    return np.nan_to_num(-0.5 * above ** 2, nan=0.0)


def add_evidence(probabilities: np.ndarray, evidence: np.ndarray, rows: list[int]) -> np.ndarray:
    """(L, h, w) label probabilities with `evidence` (h, w) added to the log-probabilities of label `rows`,
    renormalised over the labels; one label alone (L = 1, a query against its backgrounds) shifts its log-odds.
    NaN (no data) stays NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if len(probabilities) == 1:
            p = np.clip(probabilities[0], 1e-12, 1 - 1e-12)
            return expit(np.log(p) - np.log1p(-p) + evidence)[None]
        logits = np.log(np.maximum(probabilities, 1e-12))
        logits[rows] += evidence
        exp = np.exp(logits - logits.max(axis=0, keepdims=True))
        return exp / exp.sum(axis=0, keepdims=True)


def describe_mode(mode: DarkMode | None) -> dict | None:
    """The dark mode for a run's summary (dB, rounded), or None when the scene has none."""
    if mode is None:
        return None
    return {"dark_db": round(mode.means[0], 2), "bright_db": round(mode.means[1], 2),
            "dark_share": round(mode.weights[0], 3), "separation": round(mode.separation, 2)}


def evidence_note(info: RasterInfo, mode: DarkMode | None) -> str:
    """What the scene's radiometry added to a water map, for the run's message."""
    parts = [f"the scene's dark mode ({mode.means[0]:.1f} dB, {mode.weights[0]:.0%} of it)" if mode else
             "no dark mode (the scene's levels have one mode)"]
    if is_calibrated(info):
        parts.append("levels far above calm sea count against water")
    return "water evidence: " + "; ".join(parts)


def is_vessel_query(phrases: list[str]) -> bool:
    """True when every phrase names a vessel (ship, tanker, fishing boat...: a class whose hypernym is ship)."""
    vocabulary = load_vocabulary(DEFAULT_VOCABULARY)
    vessel_words = {w.lower() for w in vocabulary.hypernyms.get(VESSEL, (VESSEL,))}
    for words in vocabulary.classes.values():
        if words.hypernym == VESSEL:
            vessel_words |= {t.lower() for t in (words.key, *words.terms)}
    return bool(phrases) and all(phrase.strip().lower() in vessel_words for phrase in phrases)


@dataclass(frozen=True)
class SceneLevels:
    """A scene's levels on an output grid, its dark mode, and whether its levels are absolute (calibrated)."""

    levels: np.ndarray
    mode: DarkMode | None
    calibrated: bool

    def water_evidence(self) -> np.ndarray:
        """What water-like labels add on the output grid: the dark mode's clipped log-odds and, on calibrated
        scenes, the calm sea's log-likelihood drop above its level (float32)."""
        evidence = water_evidence(self.levels, self.mode)
        if self.calibrated:
            evidence += too_bright_for_water(self.levels)
        return evidence.astype(np.float32)

    def target_return(self) -> np.ndarray:
        """(height, width) 0..1: how clearly each output pixel stands out of the scene's clutter as a target's
        radar return, a logistic of its level above the scene's 75th percentile (half at TARGET_ABOVE_DB).

        The model's probability is a scene cell's (32 px); within and between likely cells it does not say where
        the target is, so the heatmap of a target query is drawn as probability x return: the map's maximum
        then sits on a target. Chosen on 160 SSDD training images: the map's maximum hit a ship in 58.1% of them
        drawn as the probability, 88.8 to 94.4% drawn this way for percentiles 50/75/90, 6 to 18 dB and softness
        1 to 4 dB; higher settings concentrate the heat on ships (up to 88%) but fade dim ships (at 12 dB only
        73% of ships keep a drawn value of 0.25 in their box). Kept: the most hits among settings that keep 95%
        of ships visible so (75th percentile, 6 dB, 2 dB: 91.2% hits, 34.9% of the heat in ship boxes, 95.1%
        of ships visible, against 58.1%, 7.1% and 99.7% for the probability alone)."""
        above = self.levels - np.nanpercentile(self.levels, 75) - TARGET_ABOVE_DB
        return np.nan_to_num(expit(above / TARGET_SOFTNESS_DB), nan=0.0).astype(np.float32)

    def afloat(self, reach: int) -> np.ndarray | None:
        """(height, width) share of the dark mode (the scene's water) within `reach` output pixels: where, and
        how much afloat, a vessel can be (0: on land). None when the scene has no dark mode (all sea, all
        land, uncalibrated one-mode scenes): then there is no land to rule out."""
        if self.mode is None:
            return None
        with np.errstate(invalid="ignore"):
            water = np.nan_to_num(self.mode.log_odds(self.levels.astype(np.float64)), nan=-1.0) > 0
        return ndimage.uniform_filter(water.astype(np.float32), size=2 * reach + 1, mode="nearest")


def scene_levels(info: RasterInfo, grid: OutputGrid, cache: Path | None = None) -> SceneLevels:
    """The scene's levels and dark mode on `grid`, read once and kept in `cache` (the scene's index folder:
    a later water or vessel query on the same scene and grid then reads a small file instead of the scene).
    A cache that cannot be written is left alone (a read-only index folder, say)."""
    area = grid.origin
    stored = cache / f"levels-f{grid.factor}-{area.col}-{area.row}-{grid.width}x{grid.height}.npz" if cache else None
    if stored is not None and stored.is_file():
        try:
            with np.load(stored) as saved:
                levels, mode = saved["levels"], saved["mode"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):  # damaged: read the scene again
            levels, mode = np.zeros(0), np.zeros(0)
        if levels.shape == (grid.height, grid.width) and mode.size in (0, 6):
            dark = DarkMode(*(tuple(float(v) for v in pair) for pair in mode.reshape(3, 2))) if mode.size else None
            return SceneLevels(levels, dark, is_calibrated(info))
    levels = output_levels(info, grid)
    mode = dark_mode(levels)
    if stored is not None:
        values = np.array([*mode.means, *mode.spreads, *mode.weights]) if mode else np.zeros(0)
        try:
            with atomic_file(stored) as temporary:
                np.savez(temporary, levels=levels, mode=values)
        except OSError:
            pass
    return SceneLevels(levels, mode, is_calibrated(info))
