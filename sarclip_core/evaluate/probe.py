"""The linear probe shared by few-shot and linear probing: logistic regression on frozen image embeddings.

Features are standardised first, so the regularisation strength means the same for any embedding scale.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

DEFAULT_C = 1.0  # inverse regularisation strength of the logistic regression


def probe_predict(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, c: float = DEFAULT_C) -> np.ndarray:
    """Fit a logistic-regression probe on (train_x, train_y) and predict class indices for test_x."""
    if len(np.unique(train_y)) == 1:  # scikit-learn refuses one class; the answer is that class
        return np.full(len(test_x), train_y[0])
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
    return probe.fit(train_x, train_y).predict(test_x)
