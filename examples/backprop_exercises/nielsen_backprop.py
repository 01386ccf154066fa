"""Exercise: write backprop for Nielsen's network ("Neural Networks and Deep Learning", ch. 2).

``Network`` is his network.py layout: ``weights[l]`` of shape (n_out, n_in), ``biases[l]`` of
shape (n_out, 1), sigmoid neurons, quadratic cost C = ½‖a - y‖² for one example. Fill in
``backprop`` (the four equations BP1-BP4) in plain NumPy, then run

    python examples/backprop_exercises/nielsen_backprop.py

tinygrad_nn builds the same network, differentiates it, and compares layer by layer: the report
names the first wrong layer from the output and the likely bug. Solution: solutions/.
"""

import sys

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


class Network:
    def __init__(self, sizes, seed=0):
        rng = np.random.default_rng(seed)
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [rng.standard_normal((y, 1)) for y in sizes[1:]]
        # network2's initializer: with network.py's N(0, 1) weights, 784 inputs saturate the
        # sigmoids and every gradient is ~1e-9
        self.weights = [rng.standard_normal((y, x)) / np.sqrt(x)
                        for x, y in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def backprop(self, x, y):
        """Return (nabla_b, nabla_w), the gradient of C = ½‖a - y‖² for the example (x, y),
        layer by layer like self.biases and self.weights."""
        raise NotImplementedError("Network.backprop: return (nabla_b, nabla_w) (your turn)")


def main(network_class=None):
    from tinygrad_nn import check

    net = (network_class or Network)([784, 30, 10])
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 1, (784, 1)), np.eye(10)[:, [3]]
    try:
        report = check.network(net, x, y, cost="quadratic")
    except NotImplementedError as e:
        print(f"backprop: not written yet ({e})")
        return 1
    print(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
