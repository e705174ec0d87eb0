"""The step types: what was done to an image, as values every stage can record.

They are defined here, beside the other shared values, so that the prepare and render
stages can record steps without importing anything public; users import them from
:mod:`claudevision.steps`, which re-exports every step type below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

Size = tuple[int, int]

_ORIENTATION_WORDS = {
    2: "mirrored",
    3: "rotated 180°",
    4: "flipped",
    5: "transposed",
    6: "rotated 90° clockwise",
    7: "transversed",
    8: "rotated 90° counter-clockwise",
}


def _size(size: Size) -> str:
    return f"{size[0]}x{size[1]}"


class ResizeReason(Enum):
    """Which limit made an image smaller."""

    TIER = "the model's resolution tier"
    MAX_SIDE = "capped by max_side"
    PLATFORM = "the platform's pixels per side"
    MANY_IMAGES = "more than 20 images in the request: 2000 px per side"
    TARGET = "the screenshot's target size"


@dataclass(frozen=True)
class Step:
    """Base class of every step; ``str(step)`` says what happened in words."""

    def __str__(self) -> str:
        return self.text()

    def text(self) -> str:
        """The step in words."""
        raise NotImplementedError


@dataclass(frozen=True)
class SentUnchanged(Step):
    """The input bytes go out exactly as given: proven whole, accepted and within limits."""

    def text(self) -> str:
        return "sent unchanged: a whole image in an accepted format, within every limit"


@dataclass(frozen=True)
class SentAsReference(Step):
    """A URL or Files API image the API fetches itself; its size is unknown here."""

    kind: Literal["url", "file"]

    def text(self) -> str:
        if self.kind == "url":
            return "sent as a URL: the API downloads it; size and tokens are known only then"
        return "sent as a Files API reference; size and tokens are known only to the API"


@dataclass(frozen=True)
class CorrectedMediaType(Step):
    """The caller claimed one media type; the bytes are another, which is what is sent."""

    declared: str
    actual: str

    def text(self) -> str:
        return f"declared {self.declared}, but the bytes are {self.actual}: sent as {self.actual}"


@dataclass(frozen=True)
class Converted(Step):
    """A format the API does not take (HEIC, TIFF, ...) was decoded and re-encoded."""

    format: str

    def text(self) -> str:
        return f"{self.format} is not accepted by the API: converted"


@dataclass(frozen=True)
class KeptFirstFrame(Step):
    """An animation or multi-page file: only the first frame is sent (the model sees one).

    ``frames`` is the number of frames when it is known without walking the whole file.
    """

    frames: int | None

    def text(self) -> str:
        if self.frames is None:
            return "kept the first frame of several: the model sees only the first frame"
        return f"kept frame 1 of {self.frames}: the model sees only the first frame"


@dataclass(frozen=True)
class KeptPrimaryImage(Step):
    """A file holding several images (HEIC): the primary one is sent."""

    index: int
    images: int

    def text(self) -> str:
        return f"kept the primary image (number {self.index + 1} of {self.images})"


@dataclass(frozen=True)
class ConvertedMode(Step):
    """Pixels converted between modes, e.g. CMYK to RGB."""

    source: str
    target: str

    def text(self) -> str:
        return f"converted {self.source} to {self.target}"


@dataclass(frozen=True)
class ScaledSamples(Step):
    """High-bit-depth or floating-point samples scaled to 8 bits from their real range."""

    mode: str
    low: float
    high: float

    def text(self) -> str:
        return f"scaled {self.mode} samples from {self.low:g}..{self.high:g} to 8-bit"


@dataclass(frozen=True)
class Oriented(Step):
    """The EXIF orientation was applied, so the image is upright."""

    orientation: int

    def text(self) -> str:
        words = _ORIENTATION_WORDS.get(self.orientation, "")
        return f"applied EXIF orientation {self.orientation} ({words})"


@dataclass(frozen=True)
class Resized(Step):
    """Resized to what the model sees, or to a per-side limit.

    ``detail`` names the limit in numbers for people; it is not compared.
    """

    original: Size
    size: Size
    reason: ResizeReason
    detail: str = field(default="", compare=False)

    def text(self) -> str:
        why = self.detail or self.reason.value
        return f"resized {_size(self.original)} -> {_size(self.size)} ({why})"


@dataclass(frozen=True)
class FlattenedAlpha(Step):
    """Transparency flattened onto white because the output format has no alpha."""

    def text(self) -> str:
        return "flattened transparency onto white (JPEG has no alpha)"


@dataclass(frozen=True)
class Encoded(Step):
    """Encoded in ``format``; ``quality`` and ``budget`` when a byte budget was searched."""

    format: str
    size: int
    quality: int | None = None
    budget: int | None = None

    def text(self) -> str:
        if self.quality is None:
            return f"encoded {self.format} ({self.size:,} bytes)"
        return (
            f"encoded {self.format} at quality {self.quality} to fit {self.budget:,} base64 "
            f"bytes ({self.size:,} bytes)"
        )


@dataclass(frozen=True)
class SwitchedToLossy(Step):
    """A lossless encoding was over the byte budget, so a lossy format is used."""

    source: str
    target: str
    base64_size: int
    budget: int

    def text(self) -> str:
        return (
            f"{self.source} was {self.base64_size:,} base64 bytes, over the {self.budget:,} "
            f"budget: re-encoded as {self.target}"
        )


@dataclass(frozen=True)
class Shrunk(Step):
    """The lowest quality was still over the byte budget, so the image was made smaller."""

    original: Size
    size: Size
    budget: int

    def text(self) -> str:
        return (
            f"shrank {_size(self.original)} -> {_size(self.size)} to fit {self.budget:,} "
            "base64 bytes"
        )


@dataclass(frozen=True)
class AssumedTier(Step):
    """The model is not in the table, so a tier was assumed (tokens are an upper bound)."""

    tier: str
    model: str

    def text(self) -> str:
        return f"tier assumed {self.tier} for {self.model} (tokens are an upper bound)"


@dataclass(frozen=True)
class SharedBudget(Step):
    """The images of one request had to share the platform's request size limit."""

    budget: int
    images: int
    platform: str
    limit: int

    def text(self) -> str:
        return (
            f"budget {self.budget:,} base64 bytes: {self.images} images must share "
            f"{self.platform}'s {self.limit:,} byte request limit"
        )


@dataclass(frozen=True)
class Letterboxed(Step):
    """Padded with black to the exact target size; the screenshot's transform skips it."""

    size: Size
    target: Size
    left: int
    top: int

    def text(self) -> str:
        return (
            f"letterboxed {_size(self.size)} into {_size(self.target)} with black (left "
            f"{self.left}, top {self.top} px): map Claude's points with the transform"
        )


@dataclass(frozen=True)
class Tiled(Step):
    """One tile of a long image: the part of the page it covers, ``(x0, y0, x1, y1)``."""

    index: int
    count: int
    box: tuple[int, int, int, int]

    def text(self) -> str:
        x0, y0, x1, y1 = self.box
        return f"tile {self.index + 1} of {self.count}: page pixels ({x0}, {y0})-({x1}, {y1})"


@dataclass(frozen=True)
class RemovedMetadata(Step):
    """Metadata left out of bytes otherwise sent unchanged: whole segments or chunks were
    dropped and every other byte kept (``metadata="strip"``, the default), or ancillary
    data a decoder would refuse was dropped (``unreadable``, in either mode)."""

    removed: tuple[str, ...] = ()
    unreadable: tuple[str, ...] = ()

    def text(self) -> str:
        parts = []
        if self.removed:
            parts.append(f"removed metadata ({', '.join(self.removed)})")
        if self.unreadable:
            parts.append(f"dropped unreadable {', '.join(self.unreadable)}")
        return "; ".join(parts) + ": the image data kept byte for byte"
