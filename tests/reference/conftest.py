"""Make the repository and this folder's helper importable, whatever pytest's import mode.

The reference tests import only `tinygrad_nn.reference.*` (pure NumPy), never the engine, and the
numeric helper in `refcheck_numeric.py`.
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_REPO_ROOT = _HERE.parents[1]
for path in (str(_REPO_ROOT), str(_HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)
