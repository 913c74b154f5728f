"""Model factory: open_clip names, JSON configs, weights from files, directories and (offline) tags."""

from __future__ import annotations

import json
import time

import open_clip
import pytest
import torch
from huggingface_hub import constants as hub_constants
from safetensors.torch import save_file

from sarclip_core.errors import SarclipError
from sarclip_core.model import CONFIG_DIR, create_model, model_config, save_checkpoint
from sarclip_core.model.factory import _hub_unreachable


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_tiny_sar_config_is_small_and_native_128():
    model = create_model("sarclip-tiny-rn")
    visual = sum(p.numel() for p in model.visual.parameters())
    total = sum(p.numel() for p in model.parameters())
    assert model.visual.image_size == 128 and model.context_length == 32
    assert 1e6 < visual < 2e6 and total < 10e6
    assert model.encode_image(torch.zeros(2, 3, 128, 128)).shape == (2, 256)


def test_open_clip_architecture_by_name():
    model = create_model("RN50")
    assert model.visual.image_size == 224 and model_config("RN50")["embed_dim"] == 1024


def test_json_config_file(tmp_path):
    config = json.loads((CONFIG_DIR / "sarclip-tiny-rn.json").read_text())
    config["embed_dim"] = 64
    path = tmp_path / "my-sar-model.json"
    path.write_text(json.dumps(config))
    model = create_model(path)
    assert model.encode_image(torch.zeros(1, 3, 128, 128)).shape == (1, 64)
    assert model_config("my-sar-model")["embed_dim"] == 64


@pytest.mark.parametrize("text, message", [("{not json", "cannot read model config"),
                                           ('{"embed_dim": 8}', "needs embed_dim, vision_cfg and text_cfg")])
def test_bad_json_config_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(SarclipError, match=message):
        create_model(path)


def test_unknown_name_is_a_clear_error():
    with pytest.raises(SarclipError, match="unknown model 'no-such-net'"):
        create_model("no-such-net")


def test_pretrained_tag_offline_fails_fast(monkeypatch):
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    start = time.monotonic()
    with pytest.raises(SarclipError, match="RN50/openai.*no internet"):
        create_model("RN50", pretrained="openai")
    assert time.monotonic() - start < 10


def test_pretrained_tag_without_network_fails_fast_even_when_not_told_offline(monkeypatch):
    if not _hub_unreachable():
        pytest.skip("this machine reaches the Hugging Face hub: the tag would be downloaded")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    start = time.monotonic()
    with pytest.raises(SarclipError, match="RN50/openai.*no internet"):
        create_model("RN50", pretrained="openai")
    assert time.monotonic() - start < 10  # huggingface_hub's own retries would take about 47 s here


def test_cached_tag_loads_from_the_hub_cache_without_a_request(tmp_path, monkeypatch):
    """A tag whose weights are in the Hugging Face cache loads offline, with the tag's preprocessing."""
    torch.manual_seed(5)
    source = create_model("sarclip-tiny-rn")
    snapshot = tmp_path / "models--sarclip--tiny-test" / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (tmp_path / "models--sarclip--tiny-test" / "refs").mkdir()
    (tmp_path / "models--sarclip--tiny-test" / "refs" / "main").write_text("0" * 40)
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(snapshot / "open_clip_model.safetensors"))
    tag = {"hf_hub": "sarclip/tiny-test/", "mean": (0.5, 0.5, 0.5), "std": (0.25, 0.25, 0.25)}
    monkeypatch.setitem(open_clip.pretrained._PRETRAINED, "sarclip-tiny-rn", {"cached": tag})
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    model = create_model("sarclip-tiny-rn", pretrained="cached")
    assert _same_weights(model, source)
    assert tuple(model.visual.preprocess_cfg["mean"]) == (0.5, 0.5, 0.5)


def test_unknown_tag_lists_the_known_ones():
    with pytest.raises(SarclipError, match="neither a file.*tags: none"):
        create_model("sarclip-tiny-rn", pretrained="openai")


def test_weights_from_safetensors_pt_and_checkpoint_dir(tmp_path):
    torch.manual_seed(3)
    source = create_model("sarclip-tiny-rn")
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(tmp_path / "w.safetensors"))
    # the shape open_clip's trainer writes: DDP "module." prefix inside a dict with other state
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}},
               tmp_path / "epoch_3.pt")
    save_checkpoint(tmp_path / "ckpt", source, model_config("sarclip-tiny-rn"))
    for pretrained in ("w.safetensors", "epoch_3.pt", "ckpt"):
        assert _same_weights(create_model("sarclip-tiny-rn", pretrained=tmp_path / pretrained), source)
    assert not _same_weights(create_model("sarclip-tiny-rn"), source)
