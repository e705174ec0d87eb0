"""The faster proofs agree with the slower walks they replaced."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from claudevision._prepare.verify import _end_of_scan


def walked_end_of_scan(data: bytes, position: int) -> int:
    """The 0.2.0 walk: every 0xFF looked at in Python."""
    while True:
        found = data.find(b"\xff", position)
        if found < 0 or found + 1 >= len(data):
            return len(data)
        following = data[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            position = found + 1 if following == 0xFF else found + 2
            continue
        return found


# Bytes that matter after 0xFF: stuffing, restart markers, fill, real markers, data.
_BYTES = st.sampled_from([0xFF, 0x00, 0xD0, 0xD3, 0xD7, 0xD8, 0xD9, 0xC4, 0xDA, 0x12, 0xFE])


@settings(max_examples=2000, derandomize=True, deadline=None)
@given(st.lists(_BYTES, max_size=24).map(bytes), st.integers(0, 24))
def test_end_of_scan_agrees_with_the_walk(data: bytes, position: int) -> None:
    position = min(position, len(data))
    assert _end_of_scan(data, position) == walked_end_of_scan(data, position)
