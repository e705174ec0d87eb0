"""The command line: ``claudevision inspect``, ``prepare`` and ``ask`` (one module each).

Takes the user's arguments, gives exit codes and text; sits above ``_send`` and below
``__main__``. Never imported by the library itself.
"""

from .main import main

__all__ = ["main"]
