"""Preparing a batch's images on a Ray cluster with Ray Data (the ``ray`` extra).

:func:`prepare_on_ray` prepares the inputs of :meth:`~claudevision.Vision.batch` on Ray
workers instead of this machine's cores, with the same accounting of every input::

    import ray
    from claudevision import Vision
    from claudevision.ray import prepare_on_ray

    ray.init()                                   # or ray.init(address="auto") on a cluster
    vision = Vision(model="claude-opus-4-8")
    vision.batch(["photos/"], prompt="Caption it.", out="out.jsonl", prepare=prepare_on_ray)

Importing this module needs Ray Data (``pip install -e ".[ray]"`` in a clone of
claudevision): without it, the import raises :class:`~claudevision.MissingDependencyError`.
"""

from ._send.ray import prepare_on_ray

__all__ = ["prepare_on_ray"]
