"""Hand-computable cases of the training objective."""

from __future__ import annotations

import math

import pytest
import torch

from sarclip_core.train.losses import contrastive_loss

E = math.e


@pytest.mark.parametrize("groups, expected", [
    (None, math.log(1 + 1 / E)),  # each row: softmax over logits (1, 0), the diagonal is the one positive
    (torch.tensor([4, 9]), math.log(1 + 1 / E)),  # distinct groups: plain CLIP
    (torch.tensor([4, 4]), math.log(1 + E) - 0.5),  # one group: both texts are positives, targets 1/2 each
])
def test_contrastive_loss_two_by_two(groups, expected):
    unit = torch.eye(2)
    assert contrastive_loss(unit, unit, torch.tensor(1.0), groups).item() == pytest.approx(expected, rel=1e-6)
    # the same cases given as caption ids: identical caption texts are positives too
    assert contrastive_loss(unit, unit, torch.tensor(1.0), captions=groups).item() == pytest.approx(expected, rel=1e-6)


def test_positives_are_the_union_of_same_group_and_same_caption():
    unit = torch.eye(2)
    distinct, same = torch.tensor([4, 9]), torch.tensor([1, 1])
    both_positive = contrastive_loss(unit, unit, torch.tensor(1.0), distinct, same).item()
    assert both_positive == pytest.approx(math.log(1 + E) - 0.5, rel=1e-6)


def test_same_group_pairs_are_not_pushed_apart():
    """Two images of one group whose texts are swapped: no loss difference vs. matched, unlike plain CLIP."""
    image, text = torch.eye(3), torch.eye(3)[[1, 0, 2]]
    groups = torch.tensor([0, 0, 1])
    scale = torch.tensor(10.0)
    assert contrastive_loss(image, text, scale, groups).item() == pytest.approx(
        contrastive_loss(image, image, scale, groups).item())
    assert contrastive_loss(image, text, scale).item() > contrastive_loss(image, image, scale).item() + 1


def test_one_way_true_pairs_are_normalised_per_direction():
    """Text 0 is also right for image 1 (not text 1 for image 0): each side spreads its target over its positives."""
    unit = torch.eye(2)
    true_pairs = torch.tensor([[False, False], [True, False]])
    single = math.log(1 + 1 / E)  # a row with one positive, logits (1, 0)
    shared = math.log(1 + E) - 0.5  # a row with two positives, logits (0, 1) or (1, 0)
    # image rows: image 0 -> {text 0}, image 1 -> {text 0, text 1};
    # text rows: text 0 -> {image 0, image 1}, text 1 -> {image 1}
    expected = ((single + shared) / 2 + (shared + single) / 2) / 2
    loss = contrastive_loss(unit, unit, torch.tensor(1.0), true_pairs=true_pairs)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
