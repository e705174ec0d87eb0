"""The ``claude_server`` fixture, for ``pytest -p claudevision.testing.pytest_plugin``.

Installed claudevision registers the same fixture through the top-level module
``claudevision_pytest_plugin``, which costs nothing until a test uses it.
"""

from __future__ import annotations

from claudevision_pytest_plugin import claude_server

__all__ = ["claude_server"]
