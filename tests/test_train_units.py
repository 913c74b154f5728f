"""Hand-computable cases of the training objectives and the validation recall."""

from __future__ import annotations

import math

import pytest
import torch

from sarclip_core.train.losses import contrastive_loss
from sarclip_core.train.validate import recall_at

E = math.e


@pytest.mark.parametrize("groups, expected", [
    (None, math.log(1 + 1 / E)),  # each row: softmax over logits (1, 0), the diagonal is the one positive
    (torch.tensor([4, 9]), math.log(1 + 1 / E)),  # distinct groups: plain CLIP
    (torch.tensor([4, 4]), math.log(1 + E) - 0.5),  # one group: both texts are positives, targets 1/2 each
])
def test_contrastive_loss_two_by_two(groups, expected):
    unit = torch.eye(2)
    assert contrastive_loss(unit, unit, torch.tensor(1.0), groups).item() == pytest.approx(expected, rel=1e-6)


def test_same_group_pairs_are_not_pushed_apart():
    """Two images of one group whose texts are swapped: no loss difference vs. matched, unlike plain CLIP."""
    image, text = torch.eye(3), torch.eye(3)[[1, 0, 2]]
    groups = torch.tensor([0, 0, 1])
    scale = torch.tensor(10.0)
    assert contrastive_loss(image, text, scale, groups).item() == pytest.approx(
        contrastive_loss(image, image, scale, groups).item())
    assert contrastive_loss(image, text, scale).item() > contrastive_loss(image, image, scale).item() + 1


@pytest.mark.parametrize("similarity, owner, expected", [
    # the right text of image i ranks 1st, 2nd, 3rd, 4th for i = 0..3; every text finds its image first
    ([[.9, .1, .2, 0], [.8, .7, .1, 0], [.5, .6, .4, 0], [.3, .2, .1, .05]], [0, 1, 2, 3],
     {"i2t_r1": .25, "i2t_r2": .5, "i2t_r3": .75, "t2i_r1": 1, "t2i_r2": 1, "t2i_r3": 1, "mean_recall": .75}),
    # two captions for image 0: any of them counts as a hit
    ([[.1, .9, .5], [.8, .1, .7]], [0, 0, 1],
     {"i2t_r1": .5, "i2t_r2": 1, "i2t_r3": 1, "t2i_r1": 2 / 3, "t2i_r2": 1, "t2i_r3": 1, "mean_recall": 31 / 36}),
])
def test_recall_at(similarity, owner, expected):
    got = recall_at(torch.tensor(similarity), torch.tensor(owner), ks=(1, 2, 3))
    assert got == pytest.approx(expected)
