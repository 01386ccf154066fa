"""Exercise: backprop through a makemore MLP by hand, one intermediate at a time (Karpathy's
"becoming a backprop ninja"), each checked against autodiff with ``check.cmp``.

``forward`` is plain NumPy: run on Tensors it records the graph, so every intermediate (logprobs,
probs, counts, ...) gets its true gradient. Fill in ``manual_gradients`` (one line per
intermediate, from the loss down to the parameters), then run

    python examples/backprop_exercises/makemore_mlp.py

Each line reads ``name | exact | approximate | maxdiff``, with the likely bug when it is wrong.
Solution: solutions/makemore_mlp.py.
"""

import sys

import numpy as np

# the order of the chain, from the loss down; manual_gradients returns a dict with these keys
NAMES = ["logprobs", "probs", "counts_sum_inv", "counts_sum", "counts", "norm_logits",
         "logit_maxes", "logits", "h", "W2", "b2", "hpre", "W1", "b1", "emb", "C"]


def forward(C, W1, b1, W2, b2, Xb, Yb):
    """The loss and every intermediate, by name (plain NumPy: works on arrays and Tensors)."""
    n = Xb.shape[0]
    emb = C[Xb]  # (n, block_size, n_embd)
    embcat = emb.reshape(n, -1)
    hpre = embcat @ W1 + b1
    h = np.tanh(hpre)
    logits = h @ W2 + b2
    logit_maxes = logits.max(1, keepdims=True)
    norm_logits = logits - logit_maxes  # subtract the max for numerical stability
    counts = np.exp(norm_logits)
    counts_sum = counts.sum(1, keepdims=True)
    counts_sum_inv = counts_sum ** -1
    probs = counts * counts_sum_inv
    logprobs = np.log(probs)
    loss = -logprobs[np.arange(n), Yb].mean()
    return loss, dict(emb=emb, embcat=embcat, hpre=hpre, h=h, logits=logits,
                      logit_maxes=logit_maxes, norm_logits=norm_logits, counts=counts,
                      counts_sum=counts_sum, counts_sum_inv=counts_sum_inv, probs=probs,
                      logprobs=logprobs)


def manual_gradients(v, Xb, Yb):
    """d loss / d each name in NAMES, in NumPy; ``v`` holds the forward's values (ndarrays) and
    the parameters C, W1, b1, W2, b2."""
    raise NotImplementedError("manual_gradients: start with dlogprobs (your turn)")


def setup(seed=42):
    """Parameters and a batch like makemore's (27 characters, 3 of context), kept small."""
    rng = np.random.default_rng(seed)
    vocab, block, n_embd, hidden, n = 27, 3, 10, 64, 32
    params = dict(C=rng.standard_normal((vocab, n_embd)),
                  W1=rng.standard_normal((block * n_embd, hidden)) * 0.2,
                  b1=rng.standard_normal(hidden) * 0.1,
                  W2=rng.standard_normal((hidden, vocab)) * 0.1,
                  b2=rng.standard_normal(vocab) * 0.1)
    return params, rng.integers(0, vocab, (n, block)), rng.integers(0, vocab, n)


def main(manual=None):
    import tinygrad_nn as tg
    from tinygrad_nn import check

    params, Xb, Yb = setup()
    tensors = {k: tg.Tensor(p, requires_grad=True) for k, p in params.items()}
    loss, intermediates = forward(**tensors, Xb=Xb, Yb=Yb)
    check.retain_grads(loss)  # every intermediate keeps its .grad
    loss.backward()
    values = {k: t.data for k, t in {**intermediates, **tensors}.items()}
    try:
        mine = (manual or manual_gradients)(values, Xb, Yb)
    except NotImplementedError as e:
        print(f"manual_gradients: not written yet ({e})")
        return 1
    results = [check.cmp(name, mine[name], {**intermediates, **tensors}[name])
               for name in NAMES if name in mine]
    missing = [name for name in NAMES if name not in mine]
    if missing:
        print(f"not derived yet: {', '.join(missing)}")
    return 0 if all(r.approximate for r in results) and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
