"""``python -m tinygrad_nn``: the tinygrad-nn command line."""

import sys

from .cli import main

sys.exit(main())
