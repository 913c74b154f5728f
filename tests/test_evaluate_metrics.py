"""Metrics, probe and prompt helpers of the evaluation suite, checked against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from sarclip_core.d2c.vocabulary import load_vocabulary
from sarclip_core.errors import SarclipError
from sarclip_core.evaluate.counting import count_phrases
from sarclip_core.evaluate.fewshot import parse_shots, sample_shots
from sarclip_core.evaluate.metrics import (
    accuracy,
    confusion_matrix,
    counting_metrics,
    first_hit_rank,
    mean_per_class_accuracy,
    retrieval_recalls,
    topk_accuracy,
)
from sarclip_core.evaluate.probe import probe_predict
from sarclip_core.model.prompts import (
    TEMPLATES,
    class_phrases,
    ensemble,
    parse_templates,
)

SIMILARITY = np.array([[0.9, 0.1, 0.2, 0.3],   # image 0: its text first
                       [0.8, 0.7, 0.1, 0.0],   # image 1: its text second
                       [0.1, 0.2, 0.3, 0.9],   # image 2: second
                       [0.5, 0.6, 0.7, 0.4]])  # image 3: last


def test_retrieval_recalls_on_a_hand_computed_4x4_case():
    recalls = retrieval_recalls(SIMILARITY, np.eye(4, dtype=bool), ks=(1, 2, 3))
    # image->text first-hit ranks 0,1,1,3; text->image (columns) ranks 0,0,1,1
    assert recalls == pytest.approx({"i2t_R@1": 25.0, "i2t_R@2": 75.0, "i2t_R@3": 75.0,
                                     "t2i_R@1": 50.0, "t2i_R@2": 100.0, "t2i_R@3": 100.0,
                                     "mean_recall": 425 / 6})


def test_any_caption_of_the_image_is_a_hit():
    similarity = np.array([[0.1, 0.9, 0.5], [0.3, 0.2, 0.8]])
    relevant = np.array([[True, True, False], [False, False, True]])  # image 0 has captions 0 and 1
    recalls = retrieval_recalls(similarity, relevant, ks=(1,))
    assert recalls["i2t_R@1"] == 100.0  # caption 1 ranks first for image 0
    assert recalls["t2i_R@1"] == pytest.approx(200 / 3)  # caption 0 prefers image 1


def test_ties_count_against_the_model():
    assert list(first_hit_rank(np.ones((2, 4)), np.eye(2, 4, dtype=bool))) == [3, 3]
    assert retrieval_recalls(np.ones((4, 4)), np.eye(4, dtype=bool))["i2t_R@1"] == 0.0
    assert first_hit_rank(np.ones((1, 3)), np.zeros((1, 3), dtype=bool))[0] == 3  # no relevant item: never a hit


def test_topk_accuracy():
    scores = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    labels = np.array([0, 1, 2])
    assert topk_accuracy(scores, labels, 1) == pytest.approx(100 / 3)
    assert topk_accuracy(scores, labels, 2) == pytest.approx(200 / 3)
    assert topk_accuracy(scores, labels, 3) == 100.0


def test_confusion_accuracy_and_mean_per_class():
    confusion = confusion_matrix(np.array([0, 0, 0, 1]), np.array([0, 0, 1, 1]), 3)
    assert confusion.tolist() == [[2, 1, 0], [0, 1, 0], [0, 0, 0]]
    assert accuracy(confusion) == 75.0
    assert mean_per_class_accuracy(confusion) == pytest.approx((200 / 3 + 100) / 2)  # class 2 has no samples


def test_counting_metrics_on_a_hand_case():
    assert counting_metrics(np.array([0, 1, 2, 3]), np.array([0, 2, 2, 1])) == pytest.approx(
        {"accuracy": 50.0, "within_one": 75.0, "mae": 0.75})


def test_probe_separates_separable_embeddings_perfectly():
    rng = np.random.default_rng(0)
    centres = np.eye(3, 16) * 5
    x = np.concatenate([centre + 0.3 * rng.normal(size=(10, 16)) for centre in centres])
    y = np.repeat(np.arange(3), 10)
    train = np.tile(np.arange(10) < 5, 3)
    predicted = probe_predict(x[train], y[train], x[~train])
    assert accuracy(confusion_matrix(y[~train], predicted, 3)) == 100.0
    assert list(probe_predict(x[:2], y[:2], x[20:22])) == [0, 0]  # one class seen: that class


def test_shots_are_parsed_and_sampled_per_class():
    assert parse_shots("10,1,5") == [1, 5, 10]
    assert parse_shots([2]) == [2]
    for bad in ("a,b", "0", ""):
        with pytest.raises(SarclipError, match="--shots"):
            parse_shots(bad)
    targets = np.repeat(np.arange(3), 6)
    chosen = sample_shots(targets, 2, np.random.default_rng(0))
    assert np.bincount(targets[chosen]).tolist() == [2, 2, 2]


def test_templates_are_parsed_and_checked(tmp_path):
    assert parse_templates(None) == TEMPLATES
    assert parse_templates("a {}|radar: {}") == ("a {}", "radar: {}")
    (tmp_path / "t.txt").write_text("one {}\n\ntwo {}\n")
    assert parse_templates(str(tmp_path / "t.txt")) == ("one {}", "two {}")
    with pytest.raises(SarclipError, match="exactly one"):
        parse_templates("no placeholder|a {}")


def test_class_phrases_come_from_the_vocabulary():
    vocabulary = load_vocabulary()
    phrases = class_phrases("T72", vocabulary)
    assert "a T72" in phrases and vocabulary.words("T72").description in phrases
    assert class_phrases("hovercraft", vocabulary) == ["a hovercraft"]  # unknown label: its own name


def test_ensemble_averages_the_prompts_of_each_group():
    def encode(texts):
        return np.array([[1.0, 0.0] if "cat" in t else [0.0, 1.0] for t in texts])

    vectors = ensemble(encode, [["a cat"], ["a cat", "a dog"]], ("{}.", "see {}"))
    assert vectors == pytest.approx(np.array([[1, 0], [2 ** -0.5, 2 ** -0.5]]))


def test_count_phrases_say_numbers_as_d2c_captions_do():
    assert count_phrases(0, "T72") == ["no T72s"]
    assert count_phrases(1, "IFV") == ["an IFV", "one IFV"]
    assert count_phrases(3, "target") == ["three targets", "3 targets"]
