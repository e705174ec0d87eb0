"""Downloading an image URL, safe for URLs from strangers.

    >>> from claudevision import read_image
    >>> read_image("https://example.com/cat.jpg", download=True)   # doctest: +SKIP
    ImageBytes('https://example.com/cat.jpg', 48,213 bytes)

Every hop (the URL, then each redirect) is checked by :mod:`.guard`: the scheme, then
every address its host resolves to, before any connection; the connection then goes to
the address that was checked (the request carries the host name and TLS checks the
certificate against it), so a second, different answer from DNS cannot redirect it.
Bounded by :class:`~claudevision.Bounds`: ``download_seconds`` for the whole download
(connecting, redirects and a slow drip of bytes included), ``max_redirects`` hops, and
``max_input_bytes`` checked on ``Content-Length`` and again on the bytes as they arrive,
after decompression (only ``identity`` and ``gzip`` are accepted). No proxy, credentials,
certificates or cookies come from the environment; credentials in the URL are sent only
to its own origin. The type is decided later from the bytes, never from a header.

One implementation, on ``httpx2`` (the ``anthropic`` SDK's HTTP client): :func:`adownload`
awaits it; :func:`download` runs it on an event loop of its own in a worker thread, so it
works the same from any thread, a running event loop's included.
"""

from __future__ import annotations

import base64
import ipaddress
import socket
import ssl
import zlib
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from .._core.exceptions import (
    BlockedURLError,
    DownloadError,
    DownloadTimeoutError,
    EmptyImageError,
    ImageTooLargeError,
)
from .._core.limits import Bounds
from .guard import CheckedURL, check_url, literal_address, redact, refusal

if TYPE_CHECKING:
    import httpx2

__all__ = ["adownload", "download"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_STEP_SECONDS = 10.0  # connect / read / write each at most this (and the whole deadline)
_HEADERS = {
    "Accept": "image/*, */*;q=0.5",
    "Accept-Encoding": "gzip",
    "User-Agent": "claudevision (+image download)",
}


def download(url: str, *, bounds: Bounds, allow_private: bool = False) -> bytes:
    """The bytes at ``url``, within ``bounds``; raises a ``ClaudeVisionError`` otherwise."""
    fetch = partial(adownload, url, bounds=bounds, allow_private=allow_private)
    with ThreadPoolExecutor(1, "claudevision-download") as pool:
        return pool.submit(anyio.run, fetch).result()


async def adownload(url: str, *, bounds: Bounds, allow_private: bool = False) -> bytes:
    """:func:`download` for async code."""
    import httpx2

    timeout = httpx2.Timeout(min(_STEP_SECONDS, bounds.download_seconds))
    try:
        with anyio.fail_after(bounds.download_seconds):
            async with httpx2.AsyncClient(
                trust_env=False, follow_redirects=False, timeout=timeout, verify=ssl_context()
            ) as client:
                return await _follow(client, url, bounds, allow_private)
    except TimeoutError:
        raise DownloadTimeoutError(
            f"the download of {redact(url)!r} took over {bounds.download_seconds} s "
            "(Bounds.download_seconds); try again, or download it yourself"
        ) from None
    except httpx2.TimeoutException as exc:
        raise DownloadTimeoutError(
            f"the server of {redact(url)!r} did not answer in time ({type(exc).__name__})"
        ) from None
    except (httpx2.HTTPError, httpx2.InvalidURL, httpx2.StreamError) as exc:
        raise DownloadError(
            f"{redact(url)!r} could not be downloaded ({type(exc).__name__}: {exc})"
        ) from None


def ssl_context() -> ssl.SSLContext:
    """Certificates checked against the system's trust store (never the environment's)."""
    return ssl.create_default_context()


async def _follow(
    client: httpx2.AsyncClient, url: str, bounds: Bounds, allow_private: bool
) -> bytes:
    current = check_url(url, allow_http=allow_private)
    credentials = current.credentials
    for _ in range(bounds.max_redirects + 1):
        address = await _resolve(current, allow_private)
        response = await client.send(_request(client, current, address, credentials), stream=True)
        try:
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or not location:
                return await _body(response, current, bounds)
        finally:
            await response.aclose()
        following = _next_hop(current, location, allow_private)
        if following.origin != current.origin:
            credentials = following.credentials
        else:
            credentials = following.credentials or credentials
        current = following
    raise DownloadError(
        f"{redact(url)!r} redirected more than {bounds.max_redirects} times (Bounds.max_redirects)"
    )


def _next_hop(current: CheckedURL, location: str, allow_private: bool) -> CheckedURL:
    import httpx2

    try:
        joined = str(httpx2.URL(current.url).join(location))
    except (httpx2.InvalidURL, ValueError) as exc:
        raise DownloadError(
            f"{redact(current.url)!r} redirected to a malformed URL ({exc})"
        ) from None
    if current.scheme == "https" and joined.lower().startswith("http://") and not allow_private:
        raise BlockedURLError(
            f"{redact(current.url)!r} redirected from https to plain http "
            f"({redact(joined)!r}); refused"
        )
    try:
        return check_url(joined, allow_http=allow_private or current.scheme == "http")
    except BlockedURLError as exc:
        raise BlockedURLError(f"a redirect from {redact(current.url)!r}: {exc.message}") from None


async def _resolve(target: CheckedURL, allow_private: bool) -> str:
    """The address to connect to: every address of the host checked, the first taken."""
    literal = literal_address(target.host)
    if literal is not None:
        addresses = [literal]
    else:
        lookup = partial(socket.getaddrinfo, target.host, target.port, type=socket.SOCK_STREAM)
        try:
            found = await anyio.to_thread.run_sync(lookup, abandon_on_cancel=True)
        except (socket.gaierror, UnicodeError) as exc:
            raise DownloadError(
                f"the host of {redact(target.url)!r} does not resolve ({exc}); check the URL"
            ) from None
        addresses = list(
            dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found)
        )
    for address in addresses:
        reason = refusal(address, allow_private=allow_private)
        if reason is not None:
            hint = (
                ""
                if allow_private or "metadata" in reason or "link-local" in reason
                else "; pass allow_private=True only for a test or intranet server"
            )
            raise BlockedURLError(
                f"{redact(target.url)!r}: {target.host} is {address}, {reason}; refused "
                f"before connecting{hint}"
            )
    if not addresses:
        raise DownloadError(f"the host of {redact(target.url)!r} has no address")
    return str(addresses[0])


def _request(
    client: httpx2.AsyncClient,
    target: CheckedURL,
    address: str,
    credentials: tuple[str, str] | None,
) -> httpx2.Request:
    import httpx2

    pinned = httpx2.URL(target.url).copy_with(host=address)
    headers = dict(_HEADERS, Host=target.host_header)
    if credentials is not None:
        token = base64.b64encode(":".join(credentials).encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    extensions: dict[str, Any] = {}
    if target.scheme == "https":
        extensions["sni_hostname"] = target.host
    client.cookies.clear()
    return client.build_request("GET", pinned, headers=headers, extensions=extensions)


async def _body(response: httpx2.Response, target: CheckedURL, bounds: Bounds) -> bytes:
    shown = redact(target.url)
    if response.status_code != 200:
        raise DownloadError(
            f"{shown!r} answered HTTP {response.status_code} {response.reason_phrase}; "
            "check the URL"
        )
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip", ""):
        raise DownloadError(
            f"{shown!r} came with Content-Encoding {encoding!r}; only gzip and identity "
            "are accepted"
        )
    limit = bounds.max_input_bytes
    declared = response.headers.get("content-length", "")
    if declared.strip().isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit, "declares")
    inflater = zlib.decompressobj(31) if encoding in ("gzip", "x-gzip") else None
    buffer = bytearray()
    received = 0
    async for chunk in response.aiter_raw():
        received += len(chunk)
        if received > limit:
            raise _too_large(received, limit, "sent")
        if inflater is None:
            buffer += chunk
        else:
            _inflate(inflater, chunk, buffer, limit)
    if inflater is not None and not inflater.eof:
        raise DownloadError(f"{shown!r}: the gzip stream is cut short")
    if not buffer:
        raise EmptyImageError(f"{shown!r} answered with no content")
    return bytes(buffer)


def _inflate(inflater: Any, chunk: bytes, buffer: bytearray, limit: int) -> None:
    """Decompress ``chunk`` into ``buffer``, never past ``limit`` (a gzip bomb stops here)."""
    data = chunk
    while data and not inflater.eof:
        try:
            buffer += inflater.decompress(data, limit + 1 - len(buffer))
        except zlib.error as exc:
            raise DownloadError(f"the gzip stream is damaged ({exc})") from None
        if len(buffer) > limit:
            raise _too_large(len(buffer), limit, "inflates to")
        data = inflater.unconsumed_tail
    if inflater.eof and (inflater.unused_data or data):
        raise DownloadError("data follows the end of the gzip stream")


def _too_large(size: int, limit: int, verb: str) -> ImageTooLargeError:
    return ImageTooLargeError(
        f"the download {verb} {size:,} bytes or more, over the {limit:,} byte bound "
        "(Bounds.max_input_bytes); raise it for larger images"
    )
