"""The checkpoint functions under their old name: see ``tinygrad_nn.checkpoint``.

Kept so that ``tg.io.save``/``tg.io.load`` written before the checkpoint module keep working.
"""

from .checkpoint import *  # noqa: F403  (re-exported)
from .checkpoint import __all__  # noqa: F401
