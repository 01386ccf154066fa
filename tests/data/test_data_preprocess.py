"""one_hot, MeanCenter, Standardize and PCA (checked against np.linalg.eigh)."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nn.data import PCA, MeanCenter, Standardize, one_hot


def correlated(n: int = 2000, seed: int = 0) -> np.ndarray:
    """Anisotropic, correlated 5-D data with a non-zero mean; variances far above eps."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(5, 5)) * np.array([5.0, 3.0, 2.0, 1.0, 0.5])[:, None]
    return rng.normal(size=(n, 5)) @ mixing + np.array([1.0, -2.0, 3.0, 0.0, 10.0])


def test_one_hot() -> None:
    out = one_hot([2, 0, 1], 4)
    np.testing.assert_array_equal(out, [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]])
    assert out.dtype == np.float64
    assert one_hot(np.array([1, 3], np.uint8)).shape == (2, 4)  # width from max + 1
    assert one_hot(np.array([[0, 1]]), 2, dtype=np.int64).shape == (1, 2, 2)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\), got 0\.\.3"):
        one_hot([0, 3], 3)
    with pytest.raises(ValueError, match=r"got -1\.\.0"):
        one_hot([-1, 0], 3)
    with pytest.raises(TypeError, match=r"labels must be integers, got dtype float64"):
        one_hot([0.0, 1.0], 2)


def test_mean_center_uses_training_mean_on_other_splits() -> None:
    train, test = correlated(seed=0), correlated(200, seed=1) + 5.0
    center = MeanCenter().fit(train)
    np.testing.assert_allclose(center.transform(train).mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(center.transform(test), test - train.mean(axis=0))
    np.testing.assert_allclose(center.inverse_transform(center.transform(test)), test)


def test_standardize() -> None:
    train = correlated()
    train[:, 3] = 7.0  # a constant feature, like MNIST's border pixels
    std = Standardize()
    z = std.fit_transform(train)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), [1, 1, 1, 0, 1], atol=1e-12)
    assert np.isfinite(z).all()
    np.testing.assert_allclose(std.inverse_transform(z), train)
    test = correlated(50, seed=4)
    expected = (test - train.mean(0)) / np.where(train.std(0) > 0, train.std(0), 1)
    np.testing.assert_allclose(std.transform(test), expected)


@pytest.mark.parametrize("transform", [MeanCenter, Standardize, PCA])
def test_transform_errors(transform) -> None:
    t = transform()
    with pytest.raises(RuntimeError, match=r"call fit\(X_train\) before transforming"):
        t.transform(np.zeros((2, 5)))
    t.fit(correlated(50))
    with pytest.raises(ValueError, match=r"fitted on 5 features, got shape \(2, 4\)"):
        t.transform(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"expected a 2-D array \(n, features\), got shape \(5,\)"):
        t.transform(np.zeros(5))


def test_pca_whitened_covariance_is_identity() -> None:
    X = correlated()
    Z = PCA(whiten=True).fit_transform(X)
    cov = Z.T @ Z / len(Z)
    np.testing.assert_allclose(cov, np.eye(5), atol=1e-4)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-10)


def test_pca_keeps_top_k_variance_directions() -> None:
    X = correlated()
    Xc = X - X.mean(axis=0)
    eigvals, eigvecs = np.linalg.eigh(Xc.T @ Xc / len(X))  # ascending
    top = eigvecs[:, ::-1][:, :2]
    pca = PCA(k=2).fit(X)
    assert pca.components_.shape == (5, 2)
    np.testing.assert_allclose(pca.explained_variance_, eigvals[::-1][:2])
    # Same subspace (eigenvector signs are arbitrary): equal projectors.
    np.testing.assert_allclose(pca.components_ @ pca.components_.T, top @ top.T, atol=1e-10)
    Z = pca.transform(X)
    assert Z.shape == (2000, 2)
    np.testing.assert_allclose(Z.var(axis=0), eigvals[::-1][:2])
    # Reconstruction error is exactly the variance of the dropped directions.
    residual = X - pca.inverse_transform(Z)
    np.testing.assert_allclose((residual**2).sum(axis=1).mean(), eigvals[:3].sum())


@pytest.mark.parametrize("whiten", [False, True])
def test_pca_full_rank_round_trip(whiten: bool) -> None:
    X = correlated()
    pca = PCA(whiten=whiten).fit(X)
    np.testing.assert_allclose(pca.inverse_transform(pca.transform(X)), X, atol=1e-10)


def test_pca_k_validation() -> None:
    with pytest.raises(ValueError, match=r"k must be >= 1 or None, got 0"):
        PCA(k=0)
    with pytest.raises(ValueError, match=r"k=6 exceeds the 5 features"):
        PCA(k=6).fit(correlated(20))
