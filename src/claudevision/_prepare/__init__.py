"""Prepare: pure CPU, from a read value to what the model will see.

Takes the read stage's values and the caller's options (``fit``). Gives a
``PreparedImage`` (``prepared``): sniffed, proven whole (``verify``, GIF data by
``lzw``), decoded under bounds (``decode``), or shrunk in a stream by libvips where
installed (``backend``), oriented and converted (``pixels``, ``upright``), fitted and
encoded (``encode``, ``prepare``); the request-wide rules (``fit_request``);
screenshots with their transform (``screenshot``) and tiles of long pages (``tiles``).

Imports only ``_core`` and ``_read`` (and only to read an input it was handed); never
does network I/O, never builds a request, and never imports render or send.
"""
