"""Export a SARCLIP checkpoint to ONNX, into the checkpoint folder, for inference without PyTorch.

Four graphs (five with DEEPNESS_FILE), each what a PyTorch module computes, and a manifest
(onnx_runtime.MANIFEST) that ties them to the weights they came from:

- IMAGE_FILE: the image tower, native-size chips (B, C, S, S) -> pooled embeddings (B, D), not normalised.
- FUSION_FILE: AnyReader's tile fusion, (global (B, D), tiles (B, N, D), padding (B, N)) -> (B, D).
- CELLS_FILE: the dense readout the scene engine indexes (model/dense.py), windows (B, C, H, W) of any size
  (multiples of the tower's stride) -> unit cell embeddings (B, H/32, W/32, D); only for towers with one.
- TEXT_FILE: the text tower, token ids (N, L) -> embeddings (N, D), not normalised.
- DEEPNESS_FILE: the image tower as a Deepness Recognition model, linear tiles in any scale -> unit embeddings
  (deepness.py); only for checkpoints normalised the default way.

AnyReader's resizing and tiling are array work around these graphs (onnx_runtime.OnnxReader); the
tokenizer's merges file is copied beside them (tokenizer.py). Weights that float16 holds exactly (all
that come from a checkpoint saved in fp16, such as the bundled model, except those the exporter folds
together) are stored as float16 and cast back in the graph: half the size, the same numbers. The files are written under temporary
names and the manifest last, so an interrupted export leaves no manifest and is not used.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import onnx
import open_clip
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper
from torch import Tensor, nn

from ..errors import SarclipError
from ..files import staging_path
from .anyreader import TileFusion
from .checkpoint import Checkpoint, load_checkpoint
from .deepness import DEEPNESS_FILE, RecognitionGraph, can_export, write_metadata
from .dense import dense_cells, has_dense_readout
from .meta import READER_FILE, WEIGHTS_FILE
from .onnx_runtime import CELLS_FILE, FUSION_FILE, IMAGE_FILE, MANIFEST, MANIFEST_FORMAT, TEXT_FILE, digest
from .tokenizer import VOCAB_FILE

OPSET = 17


class _Cells(nn.Module):
    def __init__(self, visual: nn.Module):
        super().__init__()
        self.visual = visual

    def forward(self, windows: Tensor) -> Tensor:
        return dense_cells(self.visual, windows)


class _Fusion(nn.Module):
    """TileFusion.forward written out with shapes read at run time: nn.MultiheadAttention traces the tile count
    into constant reshapes, so its graph would only take the example's number of tiles."""

    def __init__(self, fusion: TileFusion):
        super().__init__()
        self.fusion = fusion

    def forward(self, global_emb: Tensor, tiles: Tensor, padding: Tensor) -> Tensor:
        fusion, attn = self.fusion, self.fusion.attn
        heads, dim = attn.num_heads, global_emb.shape[-1]
        q_w, k_w, v_w = attn.in_proj_weight.chunk(3)
        q_b, k_b, v_b = attn.in_proj_bias.chunk(3)
        query = fusion.norm_query(global_emb)[:, None]
        keys = fusion.norm_tiles(tiles)

        def split(x: Tensor) -> Tensor:  # (B, L, D) -> (B, heads, L, D / heads)
            return x.reshape(x.shape[0], x.shape[1], heads, -1).transpose(1, 2)

        q, k, v = split(F.linear(query, q_w, q_b)), split(F.linear(keys, k_w, k_b)), split(F.linear(keys, v_w, v_b))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(dim // heads)
        scores = scores.masked_fill(padding[:, None, None, :], float("-inf"))
        pooled = (scores.softmax(-1) @ v).transpose(1, 2).reshape(global_emb.shape[0], dim)
        return global_emb + torch.tanh(fusion.gate) * attn.out_proj(pooled)


class _Text(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, tokens: Tensor) -> Tensor:
        return self.model.encode_text(tokens)


def export_onnx(folder: str | os.PathLike) -> Path:
    """Write the ONNX graphs, the tokenizer's merges and the manifest into a checkpoint folder; returns the manifest."""
    from ..scene.backend import logit_scale, model_identity  # as the scene engine reads them from PyTorch
    from ..scene.settings import DEFAULT_OVERLAP

    root = Path(folder)
    checkpoint = load_checkpoint(root)
    model, reader = checkpoint.model, checkpoint.reader
    dense = has_dense_readout(reader.encoder)
    stage = staging_path(root / "onnx")
    stage.mkdir()
    try:
        dim, files = _export_graphs(checkpoint, stage, dense)
        if DEEPNESS_FILE in files:
            write_metadata(stage / DEEPNESS_FILE, DEFAULT_OVERLAP)
        shutil.copyfile(Path(open_clip.__file__).parent / VOCAB_FILE, stage / VOCAB_FILE)
        files.append(VOCAB_FILE)
        manifest = {
            "format": MANIFEST_FORMAT, "opset": OPSET, "torch": torch.__version__,
            "weights": {name: digest(root / name) for name in (WEIGHTS_FILE, READER_FILE)},
            "files": {name: (stage / name).stat().st_size for name in files},
            "identity": model_identity(checkpoint), "native_size": reader.native_size, "input_channels": reader.channels,
            "enabled": reader.enabled, "dense": dense, "dim": dim, "context_length": int(model.context_length),
            "logit_scale": logit_scale(checkpoint),
        }
        (root / MANIFEST).unlink(missing_ok=True)  # files of mixed exports are never taken as a set
        for optional in {CELLS_FILE, DEEPNESS_FILE} - set(files):  # a former export's, for other weights
            (root / optional).unlink(missing_ok=True)
        for name in files:
            os.replace(stage / name, root / name)
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        os.replace(stage / MANIFEST, root / MANIFEST)
    except OSError as error:
        raise SarclipError(f"{root}: cannot write the ONNX export ({error.strerror or error}); is the disk full?") \
            from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return root / MANIFEST


def _export_graphs(checkpoint: Checkpoint, stage: Path, dense: bool) -> tuple[int, list[str]]:
    """Trace each graph with example inputs and write it to `stage`; returns the embedding size and the files."""
    reader, model = checkpoint.reader, checkpoint.model
    native, channels = reader.native_size, reader.channels
    chips = torch.zeros(2, channels, native, native)
    with torch.no_grad():
        dim = int(reader.encoder(chips).shape[-1])
    tokens = torch.zeros(2, int(model.context_length), dtype=torch.long)
    tokens[:, 0], tokens[:, 1] = 49406, 49407
    tiles, padding = torch.zeros(2, 3, dim), torch.zeros(2, 3, dtype=torch.bool)
    graphs = [(reader.encoder, (chips,), IMAGE_FILE, ["images"], ["embeddings"],
               {"images": {0: "batch"}, "embeddings": {0: "batch"}}),
              (_Fusion(reader.fusion), (torch.zeros(2, dim), tiles, padding), FUSION_FILE, ["global", "tiles", "padding"],
               ["fused"], {"global": {0: "batch"}, "tiles": {0: "batch", 1: "count"}, "padding": {0: "batch", 1: "count"},
                           "fused": {0: "batch"}}),
              (_Text(model), (tokens,), TEXT_FILE, ["tokens"], ["embeddings"],
               {"tokens": {0: "batch"}, "embeddings": {0: "batch"}})]
    if dense:
        graphs.append((_Cells(reader.encoder), (chips,), CELLS_FILE, ["windows"], ["cells"],
                       {"windows": {0: "batch", 2: "height", 3: "width"}, "cells": {0: "batch", 1: "rows", 2: "cols"}}))
    if can_export(checkpoint.normalisation):
        graph = RecognitionGraph(reader.encoder, _Fusion(reader.fusion) if reader.enabled else None,
                                 checkpoint.normalisation.clip, checkpoint.channels, channels)
        graphs.append((graph, (torch.ones(2, checkpoint.channels, native, native),), DEEPNESS_FILE, ["tiles"],
                       ["embeddings"], {"tiles": {0: "batch"}, "embeddings": {0: "batch"}}))
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # its fused attention op has no ONNX form (ViT towers)
    try:
        for module, args, name, inputs, outputs, axes in graphs:
            _export(module, args, stage / name, inputs, outputs, axes)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    return dim, [name for _, _, name, _, _, _ in graphs]


def _export(module: nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str], axes: dict) -> None:
    """One graph, traced by the TorchScript exporter (the dynamo one needs onnxscript), weights stored in half."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notes
        torch.onnx.export(module.eval(), args, str(path), dynamo=False, opset_version=OPSET,
                          input_names=inputs, output_names=outputs, dynamic_axes=axes)
    store_half(path)


def store_half(path: Path) -> int:
    """Store the graph's float32 weights that float16 represents exactly as float16, each cast back to float32 by
    a Cast node at the graph's start (ONNX Runtime folds these when it loads the graph). Returns how many."""
    model = onnx.load(str(path))
    graph = model.graph
    weights, casts = [], []
    for weight in graph.initializer:
        values = numpy_helper.to_array(weight) if weight.data_type == TensorProto.FLOAT else None
        half = values.astype(np.float16) if values is not None and values.size >= 64 else None
        if half is None or not np.array_equal(half.astype(np.float32), values):
            weights.append(weight)
            continue
        weights.append(numpy_helper.from_array(half, f"{weight.name}.fp16"))
        casts.append(helper.make_node("Cast", [f"{weight.name}.fp16"], [weight.name], to=TensorProto.FLOAT))
    nodes = casts + list(graph.node)
    del graph.initializer[:], graph.node[:]
    graph.initializer.extend(weights)
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return len(casts)
