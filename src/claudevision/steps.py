"""What was done to an image: typed steps that programs compare and people read.

Every :class:`~claudevision.PreparedImage` carries ``steps``, a tuple of the values
below in the order they happened. Compare them as values; ``str(step)`` is the English
sentence logs and ``describe()`` show::

    >>> from claudevision.steps import Resized, ResizeReason
    >>> step = Resized((4032, 3024), (1270, 952), ResizeReason.TIER)
    >>> str(step)
    "resized 4032x3024 -> 1270x952 (the model's resolution tier)"
    >>> step in (Resized((4032, 3024), (1270, 952), ResizeReason.TIER),)
    True
"""

from ._core.steps import (
    AssumedTier,
    Converted,
    ConvertedMode,
    CorrectedMediaType,
    Encoded,
    FlattenedAlpha,
    KeptFirstFrame,
    KeptPrimaryImage,
    Letterboxed,
    Oriented,
    RemovedMetadata,
    Resized,
    ResizeReason,
    ScaledSamples,
    SentAsReference,
    SentUnchanged,
    SharedBudget,
    Shrunk,
    Step,
    SwitchedToLossy,
    Tiled,
)

__all__ = [
    "AssumedTier",
    "Converted",
    "ConvertedMode",
    "CorrectedMediaType",
    "Encoded",
    "FlattenedAlpha",
    "KeptFirstFrame",
    "KeptPrimaryImage",
    "Letterboxed",
    "Oriented",
    "RemovedMetadata",
    "ResizeReason",
    "Resized",
    "ScaledSamples",
    "SentAsReference",
    "SentUnchanged",
    "SharedBudget",
    "Shrunk",
    "Step",
    "SwitchedToLossy",
    "Tiled",
]
