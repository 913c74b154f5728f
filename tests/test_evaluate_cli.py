"""python -m sarclip_core.evaluate: reports, baselines, config suites, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bad_input_helpers import one_error_line, read_only_folder, tree
from paths import ROOT
from sarclip_core.evaluate.__main__ import main


def test_zeroshot_with_a_baseline_writes_report_and_json(checkpoint_dir, train_folder, tmp_path, capsys):
    code = main(["zeroshot", "--model", str(checkpoint_dir), "--baseline", "sarclip-tiny-rn", "--data", str(train_folder),
                 "--report", str(tmp_path / "report"), "--json", str(tmp_path / "metrics.json"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "zeroshot  top1" in out and "12 images" in out
    report = (tmp_path / "report" / "report.md").read_text()
    assert "| task | metric | model | baseline |" in report and "| zeroshot | top1 |" in report
    assert "- baseline: `sarclip-tiny-rn` (8.39 M parameters" in report
    assert "12 images" in report and " s in all" in report and "data " + str(train_folder) in report
    plots = sorted(p.name for p in (tmp_path / "report").glob("*.png"))
    assert plots == ["01-zeroshot-baseline-0.png", "01-zeroshot-model-0.png"]
    assert all(f"]({name})" in report for name in plots)
    document = json.loads((tmp_path / "metrics.json").read_text())
    task = document["tasks"][0]
    assert task["task"] == "zeroshot" and task["model"]["images"] == 12 and task["baseline"]["model"] == "sarclip-tiny-rn"
    assert len(task["model"]["confusions"][0]["matrix"]) == 3
    assert not list(tmp_path.rglob(".*tmp*"))  # atomic writes leave no temporary files


def test_all_runs_a_yaml_config_into_one_report(checkpoint_dir, train_folder, test_folder, scenes, tmp_path):
    config = tmp_path / "eval.yaml"
    config.write_text(f"""
model: {checkpoint_dir}
batch_size: 8
tasks:
  - {{task: retrieval, data: {scenes}}}
  - {{task: zeroshot, data: {train_folder}, max-per-class: 2}}
  - {{task: fewshot, data: {train_folder}, shots: [1, 2], trials: 2}}
  - {{task: linear-probe, data: {train_folder}, test_data: {test_folder}}}
  - {{task: counting, format: jsonl, data: {os.path.relpath(scenes, tmp_path)}}}
""")
    assert main(["all", "--config", str(config), "--report", str(tmp_path / "out"), "--quiet"]) == 0
    report = (tmp_path / "out" / "report.md").read_text()
    for heading in ("## 1. retrieval", "## 2. zeroshot", "## 3. fewshot", "## 4. linear-probe", "## 5. counting"):
        assert heading in report
    assert "| fewshot | top1_2shot | " in report and " ± " in report
    assert "| counting | total_mae |" in report and "| total | 3 |" in report  # per-class counting table
    assert (tmp_path / "out" / "03-fewshot.png").is_file()
    assert (tmp_path / "out" / "05-counting-model-1.png").is_file()


def test_json_config_paths_and_model_are_relative_to_the_file(checkpoint_dir, train_folder, capsys):
    config = train_folder.parent / "eval.json"
    (config.parent / "model").symlink_to(checkpoint_dir)
    config.write_text(json.dumps({"model": "model", "tasks": [{"task": "zeroshot", "data": train_folder.name}]}))
    assert main(["all", "--config", str(config), "--quiet"]) == 0
    assert "zeroshot  top1" in capsys.readouterr().out


@pytest.mark.parametrize("make_args, message", [
    (lambda d: ["zeroshot", "--data", str(d / "empty")], "no class sub-folders"),
    (lambda d: ["zeroshot", "--data", str(d / "hollow")], "hollow/T72: class folder has no images"),
    (lambda d: ["zeroshot", "--data", str(d / "missing")], "missing: --data not found"),
    (lambda d: ["retrieval", "--data", str(d / "bad.csv")], "needs a header with 'filepath' and 'caption'"),
    (lambda d: ["counting", "--format", "jsonl", "--data", str(d / "bad.jsonl")], "line 2: not JSON"),
    (lambda d: ["all", "--config", str(d / "typo.yaml")], "task zeroshot has no option shot"),
    (lambda d: ["all", "--config", str(d / "empty.yaml")], "needs a non-empty 'tasks' list"),
])
def test_bad_input_is_one_line_and_exit_2(checkpoint_dir, tmp_path, capsys, make_args, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "hollow" / "T72").mkdir(parents=True)
    (tmp_path / "bad.csv").write_text("image,text\na.png,a ship\n")
    (tmp_path / "bad.jsonl").write_text('{"filepath": "a.png", "counts": {}}\n{oops\n')
    (tmp_path / "typo.yaml").write_text("tasks:\n  - {task: zeroshot, data: empty, shot: 1}\n")  # data exists
    (tmp_path / "empty.yaml").write_text("model: default\n")
    assert main([*make_args(tmp_path), "--model", str(checkpoint_dir), "--quiet"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and message in error and "\n" not in error


def test_a_model_that_does_not_load_is_one_line_without_traceback(train_folder):
    environment = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "sarclip_core.evaluate", "zeroshot", "--model", "no-such-model",
                           "--data", str(train_folder)], cwd=ROOT, env=environment, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: unknown model 'no-such-model'")
    assert "Traceback" not in done.stderr


def test_excel_csv_and_jsonl_with_a_byte_order_mark_are_read(tmp_path):
    """Excel's "CSV UTF-8" starts with a byte-order mark: evaluation reads it as training and data.split do."""
    from evaluate_helpers import write_png
    from sarclip_core.data.manifest import read_jsonl
    from sarclip_core.evaluate.manifests import read_caption_pairs

    image = write_png(tmp_path / "a.png")
    (tmp_path / "c.csv").write_text("\ufefffilepath,caption\na.png,a ship\n", encoding="utf-8")
    (tmp_path / "r.jsonl").write_text('\ufeff{"filepath": "a.png", "captions": ["a ship"]}\n', encoding="utf-8")
    assert read_caption_pairs(tmp_path / "c.csv") == [(image, "a ship")]
    assert [record["filepath"] for _, record in read_jsonl(tmp_path / "r.jsonl")] == ["a.png"]


@pytest.mark.parametrize("where, words", [
    ("json-folder", ["metrics: --json is a folder"]),
    ("report-file", ["report: --report is a file, not a folder"]),
    ("json-read-only", ["--json: cannot write in"]),
    ("report-read-only", ["--report: cannot write in"]),
])
def test_unwritable_report_or_json_is_refused_before_the_evaluation(train_folder, tmp_path, capsys, where, words):
    """Checked before the model loads (a model that does not exist is never reached) and before any task runs."""
    (tmp_path / "metrics").mkdir()
    (tmp_path / "report").write_text("mine")
    with read_only_folder(tmp_path) as locked:
        flags = {"json-folder": ["--json", str(tmp_path / "metrics")],
                 "report-file": ["--report", str(tmp_path / "report")],
                 "json-read-only": ["--json", str(locked / "m.json")],
                 "report-read-only": ["--report", str(locked / "new-report")]}[where]
        before = tree(tmp_path)
        assert main(["zeroshot", "--model", "no-such-model", "--data", str(train_folder), "--quiet", *flags]) == 2
        one_error_line(capsys.readouterr().err, *words)
        assert tree(tmp_path) == before


def test_a_single_class_zero_shot_is_refused_not_a_trivial_100(checkpoint_dir, tmp_path, capsys):
    from evaluate_helpers import write_png

    write_png(tmp_path / "only" / "T72" / "a.png")
    write_png(tmp_path / "only" / "T72" / "b.png", seed=1)
    assert main(["zeroshot", "--model", str(checkpoint_dir), "--data", str(tmp_path / "only"), "--quiet"]) == 2
    assert "zero-shot needs images of at least two classes" in capsys.readouterr().err


def test_the_config_reader_knows_every_task_without_loading_pytorch():
    import subprocess
    import sys

    from sarclip_core.evaluate.config import TASK_NAMES
    from sarclip_core.evaluate.suite import TASKS
    assert tuple(TASKS) == TASK_NAMES
    probe = "import sys, sarclip_core.evaluate.config, sarclip_core.evaluate.__main__; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.stdout.strip() == "False", done.stderr
