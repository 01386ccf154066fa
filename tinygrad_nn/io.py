"""The checkpoint functions under their old name: see ``tinygrad_nn.checkpoint``.

Kept so that ``tg.io.save``/``tg.io.load`` written before the checkpoint module keep working.
"""

from .checkpoint import (  # noqa: F401  (re-exported)
    FORMAT,
    OPTIMIZERS,
    VERSION,
    Checkpoint,
    CheckpointError,
    load,
    load_state_dict,
    read_header,
    save,
    save_state_dict,
)

__all__ = ["FORMAT", "OPTIMIZERS", "VERSION", "Checkpoint", "CheckpointError", "load",
           "load_state_dict", "read_header", "save", "save_state_dict"]
