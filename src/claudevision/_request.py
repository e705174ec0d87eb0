"""Rules that apply to a whole request rather than one image.

- at most 100 (200k-context models) or 600 images in one request;
- more than 20 images in the request: every image at most 2000 px per side (the count
  covers every turn re-sent and images inside ``tool_result`` blocks);
- the whole body within the platform's request limit: when the images together are too
  large, the largest are given equal, smaller byte budgets (water-filling) so that the
  small ones keep their quality.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from ._exceptions import RequestTooLargeError, TooManyImagesError
from ._limits import Platform, get_platform
from ._models import model_info
from ._prepare import prepare_image, run_parallel
from ._prepared import PreparedImage
from ._sources import ImageInput

__all__ = ["ImageSlot", "fit_request", "max_images"]

# JSON around each block and around the request, generously counted.
_BLOCK_OVERHEAD = 256
_REQUEST_OVERHEAD = 4096
# Below this many base64 bytes per image a fair share is useless: better to say so.
_MIN_FAIR_SHARE = 8192


@dataclass(eq=False)
class ImageSlot:
    """One image of a request: its input, its label, and its preparations so far."""

    input: ImageInput
    label: str
    options: dict[str, Any] = field(default_factory=dict)
    """The image's own options (format, quality, max_bytes, ...); request limits tighten them."""
    _done: dict[tuple[Any, ...], PreparedImage] = field(default_factory=dict, repr=False)

    def prepare(self, **limits: Any) -> PreparedImage:
        """``prepare_image`` under ``limits``, reusing an earlier identical preparation."""
        options = {**self.options, **limits}
        for name in ("max_side", "max_bytes"):
            if self.options.get(name) is not None and limits.get(name) is not None:
                options[name] = min(self.options[name], limits[name])
        key = tuple(sorted((k, repr(v)) for k, v in options.items()))
        if key not in self._done:
            self._done[key] = prepare_image(self.input, label=self.label, **options)
        return self._done[key]


def max_images(model: str | None, platform: Platform) -> int:
    """Images one request may hold for ``model``; 100 when its context window is unknown."""
    context = model_info(model).context_window
    if context is not None and context > 200_000:
        return platform.images_per_request_large_context
    return platform.images_per_request_small_context


def _water_level(sizes: Sequence[int], available: int) -> int:
    """The largest cap with ``sum(min(size, cap)) <= available``."""
    remaining, left = available, len(sizes)
    for size in sorted(sizes):
        if size * left <= remaining:
            remaining -= size
            left -= 1
        else:
            return remaining // left
    return max(sizes, default=0)


def fit_request(
    slots: Sequence[ImageSlot],
    *,
    text: Sequence[str] = (),
    model: str | None,
    platform: str | Platform,
) -> list[PreparedImage]:
    """Prepare every image of one request so the request as a whole is accepted.

    ``text`` is the request's other text (prompts, system prompt), counted toward the
    body size.
    """
    target = get_platform(platform)
    count = len(slots)
    limit = max_images(model, target)
    if count > limit:
        raise TooManyImagesError(
            f"{count} images in one request; {model_info(model).name} on {target.name} takes at "
            f"most {limit}. Split them across requests of at most {limit} images."
        )
    common: dict[str, Any] = {"model": model, "platform": target}
    if count > target.many_images_threshold:
        common["max_side"] = target.many_images_max_side
    prepared = run_parallel([partial(slot.prepare, **common) for slot in slots])

    fixed = _REQUEST_OVERHEAD + sum(len(json.dumps(t)) for t in text)
    fixed += sum(_BLOCK_OVERHEAD + (0 if p.data else len(json.dumps(p.block))) for p in prepared)
    sizes = [p.base64_size for p in prepared]
    total = fixed + sum(sizes)
    if total <= target.max_request_bytes:
        return prepared

    available = target.max_request_bytes - fixed
    share = _water_level([s for s in sizes if s], available)
    if share < _MIN_FAIR_SHARE:
        raise RequestTooLargeError(
            f"the request would be {total:,} bytes, over {target.name}'s "
            f"{target.max_request_bytes:,} byte limit, and {count} images cannot share the "
            f"room left ({available:,} bytes). "
            "Send fewer images per request or use Files API ids."
        )
    too_big = [i for i, size in enumerate(sizes) if size > share]
    shrunk = run_parallel(
        [partial(slots[i].prepare, **dict(common, max_bytes=share)) for i in too_big]
    )
    for i, image in zip(too_big, shrunk, strict=True):
        note = (
            f"budget {share:,} base64 bytes: {count} images must share {target.name}'s "
            f"{target.max_request_bytes:,} byte request limit"
        )
        prepared[i] = replace(image, steps=(*image.steps, note))
    return prepared
