"""Checkpoints: round trip, plain open_clip loading, and clear errors for wrong or damaged files."""

from __future__ import annotations

import json

import open_clip
import pytest
import torch

from sarclip_core.errors import SarclipError
from sarclip_core.io import Normalisation
from sarclip_core.model import (
    AnyReader,
    create_model,
    encode_chips,
    encode_text,
    load_checkpoint,
    load_weights,
    model_config,
    save_checkpoint,
)

LABELS = ["ship", "oil tank", "bridge"]


class Payload:
    """Any class: unpickling it would run arbitrary code paths, so loading must refuse it."""


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    torch.manual_seed(4)
    model = create_model("sarclip-tiny-rn").eval()
    reader = AnyReader.for_model(model).eval()
    with torch.no_grad():
        reader.fusion.gate.fill_(0.5)
    directory = tmp_path_factory.mktemp("ckpt") / "tiny"
    save_checkpoint(directory, model, model_config("sarclip-tiny-rn"), reader,
                    Normalisation(domain="db", method="range", low=-25.0, high=5.0), channels=2,
                    labels=LABELS, train_args={"lr": 1e-3, "epochs": 2})
    return directory, model, reader


def test_round_trip_gives_identical_outputs(saved):
    directory, model, reader = saved
    loaded = load_checkpoint(directory)
    chips = [torch.randn(2, 300, 200).numpy(), torch.randn(2, 128, 128).numpy()]
    torch.testing.assert_close(encode_chips(loaded.reader, chips), encode_chips(reader, chips), atol=0, rtol=0)
    torch.testing.assert_close(encode_text(loaded.model, LABELS), encode_text(model, LABELS), atol=0, rtol=0)
    assert loaded.normalisation == Normalisation(domain="db", method="range", low=-25.0, high=5.0)
    assert (loaded.channels, loaded.labels, loaded.train_args) == (2, LABELS, {"lr": 1e-3, "epochs": 2})
    assert sorted(p.name for p in directory.parent.iterdir()) == ["tiny"]  # no staging left behind


def test_plain_open_clip_loads_the_directory(saved):
    directory, model, _ = saved
    plain = open_clip.create_model(f"local-dir:{directory}").eval()
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), model.state_dict().values()))
    tokens = open_clip.get_tokenizer(f"local-dir:{directory}")(LABELS)
    assert tokens.shape == (3, 32)
    with torch.no_grad():
        torch.testing.assert_close(plain.encode_text(tokens), model.encode_text(tokens), atol=0, rtol=0)


def test_saving_again_replaces_the_directory(saved, tmp_path):
    _, model, reader = saved
    target = tmp_path / "again"
    save_checkpoint(target, model, model_config("sarclip-tiny-rn"), reader, labels="labels.txt")
    save_checkpoint(target, model, model_config("sarclip-tiny-rn"), reader, labels=LABELS)
    assert load_checkpoint(target).labels == LABELS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again"]


def _copy(saved, tmp_path):
    directory = tmp_path / "copy"
    directory.mkdir()
    for path in saved[0].iterdir():
        (directory / path.name).write_bytes(path.read_bytes())
    return directory


def test_truncated_weights_name_the_file(saved, tmp_path):
    directory = _copy(saved, tmp_path)
    weights = directory / "open_clip_model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(SarclipError, match=r"open_clip_model\.safetensors: cannot read weights"):
        load_checkpoint(directory)


def test_mismatched_config_names_the_keys(saved, tmp_path):
    directory = _copy(saved, tmp_path)
    config = json.loads((directory / "open_clip_config.json").read_text())
    config["model_cfg"]["vision_cfg"]["width"] = 32
    (directory / "open_clip_config.json").write_text(json.dumps(config))
    with pytest.raises(SarclipError, match=r"open_clip_model\.safetensors: weights do not match.*of another shape"):
        load_checkpoint(directory)


def test_missing_or_foreign_files_are_clear_errors(saved, tmp_path):
    directory = _copy(saved, tmp_path)
    (directory / "anyreader.safetensors").unlink()
    with pytest.raises(SarclipError, match=r"anyreader\.safetensors: weights file not found"):
        load_checkpoint(directory)
    (directory / "sarclip.json").write_text("[]")
    with pytest.raises(SarclipError, match=r"sarclip\.json: expected a JSON object"):
        load_checkpoint(directory)
    with pytest.raises(SarclipError, match="checkpoint directory not found"):
        load_checkpoint(tmp_path / "nowhere")


def test_pickled_objects_are_refused(saved, tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": Payload()}, path)
    with pytest.raises(SarclipError, match=r"evil\.pt: cannot read weights"):
        load_weights(saved[1], path)
    truncated = tmp_path / "cut.pt"
    torch.save(saved[1].state_dict(), truncated)
    truncated.write_bytes(truncated.read_bytes()[:1000])
    with pytest.raises(SarclipError, match=r"cut\.pt: cannot read weights"):
        load_weights(saved[1], truncated)


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_saving_over_something_else_refuses_and_keeps_it(saved, tmp_path, kind):
    """Only an earlier checkpoint is replaced: a folder of other files or a file stays as it was, nothing added."""
    _, model, reader = saved
    target = tmp_path / "mine"
    if kind == "folder":
        target.mkdir()
        (target / "notes.txt").write_text("keep me", encoding="utf-8")
    else:
        target.write_text("keep me", encoding="utf-8")
    with pytest.raises(SarclipError, match="not replaced"):
        save_checkpoint(target, model, model_config("sarclip-tiny-rn"), reader)
    kept = target / "notes.txt" if kind == "folder" else target
    assert kept.read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.rglob("*")) == (["mine", "notes.txt"] if kind == "folder" else ["mine"])
