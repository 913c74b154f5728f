"""The evaluation tasks through the Python API, on a random-init checkpoint and tiny real data."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from evaluate_helpers import CLASSES, write_png
from sarclip_core.errors import SarclipError
from sarclip_core.evaluate import (
    Embedder,
    class_text_embeddings,
    count_probe,
    counting,
    embeddings,
    evaluate_task,
    retrieval,
    run_suite,
    run_task,
)
from sarclip_core.model import load_model


class Oracle:
    """A perfect stand-in model: images and texts share a one-hot code looked up from the truth."""

    label = "oracle"

    def __init__(self, image_code: dict[Path, int], text_code, size: int = 8):
        self.image_code, self.text_code, self.size = image_code, text_code, size

    def images(self, paths, what=""):
        vectors = np.eye(self.size)[[self.image_code[Path(p)] for p in paths]]
        return embeddings.Embedded(vectors, list(range(len(paths))), [])

    def texts(self, texts):
        return np.eye(self.size)[[self.text_code(t) for t in texts]]


def test_zeroshot_metrics(checkpoint_dir, train_folder):
    metrics = run_task("zeroshot", checkpoint_dir, data=str(train_folder))
    assert set(metrics) == {"top1", "mean_per_class"}  # top-3 only with more than three classes
    assert all(0 <= v <= 100 for v in metrics.values())


def test_run_task_restores_the_training_state(checkpoint_dir, train_folder):
    checkpoint = load_model(checkpoint_dir)
    checkpoint.model.train()
    run_task("zeroshot", checkpoint, data=str(train_folder), max_per_class=1)
    assert checkpoint.model.training and checkpoint.model.visual.training


def test_class_text_embeddings_from_a_model(checkpoint_dir):
    model = load_model(checkpoint_dir).model.eval()
    vectors = class_text_embeddings(model, list(CLASSES))
    assert vectors.shape == (3, model.text_projection.shape[1])
    assert np.linalg.norm(vectors, axis=1) == pytest.approx(1.0, abs=1e-5)
    renamed = class_text_embeddings(model, list(CLASSES), names={"T72": "main battle tank"})
    assert renamed[:2] == pytest.approx(vectors[:2], abs=1e-6) and not np.allclose(renamed[2], vectors[2])


def test_each_image_is_embedded_once_per_run(checkpoint_dir, train_folder, test_folder, monkeypatch):
    reads = []
    real = embeddings.read_chip
    monkeypatch.setattr(embeddings, "read_chip", lambda path, *a: reads.append(path) or real(path, *a))
    embedder = Embedder.load(checkpoint_dir, batch_size=5)
    tasks = [("zeroshot", {"data": str(train_folder)}), ("fewshot", {"data": str(train_folder), "shots": "1,2"}),
             ("linear-probe", {"data": str(train_folder), "test_data": str(test_folder)})]
    runs = run_suite(tasks, embedder)
    assert len(reads) == len(set(reads)) == 12 + 6
    assert [run.result.images for run in runs] == [12, 12, 18]


def test_fewshot_reports_mean_and_spread(checkpoint_dir, train_folder, test_folder):
    metrics = run_task("fewshot", checkpoint_dir, data=str(train_folder), shots=[1, 3], trials=2)
    assert set(metrics) == {"top1_1shot", "top1_1shot_std", "top1_3shot", "top1_3shot_std"}
    with pytest.raises(SarclipError, match="only 4 readable images.*--test-data"):
        run_task("fewshot", checkpoint_dir, data=str(train_folder), shots="4")
    assert "top1_4shot" in run_task("fewshot", checkpoint_dir, data=str(train_folder), shots="4", trials=1,
                                    test_data=str(test_folder))


def test_linear_probe_needs_the_train_classes(checkpoint_dir, train_folder, tmp_path):
    other = shutil.copytree(train_folder, tmp_path / "other")
    shutil.copytree(other / "T72", other / "ZSU234")
    with pytest.raises(SarclipError, match="classes not in the training data: ZSU234"):
        run_task("linear-probe", checkpoint_dir, data=str(train_folder), test_data=str(other))
    metrics = run_task("linear-probe", checkpoint_dir, data=str(train_folder), test_data=str(train_folder), c=100.0)
    assert metrics["top1"] >= 90.0  # the probe fits its own training images


def test_unreadable_images_are_skipped_and_counted(checkpoint_dir, train_folder, tmp_path):
    folder = shutil.copytree(train_folder, tmp_path / "data")
    (folder / "BMP2" / "broken.jpeg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    result = evaluate_task("zeroshot", Embedder.load(checkpoint_dir), data=str(folder))
    assert result.images == 12
    assert len(result.problems) == 1 and "broken.jpeg" in result.problems[0]
    for path in (folder / "BMP2").iterdir():
        path.write_bytes(b"junk")
    for name in ("2S1", "T72"):
        shutil.rmtree(folder / name)
    with pytest.raises(SarclipError, match="none of the 5 .* could be read"):
        run_task("zeroshot", checkpoint_dir, data=str(folder))


def test_retrieval_metrics_and_a_perfect_model(checkpoint_dir, scenes):
    metrics = run_task("retrieval", checkpoint_dir, data=str(scenes))
    assert set(metrics) == {f"{way}_R@{k}" for way in ("i2t", "t2i") for k in (1, 5, 10)} | {"mean_recall"}
    # "a SAR scene" belongs to all three images; "scene N" to image N only
    code = {scenes.parent / "images" / f"scene{n}.png": n for n in range(3)}
    oracle = Oracle(code, lambda text: int(text[-1]) if text[-1].isdigit() else 3)
    result = retrieval.evaluate(oracle, str(scenes))
    assert result.metrics["mean_recall"] == 100.0 and result.table[0]["captions"] == 4


def test_counting_metrics_and_a_perfect_model(checkpoint_dir, scenes):
    result = evaluate_task("counting", Embedder.load(checkpoint_dir), format="jsonl", data=str(scenes))
    assert {"accuracy", "within_one", "mae", "total_accuracy", "total_mae"} <= set(result.metrics)
    assert [row["class"] for row in result.table] == ["BMP2", "T72", "total"]
    assert [row["entries"] for row in result.table] == [1, 2, 3]
    assert result.confusions[1].matrix.sum() == 3 and result.confusions[1].labels == ["0", "1", "2", "3"]
    # a model that reads the total count off each image counts totals perfectly
    code = {scenes.parent / "images" / f"scene{n}.png": total for n, total in enumerate((3, 1, 0))}
    oracle = Oracle(code, lambda text: next(n for n in range(8) for noun in ("T72", "BMP2", "target")
                                            if any(p in text for p in counting.count_phrases(n, noun))))
    result = counting.evaluate(oracle, data=str(scenes))
    assert result.metrics["total_accuracy"] == 100.0 and result.metrics["total_mae"] == 0.0


def test_counting_reads_detection_annotations(checkpoint_dir, tmp_path):
    for number, labels in enumerate((["0", "0"], ["1", "9"])):
        write_png(tmp_path / "images" / f"s{number}.png", 200, number)
        objects = "".join(f"<object><name>{label}</name><bndbox><xmin>10</xmin><ymin>10</ymin><xmax>60</xmax>"
                          f"<ymax>60</ymax></bndbox></object>" for label in labels)
        (tmp_path / "ann").mkdir(exist_ok=True)
        (tmp_path / "ann" / f"s{number}.xml").write_text(
            f"<annotation><filename>s{number}.png</filename><size><width>200</width><height>200</height></size>"
            f"{objects}</annotation>")
    result = evaluate_task("counting", Embedder.load(checkpoint_dir), format="voc", annotations=str(tmp_path / "ann"),
                           images=str(tmp_path / "images"), classes="0=T72,1=BMP2")
    assert [(row["class"], row["entries"]) for row in result.table] == [("BMP2", 1), ("T72", 1), ("total", 2)]
    assert len(result.problems) == 1 and "unknown class '9'" in result.problems[0]


def test_count_probe_metrics_and_a_model_that_encodes_counts(checkpoint_dir, scenes, tmp_path):
    result = evaluate_task("count-probe", Embedder.load(checkpoint_dir), data=str(scenes), test_data=str(scenes))
    assert set(result.metrics) == {"accuracy", "within_one", "mae"} and result.images == 6
    assert [row["total"] for row in result.table] == [0, 1, 3] and result.confusions[0].matrix.sum() == 3
    # embeddings that carry the total count: the probe reads it back exactly
    code = {scenes.parent / "images" / f"scene{n}.png": total for n, total in enumerate((3, 1, 0))}
    perfect = count_probe.evaluate(Oracle(code, lambda text: 0), data=str(scenes), test_data=str(scenes))
    assert perfect.metrics == {"accuracy": 100.0, "within_one": 100.0, "mae": 0.0}
    # embeddings with no count in them: the probe cannot do better than one answer for all
    blind = count_probe.evaluate(Oracle(dict.fromkeys(code, 5), lambda text: 0), data=str(scenes), test_data=str(scenes))
    assert blind.metrics["accuracy"] == pytest.approx(100 / 3)
    same = tmp_path / "same.jsonl"
    same.write_text(scenes.read_text().replace('"images/', f'"{scenes.parent}/images/').replace(
        '"counts": {}', '"counts": {"T72": 1}').replace(
        '"counts": {"T72": 2, "BMP2": 1}', '"counts": {"BMP2": 1}'))
    with pytest.raises(SarclipError, match="at least two different counts"):
        run_task("count-probe", checkpoint_dir, data=str(same), test_data=str(scenes))


@pytest.mark.parametrize("options, message", [
    ({"format": "jsonl"}, "--data RECORDS.jsonl is required"),
    ({"format": "voc"}, "--annotations is required"),
    ({"format": "xml", "data": "x"}, "--format must be one of"),
])
def test_counting_input_errors(checkpoint_dir, options, message):
    with pytest.raises(SarclipError, match=message):
        run_task("counting", checkpoint_dir, **options)


def test_unknown_tasks_and_options_are_clear_errors(checkpoint_dir, train_folder):
    with pytest.raises(SarclipError, match="unknown task 'zero'"):
        run_task("zero", checkpoint_dir, data=str(train_folder))
    with pytest.raises(SarclipError, match="task zeroshot has no option shots"):
        run_task("zeroshot", checkpoint_dir, data=str(train_folder), shots="1")
