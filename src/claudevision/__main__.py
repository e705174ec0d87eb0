"""``python -m claudevision`` (and the ``claudevision`` command): see :mod:`._cli`.

$ python -m claudevision                           # what would be sent for a sample photo
$ python -m claudevision inspect photos/ --json    # what would be sent, per image
$ python -m claudevision prepare shot.png          # the blocks as JSON
$ python -m claudevision ask photo.jpg -p "What is it?"
"""

from __future__ import annotations

from ._cli import main
from ._cli.sample import sample_path

__all__ = ["main", "sample_path"]

if __name__ == "__main__":
    raise SystemExit(main())
