"""Read: the only stage that does I/O.

Takes whatever the caller holds (a path, bytes, a file object, a base64 or data-URL
string, a URL or Files API reference, a PIL image, an array). Gives one immutable,
bounded value: ``ImageBytes``, ``ImagePixels`` or ``ImageReference`` (``read``), with
the source models and what a string says it is (``sources``).

Imports only ``_core``; never decodes an image, and never imports prepare, render or
send.
"""
