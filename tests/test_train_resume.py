"""kill -9 mid-run, then --resume latest: same step count and the same final weights as an uninterrupted run."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from sarclip_core.train.state import TrainState, checkpoints, save_state
from train_helpers import cli, make_tiny_data, steps, train, weights

STEPS = 12  # 4 steps per epoch x 3 epochs


@pytest.mark.parametrize("stage, source, extra", [("ssl", "folder", ()), ("clip", "csv", ()),
                                                  ("clip", "csv", ("--model-ema",))])
def test_kill_and_resume_matches_an_uninterrupted_run(tmp_path, stage, source, extra):
    data = make_tiny_data(tmp_path)
    common = ("--stage", stage, "--train-data", data[source], "--batch-size", "4", "--epochs", "3", *extra,
              "--save-every-n-steps", "2", "--logs", tmp_path / "logs", "--name", "run")
    run = tmp_path / "logs" / "run"
    victim = cli(*common, cwd=tmp_path)
    deadline = time.monotonic() + 60
    while not checkpoints(run / "checkpoints") and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    assert victim.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (run / "final").exists()
    resumed_at = int(checkpoints(run / "checkpoints")[-1].name.split("_")[1])
    assert 2 <= resumed_at < STEPS

    again = cli(*common, "--resume", "latest", cwd=tmp_path)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err[-2000:]
    assert f"at step {resumed_at}" in out and f"done: {STEPS} steps" in out, out
    assert steps(run)[-1]["step"] == STEPS

    train(*common[:-4], "--logs", tmp_path / "straight", "--name", "run")
    expected, got = weights(tmp_path / "straight" / "run" / "final"), weights(run / "final")
    assert not [k for k, v in expected.items() if not torch.allclose(got[k], v, rtol=1e-6, atol=1e-7)]


def test_a_stopped_checkpoint_write_leaves_no_staging_and_a_dead_runs_is_swept(tmp_path):
    """Ctrl-C or SIGTERM (a KeyboardInterrupt through the CLI) or a full disk while saving: no .step_N.tmp-PID."""
    root = tmp_path / "checkpoints"
    state = TrainState(2, {}, {}, {})

    def interrupted(folder: Path) -> None:
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"x" * 1000)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        save_state(root, state, interrupted)
    assert list(root.iterdir()) == []
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    stale = root / f".step_00000001.tmp-{child.pid}"  # a run killed outright while saving
    stale.mkdir()
    save_state(root, state, lambda folder: folder.mkdir())
    assert [p.name for p in root.iterdir()] == ["step_00000002"]


def test_resume_latest_falls_back_past_a_damaged_newest_checkpoint(tmp_path):
    """A newest checkpoint cut short (a crash or a full disk mid-write) is skipped with a note, not a dead end."""
    data = make_tiny_data(tmp_path)
    common = ("--stage", "clip", "--train-data", data["csv"], "--batch-size", "4", "--epochs", "1",
              "--save-every-n-steps", "1", "--logs", tmp_path / "logs", "--name", "run")
    train(*common)
    found = checkpoints(tmp_path / "logs" / "run" / "checkpoints")
    assert len(found) >= 2
    newest, previous = found[-1], found[-2]
    state = newest / "train_state.pt"
    state.write_bytes(state.read_bytes()[:100])  # truncated
    again = cli(*common[:-6], "--epochs", "2", "--save-every-n-steps", "1", "--logs", tmp_path / "logs",
                "--name", "run", "--resume", "latest", cwd=tmp_path)
    out, err = again.communicate(timeout=180)
    assert again.returncode == 0, err[-2000:]
    assert f"skipped damaged checkpoint {newest.name}" in out and f"resumed from {previous}" in out, out
    for path in checkpoints(tmp_path / "logs" / "run" / "checkpoints"):  # all damaged: one line, no traceback
        (path / "train_state.pt").write_bytes(b"garbage")
    last = cli(*common, "--resume", "latest", cwd=tmp_path)
    out, err = last.communicate(timeout=180)
    assert last.returncode == 2 and "no complete checkpoint to resume from" in err and "Traceback" not in err


def test_the_gradient_scaler_s_state_survives_a_checkpoint(tmp_path):
    """An amp run (CUDA float16 with a gradient scaler) keeps the scaler's loss scale and growth tracker in its
    checkpoint, so a resumed run does not start its scale afresh. CUDA is not here: the scaler state is made on
    the CPU device, and goes through save_state/load_state's weights-only loading as the trainer's does."""
    from sarclip_core.train.state import load_state

    weight = torch.nn.Parameter(torch.ones(3))
    optimizer = torch.optim.SGD([weight], lr=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=5)
    for _ in range(2):  # two finite steps: the growth tracker counts them towards the next scale-up
        optimizer.zero_grad()
        scaler.scale(weight.sum()).backward()
        scaler.step(optimizer)
        scaler.update()
    saved = save_state(tmp_path, TrainState(2, {}, {}, {"grad_scaler": scaler.state_dict()}), lambda d: d.mkdir())
    resumed = torch.amp.GradScaler("cpu")
    resumed.load_state_dict(load_state(saved).extra["grad_scaler"])
    assert resumed.state_dict() == scaler.state_dict()
    assert resumed.get_scale() == 2.0 ** 10 and resumed.state_dict()["_growth_tracker"] == 2
