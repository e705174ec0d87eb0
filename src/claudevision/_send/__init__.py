"""Send: the only stage that talks to the API.

Takes rendered requests and the caller's ``anthropic`` client (loaded on first need
by ``sdk``). Gives ``Vision`` and ``AsyncVision`` (``client``), which differ only
where they wait, streams (``stream``), answers (``answer``), conversations
(``conversation``), the one-call ``claudevision.ask`` and friends (``shortcuts``), and
the names kept for one release (``deprecated``).

May import every stage below it; nothing in the library imports it but the package's
public modules.
"""
