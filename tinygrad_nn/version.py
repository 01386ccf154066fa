"""The library's version: one home, read by the package, checkpoints and the command line."""

__version__ = "0.1.0"
