"""Training throughput: our stage-2 loop vs open_clip's own trainer, same model, data, batch size and threads.

Both train `sarclip-tiny-rn` (our config, registered into open_clip by a one-line launcher, since
open_clip_train only knows its own configs) in fp32 on the same MSTAR chips with one caption each,
batch 64, the same torch thread count, runs alternating (ours, open_clip, ours, ...) in fresh
processes. Ours runs with AnyReader on (a native 128 px chip is its own single tile, encoded once).
Per-step wall time comes from each trainer's own per-step record, both including batch assembly:
ours from steps.jsonl ("seconds"), open_clip's from its log ("Batch (t)" per step, data wait
included). The first `--warmup` steps of every run, and the first step of each further epoch
(open_clip restarts its data loader there), are dropped; the result is the median samples/s over
the remaining steps of all runs of a trainer. The claim checked: ours / open_clip >= 1.0.
Usage: python bench/train_bench.py [--images 512] [--batch-size 64] [--epochs 2] [--rounds 2] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MSTAR = ROOT.parent / "shared" / "data" / "mstar_soc17"
CONFIG = ROOT / "sarclip_core" / "model" / "configs" / "sarclip-tiny-rn.json"
# open_clip_train resolves --model among its registered configs: register ours, then hand over to its main.
OPEN_CLIP_LAUNCHER = ("import sys, open_clip; open_clip.add_model_config(sys.argv.pop(1)); "
                      "from open_clip_train.main import main; main(sys.argv[1:])")
OPEN_CLIP_STEP = re.compile(r"Train Epoch: (\d+) \[.*?Batch \(t\): [\d.]+, ([\d.]+)/s,")


def write_manifest(path: Path, images: int) -> None:
    """`images` MSTAR chips, classes in turn, one caption each ("a SAR image of a <class>")."""
    classes = sorted(p for p in MSTAR.iterdir() if p.is_dir())
    per_class = [sorted(c.glob("*.jpeg")) for c in classes]
    rows = [(per_class[i % len(classes)][i // len(classes)], classes[i % len(classes)].name) for i in range(images)]
    path.write_text("filepath,caption\n" + "".join(f"{f},a SAR image of a {name}\n" for f, name in rows),
                    encoding="utf-8")


def common_flags(args: argparse.Namespace, manifest: Path, logs: Path, name: str) -> list[str]:
    return ["--train-data", str(manifest), "--model", CONFIG.stem, "--batch-size", str(args.batch_size),
            "--epochs", str(args.epochs), "--lr", "1e-3", "--wd", "0.1", "--warmup", "2", "--precision", "fp32",
            "--seed", "0", "--logs", str(logs), "--name", name]


def run_ours(args: argparse.Namespace, manifest: Path, logs: Path, name: str) -> list[float]:
    command = [sys.executable, "-m", "sarclip_core.train", "--stage", "clip", "--threads", str(args.threads),
               *common_flags(args, manifest, logs, name)]
    subprocess.run(command, check=True, env=environment(args), cwd=ROOT, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    records = [json.loads(line) for line in (logs / name / "steps.jsonl").read_text().splitlines()]
    return steady([(r["epoch"], args.batch_size / r["seconds"]) for r in records], args.warmup)


def run_open_clip(args: argparse.Namespace, manifest: Path, logs: Path, name: str) -> list[float]:
    command = [sys.executable, "-c", OPEN_CLIP_LAUNCHER, str(CONFIG),
               *common_flags(args, manifest, logs, name), "--dataset-type", "csv", "--csv-img-key", "filepath",
               "--csv-caption-key", "caption", "--csv-separator", ",", "--workers", str(args.workers),
               "--log-every-n-steps", "1", "--save-frequency", "0", "--report-to", "", "--device", "cpu"]
    subprocess.run(command, check=True, env=environment(args), cwd=logs, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    text = (logs / name / "out.log").read_text()
    return steady([(int(epoch), float(rate)) for epoch, rate in OPEN_CLIP_STEP.findall(text)], args.warmup)


def steady(per_step: list[tuple[int, float]], warmup: int) -> list[float]:
    """Samples/s of the steady-state steps: without the run's first `warmup` steps and each epoch's first step."""
    return [rate for i, (epoch, rate) in enumerate(per_step)
            if i >= warmup and (i == 0 or per_step[i - 1][0] == epoch)]


def environment(args: argparse.Namespace) -> dict[str, str]:
    threads = str(args.threads)
    return {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs of each trainer")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of both trainers (2 shared cores here)")
    parser.add_argument("--workers", type=int, default=1, help="open_clip data loader processes")
    parser.add_argument("--warmup", type=int, default=3, help="first steps of each run left out")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        manifest = work / "mstar.csv"
        write_manifest(manifest, args.images)
        rates: dict[str, list[float]] = {"ours": [], "open_clip": []}
        for round_ in range(args.rounds):
            for trainer, run in (("ours", run_ours), ("open_clip", run_open_clip)):
                got = run(args, manifest, work / "logs", f"{trainer}-{round_}")
                rates[trainer] += got
                print(f"round {round_ + 1} {trainer:9s}: median {statistics.median(got):7.1f} samples/s "
                      f"over {len(got)} steady steps", flush=True)
    ours, theirs = statistics.median(rates["ours"]), statistics.median(rates["open_clip"])
    result = {"ours_samples_per_s": round(ours, 1), "open_clip_samples_per_s": round(theirs, 1),
              "ratio": round(ours / theirs, 3), "batch_size": args.batch_size, "images": args.images,
              "threads": args.threads, "steady_steps": {k: len(v) for k, v in rates.items()}}
    print(json.dumps(result))
    return 0 if ours >= theirs else 1


if __name__ == "__main__":
    sys.exit(main())
