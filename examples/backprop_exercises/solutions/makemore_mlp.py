"""Solution to ../makemore_mlp.py: the chain rule, one intermediate at a time.

    python examples/backprop_exercises/solutions/makemore_mlp.py
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import makemore_mlp as exercise  # noqa: E402


def manual_gradients(v, Xb, Yb):
    n = Xb.shape[0]
    g = {}
    g["logprobs"] = np.zeros_like(v["logprobs"])
    g["logprobs"][np.arange(n), Yb] = -1.0 / n  # loss = -mean of the picked log-probs
    g["probs"] = g["logprobs"] / v["probs"]
    g["counts_sum_inv"] = (v["counts"] * g["probs"]).sum(1, keepdims=True)
    g["counts_sum"] = -v["counts_sum"] ** -2 * g["counts_sum_inv"]
    # counts feeds probs directly and through counts_sum: two terms
    g["counts"] = v["counts_sum_inv"] * g["probs"] + g["counts_sum"]
    g["norm_logits"] = v["counts"] * g["counts"]
    g["logit_maxes"] = -g["norm_logits"].sum(1, keepdims=True)
    g["logits"] = g["norm_logits"].copy()
    g["logits"][np.arange(n), v["logits"].argmax(1)] += g["logit_maxes"][:, 0]
    g["h"] = g["logits"] @ v["W2"].T
    g["W2"] = v["h"].T @ g["logits"]
    g["b2"] = g["logits"].sum(0)
    g["hpre"] = (1.0 - v["h"] ** 2) * g["h"]
    dembcat = g["hpre"] @ v["W1"].T
    g["W1"] = v["embcat"].T @ g["hpre"]
    g["b1"] = g["hpre"].sum(0)
    g["emb"] = dembcat.reshape(v["emb"].shape)
    g["C"] = np.zeros_like(v["C"])
    np.add.at(g["C"], Xb, g["emb"])  # a row used twice gets both gradients
    return g


if __name__ == "__main__":
    sys.exit(exercise.main(manual_gradients))
