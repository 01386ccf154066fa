"""Hand-derived backprop references in pure NumPy: the independent check for autodiff.

Three systems, each in the conventions of its book or course (see docs/backprop.md):

- `nielsen`: Nielsen's network.py / network2.py (column vectors, summed mini-batch gradients).
- `cs231n`: CS231n assignment-2 layers, fully connected net and update rules (row batches).
- `rashid`: Rashid's three-layer sigmoid network from "Make Your Own Neural Network".
- `cs231n_conv`: the CS231n ConvNet layers (naive and im2col conv, max pool, spatial batchnorm)
  and ThreeLayerConvNet.
- `network3`: Nielsen's chapter-6 network3.py layers (ConvPoolLayer, FullyConnectedLayer,
  SoftmaxLayer), Theano's flipped convolution and his classic dropout.

NOTE: nothing here may import from the rest of tinygrad_nn; a reference that shares code with the
engine would share its bugs.
"""

from tinygrad_nn.reference import cs231n, cs231n_conv, network3, nielsen, rashid

__all__ = ["cs231n", "cs231n_conv", "network3", "nielsen", "rashid"]
