"""The class texts of the dense loss: every dense class's vocabulary phrases in the SAR prompt templates.

Each step draws one prompt per class (seeded by seed and step, so resumed and sharded runs agree), the
way chip captions are drawn one per image: the text tower learns the whole prompt ensemble the scene
engine averages at query time, at the cost of one short text per class per step.
"""

from __future__ import annotations

import random

import torch

from ..d2c.vocabulary import DEFAULT_VOCABULARY, load_vocabulary
from ..data.cells import CLUTTER, MASK_CLASSES
from ..model.prompts import TEMPLATES, class_phrases

BACKGROUNDS = {name for classes in MASK_CLASSES.values() for names in classes.values() for name in names} | set(CLUTTER)


class DensePrompts:
    """The dense classes (in the order of the targets' last axis), their prompts, and which are objects."""

    def __init__(self, classes: list[str]):
        vocabulary = load_vocabulary(DEFAULT_VOCABULARY)
        self.classes = classes
        self.prompts = [[template.format(phrase) for phrase in class_phrases(name, vocabulary) for template in TEMPLATES]
                        for name in classes]
        self.objects = torch.tensor([name not in BACKGROUNDS for name in classes])

    def draw(self, seed: int, step: int) -> list[str]:
        """One prompt per class for this step."""
        rng = random.Random(f"{seed}:dense:{step}")
        return [rng.choice(prompts) for prompts in self.prompts]
