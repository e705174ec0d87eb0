"""The URL guard: which URLs may be fetched, and which addresses they may reach.

Pure logic (no name resolution, no connection): :mod:`.download` resolves a host and asks
:func:`refusal` about every address before it connects, on every redirect hop.

    >>> from ipaddress import ip_address
    >>> refusal(ip_address("10.0.0.7"), allow_private=False)
    'a private address'
    >>> refusal(ip_address("::ffff:169.254.169.254"), allow_private=True)  # doctest: +ELLIPSIS
    'a link-local address, where cloud metadata services live (inside ...)'
    >>> refusal(ip_address("93.184.215.14"), allow_private=False) is None
    True

Refused unless ``allow_private=True``: loopback, private (RFC 1918, IPv6 unique-local),
shared (CGNAT, 100.64.0.0/10), multicast, reserved and unspecified addresses, and
anything else that is not globally routable. Refused always: link-local addresses and
the cloud metadata addresses outside them. IPv4 addresses hidden in IPv6 forms
(IPv4-mapped and -compatible, NAT64, 6to4, Teredo) are judged as the IPv4 address too.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

from .._core.exceptions import BlockedURLError, ImageInputError

__all__ = ["CheckedURL", "check_url", "literal_address", "redact", "refusal"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Metadata services that do not live in a link-local range (those always refused).
_METADATA = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "168.63.129.16",  # Azure wire server
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::23",  # AWS EKS pod identity over IPv6
    )
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"),)
_SCHEMES = ("http", "https")
_MAX_URL = 8192
# NAT64 local-use prefix: its layout may hide an address anywhere; judged as private.
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def redact(url: str) -> str:
    """``url`` with any user name and password replaced by ``***``, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***@" + url.rsplit("@", 1)[-1] if "@" in url else url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


@dataclass(frozen=True)
class CheckedURL:
    """A URL the guard accepted the form of: scheme, ASCII host, port and credentials."""

    url: str
    """The whole URL with its host in ASCII (IDNA), credentials removed."""
    scheme: str
    host: str
    """ASCII host name or address literal, without brackets."""
    port: int
    credentials: tuple[str, str] | None

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = _DEFAULT_PORTS[self.scheme] == self.port
        return host if default else f"{host}:{self.port}"


def check_url(url: str, *, allow_http: bool) -> CheckedURL:
    """Check the form of ``url`` (not its address); raise a clear error if it is refused.

    ``allow_http=False`` takes only ``https://``. Internationalised host names are
    converted to ASCII (IDNA 2008 with UTS 46 mapping, as browsers do).
    """
    shown = redact(url)
    if len(url) > _MAX_URL:
        raise ImageInputError(
            f"URL {shown[:80]!r}... is {len(url):,} characters long, over {_MAX_URL:,}"
        )
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise ImageInputError(f"URL {shown!r} holds a space or control character; encode it")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ImageInputError(f"URL {shown!r} is malformed ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise BlockedURLError(
            f"URL {shown!r}: only http(s) URLs are downloaded, not {scheme or 'no'} scheme; "
            "read a local file by its path, or pass the bytes"
        )
    if scheme == "http" and not allow_http:
        raise BlockedURLError(
            f"URL {shown!r}: plain http is refused; use https://, or pass allow_private=True "
            "for a test or intranet server"
        )
    host = _ascii_host(parts, shown)
    credentials = None
    if parts.username is not None or parts.password is not None:
        credentials = (parts.username or "", parts.password or "")
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{port}"
    clean = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    return CheckedURL(clean, scheme, host, port or _DEFAULT_PORTS[scheme], credentials)


def _ascii_host(parts: SplitResult, shown: str) -> str:
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ImageInputError(f"URL {shown!r} names no host")
    if host.isascii():
        return host.lower()
    import idna

    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ImageInputError(f"URL {shown!r}: the host name is not valid IDNA ({exc})") from None


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells, in any notation a resolver takes (``127.1``,
    ``0x7f000001``, ``2130706433``), or None for a host name."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why ``address`` may not be reached, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        hidden, translated = _embedded_ipv4(address)
        if hidden is not None:
            reason = refusal(hidden, allow_private=allow_private)
            if reason is not None:
                return f"{reason} (inside {address})"
            if translated:
                return None
    if address.is_link_local:
        return "a link-local address, where cloud metadata services live"
    if address in _METADATA:
        return "a cloud metadata address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "the unspecified address"
    if allow_private:
        return None
    if address.is_loopback:
        return "a loopback address"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "a shared (CGNAT) address"
    if address.is_private or (
        isinstance(address, ipaddress.IPv6Address)
        and (address.is_site_local or address in _LOCAL_NAT64)
    ):
        return "a private address"
    if address.is_reserved or not address.is_global:
        return "a reserved address"
    return None


def _embedded_ipv4(
    address: ipaddress.IPv6Address,
) -> tuple[ipaddress.IPv4Address | None, bool]:
    """An IPv4 address hidden in ``address``, and whether traffic goes to it directly."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped, True
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), True
    if address.sixtofour is not None:
        return address.sixtofour, False
    if address.teredo is not None:
        return address.teredo[1], False
    packed = int(address)
    if packed >> 32 == 0 and packed > 1:  # IPv4-compatible ::a.b.c.d (deprecated)
        return ipaddress.IPv4Address(packed), True
    return None, False
