"""Hand-derived backprop references in pure NumPy: the independent check for autodiff.

Three systems, each in the conventions of its book or course (see docs/backprop.md):

- `nielsen`: Nielsen's network.py / network2.py (column vectors, summed mini-batch gradients).
- `cs231n`: CS231n assignment-2 layers, fully connected net and update rules (row batches).
- `rashid`: Rashid's three-layer sigmoid network from "Make Your Own Neural Network".

NOTE: nothing here may import from the rest of tinygrad_nn; a reference that shares code with the
engine would share its bugs.
"""

from tinygrad_nn.reference import cs231n, nielsen, rashid

__all__ = ["cs231n", "nielsen", "rashid"]
