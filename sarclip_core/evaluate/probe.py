"""The linear probe shared by few-shot and linear probing: logistic regression on frozen image embeddings.

Embeddings are centred on the training mean (weak or untrained models put every image near one common
direction) and scaled to length sqrt(D), so a coordinate is about unit-sized whatever the embedding width
and the regularisation strength C means the same for every model. (Per-feature standardisation is no
good here: with a few shots it blows up the noise of dimensions that carry no signal.)
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

DEFAULT_C = 1.0  # inverse regularisation strength of the logistic regression


def probe_features(x: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Embeddings minus centre, scaled to length sqrt(D)."""
    x = np.asarray(x, dtype=np.float64) - centre
    return x * (np.sqrt(x.shape[1]) / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12))


def probe_predict(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, c: float = DEFAULT_C) -> np.ndarray:
    """Fit a logistic-regression probe on (train_x, train_y) and predict class indices for test_x."""
    if len(np.unique(train_y)) == 1:  # scikit-learn refuses one class; the answer is that class
        return np.full(len(test_x), train_y[0])
    centre = np.mean(train_x, axis=0)
    probe = LogisticRegression(C=c, max_iter=2000)
    return probe.fit(probe_features(train_x, centre), train_y).predict(probe_features(test_x, centre))
