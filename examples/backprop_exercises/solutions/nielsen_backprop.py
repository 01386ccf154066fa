"""Solution to ../nielsen_backprop.py: Nielsen's backprop, equations BP1-BP4.

    python examples/backprop_exercises/solutions/nielsen_backprop.py
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import nielsen_backprop as exercise  # noqa: E402


class Network(exercise.Network):
    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation, activations, zs = x, [x], []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = exercise.sigmoid(z)
            activations.append(activation)
        delta = (activations[-1] - y) * exercise.sigmoid_prime(zs[-1])  # BP1
        nabla_b[-1] = delta  # BP3
        nabla_w[-1] = np.dot(delta, activations[-2].T)  # BP4
        for layer in range(2, self.num_layers):
            delta = np.dot(self.weights[-layer + 1].T, delta) * exercise.sigmoid_prime(zs[-layer])
            nabla_b[-layer] = delta  # BP2, then BP3 and BP4
            nabla_w[-layer] = np.dot(delta, activations[-layer - 1].T)
        return nabla_b, nabla_w


if __name__ == "__main__":
    sys.exit(exercise.main(Network))
