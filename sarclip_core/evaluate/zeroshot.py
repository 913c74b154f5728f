"""Zero-shot classification: each image gets the class whose prompt-ensembled text embedding is most similar."""

from __future__ import annotations

from ..d2c.validate import parse_classes
from ..errors import SarclipError
from ..model.prompts import class_text_embeddings, parse_templates
from .embeddings import Embedder
from .folders import embed_folder
from .metrics import accuracy, confusion_matrix, mean_per_class_accuracy, topk_accuracy
from .results import Confusion, TaskResult


def evaluate(embedder: Embedder, data: str, classes: str | None = None, templates: str | None = None,
             max_per_class: int | None = None, seed: int = 0) -> TaskResult:
    """Top-1/top-3 accuracy, mean per-class accuracy and the confusion matrix on a classification folder.

    classes: "FOLDER=phrase,..." (or a file) to name some classes in the prompts instead of the vocabulary;
    templates: "t1|t2" or a file, each with one '{}'.
    """
    data_set = embed_folder(embedder, data, max_per_class=max_per_class, seed=seed)
    if len(data_set.classes) < 2:
        raise SarclipError(f"{data}: zero-shot needs images of at least two classes (class folders), found only "
                           f"{data_set.classes}: a single class would score a meaningless 100%")
    text = class_text_embeddings(embedder.texts, data_set.classes, parse_templates(templates), parse_classes(classes))
    scores = data_set.vectors @ text.T
    confusion = confusion_matrix(data_set.targets, scores.argmax(axis=1), len(data_set.classes))
    metrics = {"top1": accuracy(confusion)}
    if len(data_set.classes) > 3:
        metrics["top3"] = topk_accuracy(scores, data_set.targets, 3)
    metrics["mean_per_class"] = mean_per_class_accuracy(confusion)
    return TaskResult("zeroshot", str(data), len(data_set.targets), metrics, data_set.problems,
                      [Confusion("zero-shot", data_set.classes, confusion)])
