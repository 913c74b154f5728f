"""Evaluation suite: retrieval, zero-shot, few-shot, linear probe and counting, with a markdown/PNG report.

Command line: `python -m sarclip_core.evaluate TASK ...`. Python API:

    run_task("zeroshot", checkpoint_or_spec, data="val/") -> {"top1": ..., "top3": ..., "mean_per_class": ...}
    class_text_embeddings(model_or_encoder, ["T72", "BMP2"]) -> (K, D) prompt-ensembled class embeddings
"""

from ..lazy import lazy_attributes

# imported on first use (they load PyTorch), so the command line reports bad input at once
__getattr__ = lazy_attributes(__name__, {
    "TEMPLATES": "..model.prompts", "class_phrases": "..model.prompts", "class_text_embeddings": "..model.prompts",
    "Embedder": ".embeddings", "evaluation_mode": ".embeddings", "confusion_matrix": ".metrics",
    "counting_metrics": ".metrics", "first_hit_rank": ".metrics", "mean_per_class_accuracy": ".metrics",
    "retrieval_recalls": ".metrics", "topk_accuracy": ".metrics", "Confusion": ".results", "TaskResult": ".results",
    "TASKS": ".suite", "evaluate_task": ".suite", "load_config": ".config", "run_suite": ".suite", "run_task": ".suite"})

__all__ = [
    "Confusion", "Embedder", "TASKS", "TEMPLATES", "TaskResult", "class_phrases", "class_text_embeddings",
    "confusion_matrix", "counting_metrics", "evaluate_task", "evaluation_mode", "first_hit_rank", "load_config",
    "mean_per_class_accuracy", "retrieval_recalls", "run_suite", "run_task", "topk_accuracy",
]
