"""A missing input is reported at once: every CLI checks its inputs before PyTorch and the model load (issue 17, 12)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from bad_input_helpers import one_error_line
from paths import ROOT


@pytest.mark.parametrize("argv, words", [
    (["sarclip_core.scene", "{missing}", "--query", "ship", "--out", "{tmp}/out"], ["missing.tif", "not found"]),
    (["sarclip_core.evaluate", "zeroshot", "--data", "{missing}"], ["missing.tif: --data not found"]),
    (["sarclip_core.evaluate", "all", "--config", "{missing}"], ["missing.tif: --config not found"]),
    (["sarclip_core.train", "--train-data", "{missing}", "--logs", "{tmp}/logs"], ["missing.tif: --train-data not found"]),
    (["sarclip_core.train", "--train-data", "{tmp}::{missing}", "--logs", "{tmp}/logs"],
     ["missing.tif: --train-data not found"]),
])
def test_a_missing_input_is_one_line_before_pytorch_loads(tmp_path, argv, words):
    """Loading PyTorch alone takes about 2 s here and the model longer; the answer must come well before."""
    argv = [a.format(missing=tmp_path / "missing.tif", tmp=tmp_path) for a in argv]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", *argv], capture_output=True, text=True, env=env,
                          timeout=120)
    seconds = time.perf_counter() - started
    imports = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    err = "\n".join(line for line in done.stderr.splitlines() if not line.startswith("import time:"))
    assert done.returncode == 2
    one_error_line(err, *words)
    assert not [line for line in imports if line.rstrip().endswith((" torch", " open_clip"))]
    assert seconds < 3.0
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no output folder, no logs
