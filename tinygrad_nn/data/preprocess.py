"""Preprocessing from the CS231n notes: one-hot targets, mean-centering, standardizing, PCA and
whitening.

The transforms follow one rule: `fit` on the training set only, then `transform` every split with
the training statistics (fitting on validation or test data leaks them into training).
Inputs are 2-D (n, features); flatten images first.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

__all__ = ["PCA", "MeanCenter", "Standardize", "one_hot"]


def one_hot(labels: ArrayLike, num_classes: int | None = None,
            dtype: DTypeLike = np.float64) -> np.ndarray:
    """Integer labels of any shape -> labels.shape + (num_classes,) with a 1 at each label.

    `num_classes` defaults to max(labels) + 1; pass it explicitly so a batch that lacks the top
    class still gets the full width.
    """
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in [0, {num_classes}), "
                         f"got {labels.min()}..{labels.max()}")
    out = np.zeros(labels.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, labels[..., None].astype(np.intp), 1, axis=-1)
    return out


def _as_rows(owner: str, X: ArrayLike, width: int | None = None) -> np.ndarray:
    """X as a 2-D float array, checking the feature count against the fitted one."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{owner}: expected a 2-D array (n, features), got shape {X.shape}")
    if width is not None and X.shape[1] != width:
        raise ValueError(f"{owner}: fitted on {width} features, got shape {X.shape}")
    return X if X.dtype.kind == "f" else X.astype(np.float64)


def _require_fit(owner: str, value: np.ndarray | None) -> np.ndarray:
    if value is None:
        raise RuntimeError(f"{owner}: call fit(X_train) before transforming")
    return value


class MeanCenter:
    """Subtract the per-feature mean of the training data."""

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None

    def fit(self, X: ArrayLike) -> MeanCenter:
        self.mean_ = _as_rows("MeanCenter.fit", X).mean(axis=0)
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        mean = _require_fit("MeanCenter.transform", self.mean_)
        return _as_rows("MeanCenter.transform", X, len(mean)) - mean

    def fit_transform(self, X: ArrayLike) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, X: ArrayLike) -> np.ndarray:
        mean = _require_fit("MeanCenter.inverse_transform", self.mean_)
        return _as_rows("MeanCenter.inverse_transform", X, len(mean)) + mean


class Standardize:
    """Subtract the training mean and divide by the training standard deviation per feature.

    A constant feature (std 0, e.g. MNIST's border pixels) is divided by 1, as scikit-learn's
    StandardScaler does, instead of producing NaN or inf.
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def fit(self, X: ArrayLike) -> Standardize:
        X = _as_rows("Standardize.fit", X)
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        mean = _require_fit("Standardize.transform", self.mean_)
        return (_as_rows("Standardize.transform", X, len(mean)) - mean) / self.scale_

    def fit_transform(self, X: ArrayLike) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, X: ArrayLike) -> np.ndarray:
        mean = _require_fit("Standardize.inverse_transform", self.mean_)
        return _as_rows("Standardize.inverse_transform", X, len(mean)) * self.scale_ + mean


class PCA:
    """PCA as in the CS231n notes: SVD of the covariance of the mean-centered training data.

    cov = Xc.T @ Xc / n;  U, S, _ = svd(cov);  Xrot = Xc @ U[:, :k];
    whitened: Xrot / sqrt(S[:k] + eps).
    `k=None` keeps every dimension (a rotation). `eps` keeps whitening from blowing up
    near-zero-variance directions; it also means whitened variances are S / (S + eps), ~1 only
    where S >> eps.

    Attributes after fit: `mean_` (d,), `components_` (d, k) with orthonormal columns, the
    directions of largest variance first, and `explained_variance_` (k,), the variance along each.
    """

    def __init__(self, k: int | None = None, whiten: bool = False, eps: float = 1e-5) -> None:
        if k is not None and k < 1:
            raise ValueError(f"PCA: k must be >= 1 or None, got {k}")
        self.k = k
        self.whiten = whiten
        self.eps = eps
        self.mean_: np.ndarray | None = None
        self.components_: np.ndarray | None = None
        self.explained_variance_: np.ndarray | None = None

    def fit(self, X: ArrayLike) -> PCA:
        X = _as_rows("PCA.fit", X)
        n, d = X.shape
        k = d if self.k is None else self.k
        if k > d:
            raise ValueError(f"PCA.fit: k={k} exceeds the {d} features of shape {X.shape}")
        self.mean_ = X.mean(axis=0)
        Xc = X - self.mean_
        cov = Xc.T @ Xc / n
        # The covariance is symmetric PSD, so its SVD is its eigendecomposition, with the
        # singular values already sorted in decreasing order.
        U, S, _ = np.linalg.svd(cov)
        self.components_ = U[:, :k]
        self.explained_variance_ = S[:k]
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        mean = _require_fit("PCA.transform", self.mean_)
        Z = (_as_rows("PCA.transform", X, len(mean)) - mean) @ self.components_
        if self.whiten:
            Z = Z / np.sqrt(self.explained_variance_ + self.eps)
        return Z

    def fit_transform(self, X: ArrayLike) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, Z: ArrayLike) -> np.ndarray:
        """Map back to feature space; exact when k = d, the best rank-k approximation otherwise."""
        mean = _require_fit("PCA.inverse_transform", self.mean_)
        Z = _as_rows("PCA.inverse_transform", Z, self.components_.shape[1])
        if self.whiten:
            Z = Z * np.sqrt(self.explained_variance_ + self.eps)
        return Z @ self.components_.T + mean
