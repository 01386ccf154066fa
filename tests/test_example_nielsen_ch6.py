"""examples/nielsen_ch6.py: network3's conventions, shortened runs on real MNIST."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import tinygrad_nn as tg

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "nielsen_ch6.py"


def load():
    spec = importlib.util.spec_from_file_location("example_nielsen_ch6", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_help():
    with pytest.raises(SystemExit) as exit_:
        load().main(["--help"])
    assert exit_.value.code == 0


def test_expand_adds_the_four_one_pixel_shifts():
    ch6 = load()
    image = np.zeros((1, 28, 28))
    image[0, 5, 7] = 1.0
    x, y = ch6.expand(image.reshape(1, 784), np.array([3]))
    assert x.shape == (5, 784) and list(y) == [3] * 5
    moved = {tuple(np.argwhere(img.reshape(28, 28) == 1.0)[0]) for img in x}
    assert moved == {(5, 7), (6, 7), (4, 7), (5, 8), (5, 6)}
    edge = np.zeros((1, 28, 28))
    edge[0, 27, 0] = 1.0  # shifted off the image: zeros come in, nothing wraps around
    assert load().expand(edge.reshape(1, 784), np.array([0]))[0].sum() == 3.0


def test_expand_shuffles_the_pairs_once_as_expand_mnist_does():
    ch6 = load()
    x = np.arange(40 * 784, dtype=float).reshape(40, 784) % 251
    y = np.arange(40) % 10
    ordered_x, ordered_y = ch6.expand(x, y)
    shuffled_x, shuffled_y = ch6.expand(x, y, np.random.default_rng(0))
    assert not np.array_equal(shuffled_y[:10], ordered_y[:10])  # batches mix many images
    # the same (image, label) pairs, only reordered: every label still goes with its image
    order = np.lexsort(shuffled_x.T[::-1])
    reference = np.lexsort(ordered_x.T[::-1])
    np.testing.assert_array_equal(shuffled_x[order], ordered_x[reference])
    np.testing.assert_array_equal(shuffled_y[order], ordered_y[reference])


def test_init_follows_network3():
    ch6 = load()
    net = ch6.Network3(ch6.NETS["conv2_relu"]["layers"], "relu", 0.0, seed=0)
    (_, w1, b1), (_, w2, _), (_, w3, _), (_, w4, b4) = net.layers
    assert w1.shape == (20, 1, 5, 5) and w2.shape == (40, 20, 5, 5) and w3.shape == (640, 100)
    assert abs(w1.data.std() - np.sqrt(1 / (20 * 25 / 4))) < 0.02  # n_out = 20*5*5/4
    assert abs(w3.data.std() - np.sqrt(1 / 100)) < 0.01  # N(0, 1/n_out), stored (in, out)
    assert abs(b1.data.std() - 1.0) < 0.5 and not w4.data.any() and not b4.data.any()
    assert w1.dtype == np.float32


def test_dropout_is_classic():
    ch6 = load()
    net = ch6.Network3([("fc", 4, 3), ("softmax", 3, 2)], "sigmoid", 0.5, seed=0)
    x = tg.Tensor(np.ones((2, 4), dtype=np.float32))
    with tg.no_grad():
        test_logits = net.logits(x).data
        a = (0.5 * x.data) @ net.layers[0][1].data + net.layers[0][2].data
        a = 1 / (1 + np.exp(-a))
        expected = (0.5 * a) @ net.layers[1][1].data + net.layers[1][2].data
    np.testing.assert_allclose(test_logits, expected, rtol=1e-5)


def test_a_short_run_learns(capsys, mnist_path):
    result = load().main(["--data", str(mnist_path), "--net", "conv2_relu", "--epochs", "1",
                          "--limit", "2000"])
    out = capsys.readouterr().out
    assert "Epoch 0: validation accuracy" in out and "corresponding test accuracy" in out
    assert result["test"] > 0.5 and result["best_epoch"] == 0  # chance: 0.1


@pytest.mark.parametrize("argv, named", [(["--epochs", "0"], "--epochs"),
                                         (["--batch-size", "-1"], "--batch-size"),
                                         (["--limit", "0"], "--limit")])
def test_a_count_below_one_is_refused_naming_the_option(capsys, argv, named):
    with pytest.raises(SystemExit) as exit_:
        load().main(argv)
    assert exit_.value.code == 2 and named in capsys.readouterr().err
