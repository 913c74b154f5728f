"""Evaluation suite: retrieval, zero-shot, few-shot, linear probe and counting, with a markdown/PNG report.

Command line: `python -m sarclip_core.evaluate TASK ...`. Python API:

    run_task("zeroshot", checkpoint_or_spec, data="val/") -> {"top1": ..., "top3": ..., "mean_per_class": ...}
    class_text_embeddings(model_or_encoder, ["T72", "BMP2"]) -> (K, D) prompt-ensembled class embeddings
"""

from ..model.prompts import TEMPLATES, class_phrases, class_text_embeddings
from .embeddings import Embedder, evaluation_mode
from .metrics import (confusion_matrix, counting_metrics, first_hit_rank, mean_per_class_accuracy, retrieval_recalls,
                      topk_accuracy)
from .results import Confusion, TaskResult
from .suite import TASKS, evaluate_task, load_config, run_suite, run_task

__all__ = [
    "Confusion", "Embedder", "TASKS", "TEMPLATES", "TaskResult", "class_phrases", "class_text_embeddings",
    "confusion_matrix", "counting_metrics", "evaluate_task", "evaluation_mode", "first_hit_rank", "load_config",
    "mean_per_class_accuracy", "retrieval_recalls", "run_suite", "run_task", "topk_accuracy",
]
