"""URLs: sent as url sources, or downloaded through the guard, over real HTTP on 127.0.0.1.

No packet leaves 127.0.0.0/8: names resolve from the suite's table (``names``) and any
other connect fails (``netguard``). Tests that need a "public" host map a name to
127.0.0.1 and let the guard treat 127.0.0.1 alone as public (``loopback_is_public``);
every other private, loopback and metadata address stays refused, so a redirect or a
name that leads there must be refused before any connection.
"""

from __future__ import annotations

import gzip
import io
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterator
from typing import Any

import pytest
import trustme
from hypothesis import given, settings
from hypothesis import strategies as st

import claudevision as cv
from claudevision._read import download as download_module
from claudevision._read import guard
from claudevision.testing import ClaudeServer

from .conftest import assert_valid_message, jpeg, png
from .fileserver import FileServer, Reply, drip, endless

MODEL = "claude-sonnet-4-6"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusting(monkeypatch: pytest.MonkeyPatch, ca: trustme.CA) -> None:
    """The downloader trusts the test CA (as it trusts the system's CAs in real use)."""

    def context() -> ssl.SSLContext:
        made = ssl.create_default_context()
        ca.configure_trust(made)
        return made

    monkeypatch.setattr(download_module, "ssl_context", context)


@pytest.fixture
def https(ca: trustme.CA, trusting: None) -> Iterator[FileServer]:
    with FileServer(tls=ca) as server:
        yield server


@pytest.fixture
def http() -> Iterator[FileServer]:
    with FileServer() as server:
        yield server


@pytest.fixture
def loopback_is_public(monkeypatch: pytest.MonkeyPatch, names: dict[str, list[str]]) -> None:
    """127.0.0.1 alone counts as a public address; public names resolve to it."""
    real = guard.refusal
    public = ipaddress.ip_address("127.0.0.1")

    def refusal(address: Any, *, allow_private: bool) -> str | None:
        return None if address == public else real(address, allow_private=allow_private)

    monkeypatch.setattr(download_module, "refusal", refusal)
    names.update({"cdn.test": ["127.0.0.1"], "a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"]})


# -- url sources: nothing downloaded ---------------------------------------------------------


def test_https_url_goes_out_as_a_url_source_untouched(https: FileServer) -> None:
    https.add("/cat.png", png(40, 30))
    url = https.url("/cat.png", host="cdn.test")
    prepared = cv.prepare_image(url, model=MODEL)
    assert prepared.block["source"] == {"type": "url", "url": url}
    assert prepared.size is None and prepared.tokens is None
    assert https.seen == []


def test_url_pass_through_is_accepted_by_the_local_server() -> None:
    url = "https://images.example/cat.jpg"
    with ClaudeServer() as server:
        server.urls[url] = jpeg(300, 200)
        answer = cv.ask("What is it?", url, client=server.client(), model=MODEL)
        assert answer.images[0].source_type == "url"
        sent = server.requests[-1].body["messages"][0]["content"][0]
        assert sent["source"] == {"type": "url", "url": url}


@pytest.mark.parametrize("url", ["https://127.0.0.1/a.png", "https://10.1.2.3/a.png",
                                 "https://localhost/a.png", "https://[::1]/a.png",
                                 "https://0x7f.1/a.png"])  # fmt: skip
def test_url_source_to_this_machine_or_a_private_address_is_refused(url: str) -> None:
    with pytest.raises(cv.BlockedURLError, match="cannot reach"):
        cv.prepare_image(url)


@pytest.mark.parametrize("url", ["ftp://cdn.test/a.png", "file:///etc/passwd",
                                 "gopher://cdn.test/", "s3://bucket/key.png"])  # fmt: skip
def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(cv.BlockedURLError, match="only http"):
        cv.read_image(url, download=True, paths=False)


def test_malformed_urls_get_clear_errors() -> None:
    for url in ["https://", "https://cdn.test:99999/a.png", "https://cd n.test/a.png"]:
        with pytest.raises(cv.ImageInputError) as caught:
            cv.read_image(url, download=True, paths=False)
        assert "URL" in str(caught.value)


def test_credentials_are_redacted_in_errors() -> None:
    with pytest.raises(cv.BlockedURLError) as caught:
        cv.read_image("https://alice:s3cret@10.0.0.5/a.png", download=True)
    assert "s3cret" not in str(caught.value) and "***@10.0.0.5" in str(caught.value)


# -- downloads: the happy paths ---------------------------------------------------------------


@pytest.mark.usefixtures("loopback_is_public")
def test_download_over_https_checks_the_certificate_against_the_name(https: FileServer) -> None:
    https.add("/cat.png", png(40, 30))
    prepared = cv.prepare_image(https.url("/cat.png", host="cdn.test"), download=True)
    assert prepared.block["source"]["type"] == "base64" and prepared.size == (40, 30)
    assert https.seen[0].headers["Host"] == f"cdn.test:{https.port}"


@pytest.mark.usefixtures("loopback_is_public")
def test_a_certificate_for_another_name_is_refused(
    https: FileServer, names: dict[str, list[str]]
) -> None:
    names["other.test"] = ["127.0.0.1"]
    https.add("/cat.png", png(40, 30))
    with pytest.raises(cv.DownloadError, match="could not be downloaded"):
        cv.read_image(https.url("/cat.png", host="other.test"), download=True)


@pytest.mark.usefixtures("loopback_is_public")
def test_the_connection_goes_to_the_address_that_was_checked(
    https: FileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: a second lookup would say 10.0.0.9; there is no second lookup."""
    answers = iter([["127.0.0.1"], ["10.0.0.9"], ["10.0.0.9"]])
    real = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host)
        return real(next(answers)[0], port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    https.add("/cat.png", png(40, 30))
    image = cv.read_image(https.url("/cat.png", host="cdn.test"), download=True)
    assert isinstance(image, cv.ImageBytes) and lookups == ["cdn.test"]


def test_type_comes_from_the_bytes_not_the_header_or_name(http: FileServer) -> None:
    http.add("/photo.png", jpeg(64, 48), headers={"Content-Type": "image/png"})
    prepared = cv.prepare_image(http.url("/photo.png"), allow_private=True)
    assert prepared.media_type == "image/jpeg"


def test_gzip_is_inflated(http: FileServer) -> None:
    http.gzipped("/cat.png", png(40, 30))
    assert cv.prepare_image(http.url("/cat.png"), allow_private=True).size == (40, 30)


@pytest.mark.usefixtures("loopback_is_public")
def test_redirects_are_followed_and_credentials_stay_on_their_origin(https: FileServer) -> None:
    with FileServer(tls=https.ca) as other:
        other.add("/cat.png", png(40, 30))
        https.redirect("/same", "/hop")
        https.redirect("/hop", other.url("/cat.png", host="b.test"))
        url = https.url("/same", host="a.test").replace("https://", "https://u:pw@")
        image = cv.read_image(url, download=True)
    assert isinstance(image, cv.ImageBytes)
    assert "Authorization" in https.seen[0].headers and "Authorization" in https.seen[1].headers
    assert "Authorization" not in other.seen[0].headers


@pytest.mark.anyio
async def test_aread_image_downloads_on_the_event_loop(http: FileServer) -> None:
    http.add("/cat.png", png(40, 30))
    image = await cv.aread_image(http.url("/cat.png"), download=True, allow_private=True)
    assert isinstance(image, cv.ImageBytes) and image.data == png(40, 30)


# -- downloads: every refusal -------------------------------------------------------------------


def test_size_over_the_bound_by_header_is_refused_unread(http: FileServer) -> None:
    http.add("/big.png", b"\0" * 300_000)
    with pytest.raises(cv.ImageTooLargeError, match="declares 300,000 bytes"):
        cv.read_image(
            http.url("/big.png"), download=True, allow_private=True,
            bounds=cv.Bounds(max_input_bytes=100_000),
        )  # fmt: skip


def test_size_over_the_bound_while_streaming_is_refused(http: FileServer) -> None:
    http.add("/endless.png", endless(seconds=20), length=False)
    with pytest.raises(cv.ImageTooLargeError, match="sent"):
        cv.read_image(
            http.url("/endless.png"), download=True, allow_private=True,
            bounds=cv.Bounds(max_input_bytes=1_000_000),
        )  # fmt: skip


def test_a_gzip_bomb_stops_at_the_bound(http: FileServer) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)
    assert len(bomb) < 100_000
    http.add("/bomb.png", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(cv.ImageTooLargeError, match="inflates to"):
        cv.read_image(
            http.url("/bomb.png"), download=True, allow_private=True,
            bounds=cv.Bounds(max_input_bytes=1_000_000),
        )  # fmt: skip


def test_other_content_encodings_are_refused(http: FileServer) -> None:
    http.add("/cat.png", b"x" * 100, headers={"Content-Encoding": "br"})
    with pytest.raises(cv.DownloadError, match="only gzip and identity"):
        cv.read_image(http.url("/cat.png"), download=True, allow_private=True)


def test_a_server_that_never_answers_times_out(http: FileServer) -> None:
    http.replies["/hang.png"] = Reply(delay=30, body=png(4, 4))
    started = time.monotonic()
    with pytest.raises(cv.DownloadTimeoutError):
        cv.read_image(
            http.url("/hang.png"), download=True, allow_private=True,
            bounds=cv.Bounds(download_seconds=1),
        )  # fmt: skip
    assert time.monotonic() - started < 10


def test_a_slow_drip_is_cut_at_the_deadline(http: FileServer) -> None:
    """Each byte arrives well within the read timeout; the total deadline still holds."""
    http.add("/drip.png", drip(png(200, 200), 64), pause=0.2, length=False)
    started = time.monotonic()
    with pytest.raises(cv.DownloadTimeoutError, match="took over 2 s"):
        cv.read_image(
            http.url("/drip.png"), download=True, allow_private=True,
            bounds=cv.Bounds(download_seconds=2),
        )  # fmt: skip
    assert time.monotonic() - started < 10


def test_content_that_is_not_an_image_is_refused(http: FileServer) -> None:
    http.add("/page.png", b"<!doctype html><title>Login</title>" * 20)
    with pytest.raises(cv.NotAnImageError):
        cv.prepare_image(http.url("/page.png"), allow_private=True)


def test_http_errors_name_the_status(http: FileServer) -> None:
    with pytest.raises(cv.DownloadError, match="HTTP 404"):
        cv.read_image(http.url("/missing.png"), download=True, allow_private=True)


def test_too_many_redirects(http: FileServer) -> None:
    http.redirect("/loop", "/loop")
    with pytest.raises(cv.DownloadError, match="more than 3 times"):
        cv.read_image(
            http.url("/loop"), download=True, allow_private=True,
            bounds=cv.Bounds(max_redirects=3),
        )  # fmt: skip


def test_plain_http_needs_allow_private(http: FileServer) -> None:
    http.add("/cat.png", png(8, 8))
    with pytest.raises(cv.BlockedURLError, match="plain http is refused"):
        cv.prepare_image(http.url("/cat.png"))
    assert http.seen == []


PRIVATE_TARGETS = [
    "http://10.0.0.5/a.png",
    "https://192.168.1.1/a.png",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::ffff:10.0.0.5]/a.png",
    "https://intranet.test/a",
]


@pytest.mark.usefixtures("loopback_is_public")
@pytest.mark.parametrize("target", PRIVATE_TARGETS)
def test_a_redirect_to_a_private_address_is_refused_before_connecting(
    https: FileServer, names: dict[str, list[str]], target: str
) -> None:
    names["intranet.test"] = ["10.20.30.40"]
    https.redirect("/go", target)
    with pytest.raises(cv.BlockedURLError):
        cv.read_image(https.url("/go", host="cdn.test"), download=True)
    assert len(https.seen) == 1


@pytest.mark.parametrize(
    ("host", "addresses", "reason"),
    [
        ("intranet.test", ["10.1.2.3"], "a private address"),
        ("mixed.test", ["93.184.215.14", "192.168.0.9"], "a private address"),
        ("mapped.test", ["::ffff:10.1.2.3"], "inside"),
        ("cgnat.test", ["100.64.0.1"], "shared"),
        ("ula.test", ["fd12::1"], "a private address"),
        ("metadata.test", ["169.254.169.254"], "link-local"),
        ("azure.test", ["168.63.129.16"], "metadata"),
        ("local.test", ["127.0.0.1"], "loopback"),
    ],
)
def test_private_addresses_by_name_are_refused_before_connecting(
    names: dict[str, list[str]], host: str, addresses: list[str], reason: str
) -> None:
    names[host] = addresses
    with pytest.raises(cv.BlockedURLError, match=reason) as caught:
        cv.read_image(f"https://{host}/a.png", download=True)
    assert "before connecting" in str(caught.value)


@pytest.mark.parametrize("url", ["https://10.1.2.3/a.png", "https://2130706433/a.png",
                                 "https://[::ffff:127.0.0.1]/a.png", "https://[64:ff9b::a01:203]/",
                                 "https://[2002:a01:203::1]/"])  # fmt: skip
def test_private_addresses_by_number_are_refused(url: str) -> None:
    with pytest.raises(cv.BlockedURLError):
        cv.read_image(url, download=True)


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/",
                                 "http://[fd00:ec2::254]/", "http://100.100.100.200/",
                                 "http://[::ffff:169.254.170.2]/"])  # fmt: skip
def test_metadata_addresses_stay_refused_with_allow_private(url: str) -> None:
    with pytest.raises(cv.BlockedURLError, match="metadata"):
        cv.read_image(url, download=True, allow_private=True)


def test_internationalised_hosts_are_resolved_in_ascii(
    http: FileServer, names: dict[str, list[str]]
) -> None:
    names["xn--bcher-kva.test"] = ["127.0.0.1"]
    http.add("/cat.png", png(8, 8))
    url = f"http://bücher.test:{http.port}/cat.png"
    assert cv.prepare_image(url, allow_private=True).size == (8, 8)
    assert http.seen[0].headers["Host"] == f"xn--bcher-kva.test:{http.port}"


# -- where a download is needed ------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["bedrock", "vertex"])
def test_platforms_without_url_sources_download_and_inline(http: FileServer, platform: str) -> None:
    http.add("/cat.jpg", jpeg(320, 240))
    with ClaudeServer(platform=platform) as server:
        client = server.bedrock_client() if platform == "bedrock" else server.vertex_client()
        vision = cv.Vision(client, model=MODEL, allow_private=True)
        answer = vision.ask("What is it?", http.url("/cat.jpg"))
        sent = server.requests[-1].body["messages"][0]["content"][0]["source"]
    assert sent["type"] == "base64" and answer.images[0].size == (320, 240)


def test_download_false_keeps_the_platform_refusal() -> None:
    with pytest.raises(cv.UnsupportedSourceError, match="leave download unset"):
        cv.prepare_image("https://images.example/a.png", platform="bedrock", download=False)


@pytest.mark.usefixtures("loopback_is_public")
def test_count_tokens_downloads_url_images(https: FileServer) -> None:
    https.add("/cat.jpg", jpeg(320, 240))
    url = https.url("/cat.jpg", host="cdn.test")
    with ClaudeServer() as server:
        tokens = cv.count_tokens("What is it?", url, client=server.client(), model=MODEL)
        sent = server.requests[-1].body["messages"][0]["content"][0]["source"]
    assert sent["type"] == "base64" and tokens > 0


@pytest.mark.usefixtures("loopback_is_public")
def test_twenty_five_url_images_with_one_over_2000_px_are_accepted(https: FileServer) -> None:
    for i in range(25):
        https.add(f"/{i}.jpg", jpeg(3000, 1000) if i == 7 else jpeg(64, 48))
    urls = [https.url(f"/{i}.jpg", host="cdn.test") for i in range(25)]
    message = cv.ImageMessage("Compare them.", *urls, model=MODEL)
    assert max(message.images[7].size or (0, 0)) <= 2000
    assert all(image.source_type == "base64" for image in message.images)
    with ClaudeServer() as server:
        cv.Vision(server.client(), model=MODEL).send(message)
    assert_valid_message(message.to_param())


@pytest.mark.usefixtures("loopback_is_public")
def test_three_url_images_stay_url_sources(https: FileServer) -> None:
    urls = [https.url(f"/{i}.jpg", host="cdn.test") for i in range(3)]
    message = cv.ImageMessage("Compare them.", *urls, model=MODEL)
    assert [image.source_type for image in message.images] == ["url"] * 3
    assert https.seen == []


def test_repair_messages_inlines_url_images_on_bedrock(http: FileServer) -> None:
    http.add("/cat.jpg", jpeg(320, 240))
    history = [{"role": "user", "content": [
        {"type": "image", "source": {"type": "url", "url": http.url("/cat.jpg")}},
        {"type": "text", "text": "What is it?"},
    ]}]  # fmt: skip
    repaired = cv.repair_messages(history, model=MODEL, platform="bedrock", allow_private=True)
    (change,) = repaired.changes
    assert change.what is cv.ChangeKind.INLINED
    assert repaired.messages[0]["content"][0]["source"]["type"] == "base64"  # type: ignore[index]
    assert repaired.image_tokens is not None
    with ClaudeServer(platform="bedrock") as server:
        server.bedrock_client().messages.create(
            model=MODEL, max_tokens=50, messages=repaired.messages
        )


def test_repair_replaces_a_url_image_it_may_not_download() -> None:
    history = [{"role": "user", "content": [
        {"type": "image", "source": {"type": "url", "url": "https://10.0.0.5/a.png"}},
    ]}]  # fmt: skip
    repaired = cv.repair_messages(history, model=MODEL, platform="vertex")
    (change,) = repaired.changes
    assert change.what is cv.ChangeKind.REPLACED and "private" in change.why


# -- file objects -----------------------------------------------------------------------------


def test_a_file_object_prepared_twice_gives_the_same_image() -> None:
    data = png(40, 30)
    stream = io.BytesIO(b"junk" + data)
    stream.seek(4)
    first, second = cv.prepare_image(stream), cv.prepare_image(stream)
    assert first.data == second.data == data and stream.tell() == 4


class _Pipe(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_a_stream_that_cannot_seek_says_it_was_already_read() -> None:
    pipe: Any = _Pipe(png(10, 10))
    assert cv.prepare_image(pipe).size == (10, 10)
    with pytest.raises(cv.ImageInputError, match="already read"):
        cv.prepare_image(pipe)


def test_the_sdk_accepts_what_was_downloaded(http: FileServer) -> None:
    http.add("/cat.png", png(40, 30))
    message = cv.ImageMessage("Hi", http.url("/cat.png"), allow_private=True, model=MODEL)
    assert_valid_message(message.to_param())


# -- the guard, fuzzed -------------------------------------------------------------------------

URLISH = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda scheme, auth, host, port, path: f"{scheme}://{auth}{host}{port}{path}",
        st.sampled_from(["http", "https", "HTTPS", "ftp", "file", ""]),
        st.sampled_from(["", "u:p@", "@", "a@b@"]),
        st.text(min_size=0, max_size=20),
        st.sampled_from(["", ":0", ":443", ":99999", ":-1", ":x"]),
        st.text(max_size=20),
    ),
)


@settings(max_examples=500, deadline=None)
@given(URLISH)
def test_fuzzed_urls_raise_only_our_errors(url: str) -> None:
    try:
        checked = guard.check_url(url, allow_http=True)
    except cv.ClaudeVisionError:
        return
    assert checked.scheme in ("http", "https") and checked.host and 0 <= checked.port < 65536
    assert "@" not in checked.url.split("/")[2]


@settings(max_examples=500, deadline=None)
@given(st.ip_addresses())
def test_fuzzed_addresses_are_judged_and_private_ones_refused(address: Any) -> None:
    strict = guard.refusal(address, allow_private=False)
    loose = guard.refusal(address, allow_private=True)
    if loose is not None:
        assert strict is not None  # allow_private only ever allows more
    if not address.is_global:
        assert strict is not None
    if address.is_link_local:
        assert loose is not None


def test_a_very_long_url_is_our_error() -> None:
    with pytest.raises(cv.ImageInputError):
        cv.read_image("https://93.184.215.14/" + "a" * 70_000, download=True)


@pytest.mark.parametrize("scheme", ["HTTPS", "Https", "hTTp"])
def test_credentials_are_redacted_whatever_the_schemes_case(scheme: str) -> None:
    with pytest.raises(cv.ClaudeVisionError) as caught:
        cv.prepare_image(f"{scheme}://user:secret@127.0.0.1:1/x.png", download=True)
    assert "secret" not in str(caught.value)
    assert "secret" not in guard.redact("https://user:p@ss@[::1/x")


@pytest.mark.parametrize("address", ["fec0::1", "64:ff9b:1:a9fe:a9:fe00:808:808"])
def test_site_local_and_local_use_nat64_are_refused(address: str) -> None:
    assert guard.refusal(ipaddress.ip_address(address), allow_private=False) is not None
