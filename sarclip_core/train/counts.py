"""Wrong-number hard negatives for count captions, so the text tower learns numbers (the CountCLIP recipe).

Plain contrastive training lets "three tanks" and "five tanks" sit together: in a batch, the other
captions differ in much more than their number, so the number is never what tells them apart. For a
caption that states one plural count ("Three BTR60s; each is...", "6 vehicles in total"), the same
caption with another number is written, and the image must prefer its own caption over those
(Paiss et al., "Teaching CLIP to Count to Ten", ICCV 2023). Only plural counts (2 or more) are swapped,
among plural counts, so the grammar never gives the answer away; a caption with no count or with
several is left alone.
"""

from __future__ import annotations

import random
import re

import torch
import torch.nn.functional as F

from ..d2c.numbers import UNITS, number_word

NEGATIVES = 2  # wrong-number captions per count caption
HIGHEST = 12  # swapped counts are drawn from 2..max(HIGHEST, n + 3)
_WORDS = {word: n for n, word in enumerate(UNITS)}
# a count is a whole word (digits or a number word), not part of a compound ("eight-wheeled", "BTR-60"),
# and not a measure ("17 degrees depression", "40% land", "22 m wide")
_UNITS = r"(?!\s*(?:%|°|degrees?\b|m\b|km\b|metres?\b|meters?\b|px\b|pixels?\b|db\b|knots?\b))"
_COUNT = re.compile(r"(?<![-.])\b(\d{1,3}|" + "|".join(UNITS) + r")\b(?![-.]\w)" + _UNITS, re.IGNORECASE)


def stated_count(caption: str) -> tuple[re.Match, int] | None:
    """The caption's one count and its value, or None when it states none or more than one."""
    found = list(_COUNT.finditer(caption))
    if len(found) != 1:
        return None
    text = found[0].group(1)
    return found[0], int(text) if text.isdigit() else _WORDS[text.lower()]


def wrong_counts(caption: str, rng: random.Random, k: int = NEGATIVES) -> list[str]:
    """K copies of a caption stating one plural count, each with another plural count written the same way
    (digits stay digits, words stay words, a capital stays); [] for any other caption."""
    stated = stated_count(caption)
    if stated is None or stated[1] < 2:
        return []
    match, n = stated
    others = [m for m in range(2, max(HIGHEST, n + 3) + 1) if m != n]
    wrong = []
    for m in rng.sample(others, k):
        text = str(m) if match.group(1).isdigit() else number_word(m)
        if match.group(1)[0].isupper():
            text = text.capitalize()
        wrong.append(caption[:match.start(1)] + text + caption[match.end(1):])
    return wrong


def count_loss(image: torch.Tensor, text: torch.Tensor, wrong: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each image over its own caption (N, D) and its k wrong-number captions (N, k, D)."""
    logits = logit_scale * torch.cat([(image * text).sum(-1, keepdim=True),
                                      torch.einsum("nd,nkd->nk", image, wrong)], dim=1)
    return F.cross_entropy(logits, torch.zeros(len(image), dtype=torch.long, device=image.device))
