"""2-step runs of both training stages on real MSTAR chips: outputs, loadability, stage 1 -> stage 2, flags."""

from __future__ import annotations

import json
import zlib

import numpy as np
import open_clip
import pytest
import torch
from PIL import Image

from sarclip_core.data.datasets import ChipDataset
from sarclip_core.data.manifest import read_manifests
from sarclip_core.io import Normalisation
from sarclip_core.model import create_model, load_checkpoint
from sarclip_core.train.__main__ import main as train_main
from train_helpers import changed, make_tiny_data, steps, train, weights

TEXT = ("token_embedding", "positional_embedding", "transformer.", "ln_final", "text_projection")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_tiny_data(tmp_path_factory.mktemp("train_data"))


@pytest.fixture(scope="module")
def stage1(data, tmp_path_factory):
    """A finished 2-step stage 1 run on the chip folder."""
    logs = tmp_path_factory.mktemp("logs")
    train("--stage", "ssl", "--train-data", data["folder"], "--batch-size", "4", "--max-steps", "2",
          "--logs", logs, "--name", "ssl")
    return logs / "ssl"


def initial_weights() -> dict[str, torch.Tensor]:
    """What the trainer starts from without --pretrained: the default model under the run's seed (3)."""
    torch.manual_seed(3)
    return create_model().state_dict()


def test_stage1_outputs_and_trains_only_the_image_tower(stage1):
    check_run(stage1, trained=("visual.",), untouched=TEXT)


@pytest.mark.parametrize("source, group_by", [("csv", "label"), ("jsonl", "label"), ("jsonl", "written")])
def test_stage2_outputs_and_trains_both_towers(data, tmp_path, source, group_by):
    train("--stage", "clip", "--train-data", data[source], "--val-data", data["csv"], "--batch-size", "4",
          "--group-by", group_by, "--max-steps", "2", "--logs", tmp_path, "--name", "clip")
    check_run(tmp_path / "clip", trained=("visual.", *TEXT), untouched=())
    metrics = json.loads((tmp_path / "clip" / "metrics.jsonl").read_text(encoding="utf-8"))
    assert 0 <= metrics["val_mean_recall"] <= 100 and metrics["samples_per_s"] > 0


def test_written_pairs_are_captions_written_for_the_same_objects(data):
    """A caption D2C wrote for chips of two classes is right for both; one naming a class is not right for another."""
    dataset = ChipDataset(read_manifests(str(data["jsonl"])), Normalisation(), show_progress=False)
    groups_of: dict[str, set[int]] = {}
    for sample, group in zip(dataset.samples, dataset.groups.tolist()):
        for caption in sample.captions:
            groups_of.setdefault(caption, set()).add(group)
    shared = next(c for c, g in groups_of.items() if len(g) > 1)
    named = next(c for c, g in groups_of.items() if "BMP2" in c and len(g) == 1)
    groups = torch.tensor(sorted(set(dataset.groups.tolist())))
    ids = torch.tensor([zlib.crc32(c.encode()) for c in (shared, named)])
    pairs = dataset.written_pairs(groups, ids)
    assert pairs[:, 0].tolist() == [g in groups_of[shared] for g in groups.tolist()]
    assert pairs[:, 1].tolist() == [g in groups_of[named] for g in groups.tolist()]
    assert pairs[:, 1].sum() == 1 and pairs[:, 0].sum() >= 2


def check_run(run_dir, trained: tuple[str, ...], untouched: tuple[str, ...]) -> None:
    for name in ("steps.jsonl", "metrics.jsonl", "out.log", "loss_curve.png"):
        assert (run_dir / name).is_file(), name
    losses = [record["loss"] for record in steps(run_dir)]
    assert len(losses) == 2 and losses[0] != losses[1] and all(np.isfinite(losses))
    final = weights(run_dir / "final")
    plain = open_clip.create_model(f"local-dir:{run_dir / 'final'}").state_dict()
    assert all(torch.equal(plain[k], v) for k, v in final.items()), "plain open_clip loads other weights"
    before = initial_weights()
    moved = changed(before, final)
    for prefix in trained:
        assert any(k.startswith(prefix) for k in moved), f"{prefix} did not train"
    for prefix in untouched:
        assert not changed(before, final, prefix), f"{prefix} changed"


@pytest.mark.parametrize("flag, frozen, trained", [
    ("--lock-image", ("visual.",), TEXT),
    ("--lock-text", TEXT, ("visual.",)),
])
def test_stage1_initialises_stage2_and_locks_freeze_their_tower(data, stage1, tmp_path, flag, frozen, trained):
    train("--stage", "clip", "--train-data", data["csv"], "--pretrained", stage1 / "final", flag,
          "--batch-size", "4", "--max-steps", "2", "--logs", tmp_path, "--name", "clip")
    before, after = weights(stage1 / "final"), weights(tmp_path / "clip" / "final")
    for prefix in frozen:  # includes BatchNorm running statistics: a locked tower is fully frozen
        assert not changed(before, after, prefix), f"{flag}: {prefix} changed"
    for prefix in trained:
        assert changed(before, after, prefix), f"{flag}: {prefix} did not train"


def test_accumulation_matches_one_big_batch(data, tmp_path):
    """--accum-freq 2 x batch 4 sees the same 8 items and the same full-batch loss as batch 8 (BatchNorm-free tower)."""
    for name, batch, accum in (("accum", "4", "2"), ("big", "8", "1")):
        train("--stage", "clip", "--train-data", data["csv"], "--model", data["vit"], "--batch-size", batch,
              "--accum-freq", accum, "--max-steps", "2", "--logs", tmp_path, "--name", name)
    accumulated, big = steps(tmp_path / "accum"), steps(tmp_path / "big")
    assert [r["loss"] for r in accumulated] == pytest.approx([r["loss"] for r in big], rel=1e-5)


@pytest.mark.parametrize("anyreader", [True, False])
def test_images_of_mixed_sizes_with_and_without_anyreader(tmp_path, anyreader):
    rng = np.random.default_rng(0)
    rows = ["filepath,caption"]
    for i, (h, w) in enumerate([(128, 128), (100, 150), (300, 90), (40, 40)]):
        Image.fromarray(rng.integers(0, 255, (h, w), dtype=np.uint8)).save(tmp_path / f"{i}.png")
        rows.append(f"{tmp_path / f'{i}.png'},a SAR image of thing {i}")
    (tmp_path / "mixed.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    train("--stage", "clip", "--train-data", tmp_path / "mixed.csv", "--batch-size", "4", "--max-steps", "1",
          "--logs", tmp_path, "--name", "run", *([] if anyreader else ["--no-anyreader"]))
    assert load_checkpoint(tmp_path / "run" / "final").reader.enabled is anyreader


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_config_file_keys_mirror_flags(data, tmp_path, suffix):
    config = {"stage": "clip", "train-data": str(data["csv"]), "batch_size": 4, "max-steps": 1,
              "logs": str(tmp_path), "name": "from-config", "lock-text": True}
    path = tmp_path / f"run{suffix}"
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is valid YAML
    train("--config", path, "--name", "flag-wins")
    args = json.loads((tmp_path / "flag-wins" / "final" / "sarclip.json").read_text())["train_args"]
    assert (args["batch_size"], args["max_steps"], args["lock_text"]) == (4, 1, True)
    assert not (tmp_path / "from-config").exists()


def test_unknown_config_key_is_an_error(data, tmp_path, capsys):
    path = tmp_path / "run.yaml"
    path.write_text(f"train-data: {data['csv']}\nbatch-sise: 4\n", encoding="utf-8")
    assert train_main(["--config", str(path)]) == 2
    assert "unknown config keys ['batch_sise']" in capsys.readouterr().err


def test_stage2_from_a_checkpoint_keeps_its_architecture(data, tmp_path):
    """--pretrained CHECKPOINT_DIR without --model: the output records the checkpoint's config, not the default's."""
    train("--stage", "ssl", "--train-data", data["folder"], "--model", data["vit"], "--batch-size", "4",
          "--max-steps", "1", "--logs", tmp_path, "--name", "ssl")
    train("--stage", "clip", "--train-data", data["csv"], "--pretrained", tmp_path / "ssl" / "final",
          "--batch-size", "4", "--max-steps", "1", "--logs", tmp_path, "--name", "clip")
    assert load_checkpoint(tmp_path / "clip" / "final").config == load_checkpoint(tmp_path / "ssl" / "final").config


def test_model_ema_ships_the_moving_average(data, tmp_path):
    common = ("--stage", "clip", "--train-data", data["csv"], "--batch-size", "4", "--max-steps", "3", "--model-ema")
    train(*common, "--logs", tmp_path, "--name", "ema")
    train(*common, "--model-ema-decay", "0", "--logs", tmp_path, "--name", "no-memory")
    for name, same in (("ema", False), ("no-memory", True)):
        run = tmp_path / name
        raw, shipped = weights(run / "checkpoints" / "step_00000003" / "model"), weights(run / "final")
        assert same == all(torch.equal(raw[k], v) for k, v in shipped.items()), name
    averaged, last = weights(tmp_path / "ema" / "final"), weights(tmp_path / "no-memory" / "final")
    assert changed(last, averaged, "visual.") and changed(last, averaged, "transformer.")


def test_amp_bf16_autocasts_on_cpu_and_keeps_float32_weights(data, tmp_path):
    """open_clip's amp_bf16: bfloat16 autocast (the step's loss differs from fp32's), the weights stay float32."""
    for name, precision in (("fp32", "fp32"), ("bf16", "amp_bf16")):
        train("--stage", "clip", "--train-data", data["csv"], "--model", data["vit"], "--batch-size", "4",
              "--max-steps", "1", "--precision", precision, "--logs", tmp_path, "--name", name)
    full, autocast = steps(tmp_path / "fp32")[0]["loss"], steps(tmp_path / "bf16")[0]["loss"]
    assert autocast == pytest.approx(full, rel=0.05) and autocast != full
    assert all(v.dtype == torch.float32 for v in load_checkpoint(tmp_path / "bf16" / "final").model.state_dict().values())
