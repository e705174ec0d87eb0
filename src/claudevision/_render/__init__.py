"""Render: prepared images to the SDK's shapes.

Takes ``PreparedImage`` values and plain data: a user turn (``message``:
``ImageMessage``, tool results), a whole request (``request``: ``Request`` to the
keywords of ``messages.create``), an existing history (``repair``). Gives dicts of the
``anthropic`` SDK's TypedDicts, with base64 text made once per render.

Imports ``_core``, ``_read`` and ``_prepare``; never imports send, never imports the
SDK at run time, and never talks to the API.
"""
