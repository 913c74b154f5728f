"""torchrun with 2 CPU processes (gloo): rank 0 alone writes, and the gathered loss is the single-process one."""

from __future__ import annotations

import sys

import pytest
import torch

from train_helpers import cli, make_tiny_data, steps, train, weights

TORCHRUN = (sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2")


def test_two_processes_equal_one_process_with_the_global_batch(tmp_path):
    """EpochBatches hands rank r slice (step*world + r)*B of one seeded order, so 2 x B is the same batch as 1 x 2B.

    The tower is BatchNorm-free (BatchNorm normalises per rank): with features gathered across ranks
    the loss, and the update that gives the next step's loss, must match the single-process run (with
    --group-by written, every rank finds the same positives in the gathered ids). With --model-ema every
    rank keeps the moving average and rank 0 writes it.
    """
    data = make_tiny_data(tmp_path)
    common = ("--stage", "clip", "--train-data", data["csv"], "--model", data["vit"], "--max-steps", "2",
              "--model-ema", "--group-by", "written")
    # torchrun's own --logs-specs makes '--logs' ambiguous on its command line: --logs-dir is the alias
    ddp = cli(*common, "--batch-size", "4", "--logs-dir", tmp_path / "logs", "--name", "ddp", cwd=tmp_path,
              launcher=TORCHRUN)
    train(*common, "--batch-size", "8", "--logs", tmp_path / "single", "--name", "one")
    out, err = ddp.communicate(timeout=120)
    assert ddp.returncode == 0, err[-2000:]
    run = tmp_path / "logs" / "ddp"
    log = (run / "out.log").read_text(encoding="utf-8")
    assert "world size 2" in log
    assert log.count("done: 2 steps") == 1 and out.count("done: 2 steps") == 1  # rank 1 neither logs nor prints
    assert [r["step"] for r in steps(run)] == [1, 2]  # one writer
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step_00000002"]
    single = steps(tmp_path / "single" / "one")
    assert [r["loss"] for r in steps(run)] == pytest.approx([r["loss"] for r in single], rel=1e-5)
    # the shipped weights are the moving average, not the last step's (weights are not compared with the single
    # run: Adam turns the rounding noise of zero-gradient biases, e.g. attention key biases, into lr-sized steps)
    raw, shipped = weights(run / "checkpoints" / "step_00000002" / "model"), weights(run / "final")
    assert any(not torch.equal(raw[k], v) for k, v in shipped.items() if v.is_floating_point())
