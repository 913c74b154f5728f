"""ONNX export round trip: the exported graphs on ONNX Runtime give PyTorch's embeddings for chips, windows,
cells and texts. Tolerance: 1e-5 max absolute difference between unit embeddings (measured: about 2e-7)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch
import torch.nn.functional as F

from paths import DATA, ROOT
from sarclip_core.errors import SarclipError
from sarclip_core.model import (
    DEFAULT_CHECKPOINT,
    create_model,
    encode_chips,
    encode_text,
    load_checkpoint,
    save_checkpoint,
)
from sarclip_core.model.deepness import DEEPNESS_FILE
from sarclip_core.model.meta import READER_FILE
from sarclip_core.model.onnx_export import export_onnx
from sarclip_core.model.onnx_runtime import CELLS_FILE, MANIFEST, TEXT_FILE, OnnxModel, load_onnx, resize
from sarclip_core.model.tokenizer import VOCAB_FILE, Tokenizer
from sarclip_core.scene.backend import logit_scale, model_identity
from sarclip_core.scene.encoder import WindowEncoder

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """A copy of the bundled model (without any export it ships), exported here."""
    folder = tmp_path_factory.mktemp("onnx") / "model"
    shutil.copytree(DEFAULT_CHECKPOINT, folder, ignore=shutil.ignore_patterns("*.onnx", MANIFEST, VOCAB_FILE))
    export_onnx(folder)
    return folder


@pytest.fixture(scope="module")
def both(exported):
    return load_checkpoint(exported), load_onnx(exported, threads=1)


def test_export_writes_the_graphs_and_a_manifest_tied_to_the_weights(exported, both):
    checkpoint, onnx_model = both
    assert {p.name for p in exported.glob("*.onnx")} == \
        {"image_encoder.onnx", "image_fusion.onnx", CELLS_FILE, TEXT_FILE, DEEPNESS_FILE}
    assert onnx_model.identity == model_identity(checkpoint)  # an ONNX run reuses a PyTorch run's scene index
    assert onnx_model.logit_scale == pytest.approx(logit_scale(checkpoint))
    assert onnx_model.context_length == checkpoint.model.context_length
    assert (onnx_model.normalisation, onnx_model.channels, onnx_model.calibration) == \
        (checkpoint.normalisation, checkpoint.channels, checkpoint.calibration)
    # weights float16 holds exactly are stored as float16: the text graph is about half its float32 size
    text_weights = sum(p.numel() for name, p in checkpoint.model.named_parameters() if not name.startswith("visual."))
    assert (exported / TEXT_FILE).stat().st_size < 0.6 * 4 * text_weights


def test_chips_of_any_size_and_channels_match_anyreader(both, rng):
    checkpoint, onnx_model = both
    chips = [rng.normal(size=shape).astype(np.float32) for shape in
             [(1, 128, 128), (1, 300, 200), (2, 64, 90), (3, 129, 400), (1, 40, 40)]]
    expected = encode_chips(checkpoint.reader, chips).numpy()
    got = onnx_model.reader.encode_chips(chips)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < TOLERANCE


@pytest.mark.parametrize("tile", [128, 256, 96])
def test_window_cells_match_the_scene_engines_encoder(both, rng, tile):
    checkpoint, onnx_model = both
    windows = rng.normal(size=(5, 3, tile, tile)).astype(np.float32)
    expected = WindowEncoder(checkpoint)(windows)
    got = onnx_model.window_encoder()(windows)
    assert got.shape == expected.shape == (5, tile // 32, tile // 32, 256)
    assert np.abs(got - expected).max() < TOLERANCE
    assert onnx_model.window_encoder().cell_shape(tile) == WindowEncoder(checkpoint).cell_shape(tile)


def test_texts_match_open_clip_including_a_cut_one(both):
    checkpoint, onnx_model = both
    texts = ["a SAR image of a ship.", "land", "T72, BMP2 &amp; clutter; open water near the coast " * 4, ""]
    expected = encode_text(checkpoint.model, texts).numpy()
    assert np.abs(onnx_model.encode_texts(texts) - expected).max() < TOLERANCE


def test_tokenizer_gives_open_clips_tokens():
    tokenizer = Tokenizer(Path(open_clip.__file__).parent / VOCAB_FILE)
    texts = ["a SAR image of a ship.", "T72, BMP2; ZSU-234 &amp; clutter", "Ünïcode café 東京 123 don't",
             "", "  many   spaces\t", "x" * 300, "  HTML &lt;b&gt; entities  "]
    for context in (32, 77):
        assert (tokenizer(texts, context) == open_clip.tokenize(texts, context_length=context).numpy()).all()
    assert tokenizer.count("a ship") == 4  # start, a, ship, end


@pytest.mark.parametrize("shape", [(3, 300, 200), (1, 64, 64), (2, 129, 1000), (3, 128, 128)])
def test_resize_is_anyreaders_antialiased_bilinear(rng, shape):
    x = rng.normal(size=shape).astype(np.float32)
    expected = F.interpolate(torch.from_numpy(x)[None], size=(128, 128), mode="bilinear", antialias=True,
                             align_corners=False)[0].numpy()
    assert np.abs(resize(x, 128) - expected).max() < TOLERANCE


def test_stale_or_missing_export_is_a_one_line_error_naming_the_command(exported, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(exported, folder)
    (folder / READER_FILE).write_bytes((folder / READER_FILE).read_bytes()[:-1] + b"\0")
    with pytest.raises(SarclipError, match=r"made from other weights than anyreader.safetensors.*export-onnx"):
        load_onnx(folder)
    (folder / CELLS_FILE).unlink()
    with pytest.raises(SarclipError, match=f"lacks {CELLS_FILE}"):
        load_onnx(folder)
    (folder / MANIFEST).unlink()
    with pytest.raises(SarclipError, match="has no ONNX export; make it with `python -m sarclip_core.model export-onnx"):
        load_onnx(folder)


def test_export_command_line(exported, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    bad = subprocess.run([sys.executable, "-m", "sarclip_core.model", "export-onnx", str(tmp_path / "nothing")],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0
    assert "not a checkpoint folder" in bad.stderr
    folder = tmp_path / "model"
    shutil.copytree(exported, folder, ignore=shutil.ignore_patterns("*.onnx", MANIFEST))
    good = subprocess.run([sys.executable, "-m", "sarclip_core.model", "export-onnx", str(folder)],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "ONNX export written" in good.stdout
    assert isinstance(load_onnx(folder), OnnxModel)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_a_vit_tower_without_dense_readout_exports_its_window_embeddings(tmp_path, rng):
    """ViT towers have no cell readout: the export then serves the scene engine's window path (AnyReader)."""
    config = {"embed_dim": 64, "vision_cfg": {"image_size": 128, "layers": 1, "width": 64, "head_width": 32,
                                              "patch_size": 32},
              "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 1}}
    (tmp_path / "tiny-vit.json").write_text(json.dumps(config))
    torch.manual_seed(0)
    folder = save_checkpoint(tmp_path / "vit", create_model(str(tmp_path / "tiny-vit.json")), config)
    export_onnx(folder)
    assert not (folder / CELLS_FILE).exists()
    checkpoint, onnx_model = load_checkpoint(folder), load_onnx(folder, threads=1)
    for tile in (128, 200):  # the native size (one tile fused with itself), and AnyReader's tiles + global view
        windows = rng.normal(size=(3, 3, tile, tile)).astype(np.float32)
        expected = WindowEncoder(checkpoint)(windows)
        assert np.abs(onnx_model.window_encoder()(windows) - expected).max() < TOLERANCE
    assert np.abs(onnx_model.encode_texts(["a ship"]) - encode_text(checkpoint.model, ["a ship"]).numpy()).max() < TOLERANCE


def test_the_deepness_recognition_graph_gives_the_engines_chip_embeddings_from_deepness_input(exported, both):
    """Deepness (not installed here) reads a Recognition model's one input shape for its tile size, feeds 8-bit
    tiles divided by 255 in NCHW with the model's channel count, and takes the one (N, D) output as the tile's
    embedding; its metadata values are JSON. Fed that way, real MSTAR chips give the embeddings SARCLIP's own
    chip path gives (read_chip + AnyReader), to the round trip's tolerance."""
    import onnxruntime as ort
    from PIL import Image

    from sarclip_core.data import read_chip
    from sarclip_core.scene.backend import chip_embeddings

    checkpoint, _ = both
    session = ort.InferenceSession(str(exported / DEEPNESS_FILE), providers=["CPUExecutionProvider"])
    meta = {key: json.loads(value) for key, value in session.get_modelmeta().custom_metadata_map.items()}
    assert meta == {"model_type": "Recognition", "tiles_overlap": 25}
    (tiles_input,), (output,) = session.get_inputs(), session.get_outputs()
    assert tiles_input.shape[1:] == [checkpoint.channels, checkpoint.reader.native_size, checkpoint.reader.native_size]
    assert len(output.shape) == 2
    chips = sorted((DATA / "mstar_soc17").glob("*/*.jpeg"))[::500][:6]
    if len(chips) < 6:
        pytest.skip(f"real data missing: {DATA / 'mstar_soc17'}")
    pixels = np.stack([np.asarray(Image.open(chip))[..., None] for chip in chips])  # (N, H, W, C) uint8, as read
    deepness = session.run(None, {tiles_input.name: (pixels / 255.0).astype(np.float32).transpose(0, 3, 1, 2)})[0]
    ours = chip_embeddings(checkpoint, [read_chip(chip, checkpoint.normalisation, checkpoint.channels) for chip in chips])
    assert np.abs(deepness - ours).max() < 1e-4  # float32 statistics in the graph vs numpy's; measured 7e-6
    holed = (pixels[:1] / 255.0).astype(np.float32).transpose(0, 3, 1, 2)
    holed[..., :10, :10] = 0.0
    as_nan = holed.copy()
    as_nan[..., :10, :10] = np.nan  # a float raster's no data, as Deepness passes it on
    zero, nan = (session.run(None, {tiles_input.name: tiles})[0] for tiles in (holed, as_nan))
    assert np.isfinite(nan).all() and np.abs(nan - zero).max() < 1e-6
