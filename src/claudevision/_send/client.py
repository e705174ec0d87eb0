"""Send: a client object that owns the ``anthropic`` client, the model and the platform.

    >>> from claudevision import Vision
    >>> vision = Vision(model="claude-opus-4-8")          # anthropic.Anthropic() from the env
    >>> vision.ask("What is in it?", "photo.jpg").text      # doctest: +SKIP
    >>> for text in vision.stream("Describe it.", "photo.jpg"):  # doctest: +SKIP
    ...     print(text, end="")

:class:`_BaseVision` holds everything that does no I/O (defaults, messages, requests);
:class:`Vision` and :class:`AsyncVision` differ only where they wait. API errors are the
SDK's own exceptions and retries are the SDK's (``max_retries``); they are never wrapped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from .._core.blocks import FILES_BETA, Cache, merged_betas
from .._core.exceptions import ClaudeVisionError, ConfigurationError, UnsupportedSourceError
from .._core.limits import BATCH_MAX_BYTES, BATCH_MAX_REQUESTS, Bounds, Platform, get_platform
from .._prepare.document import PreparedDocument
from .._prepare.prepare import beside_event_loop, prepare_image
from .._prepare.prepared import PreparedImage
from .._read.read import ReadImage
from .._read.sources import FileIdSource, ImageInput
from .._render.message import ImageMessage, ToolResult
from .._render.repair import document_blocks, image_blocks
from .._render.request import DEFAULT_MAX_TOKENS, RenderedRequest, Request
from .answer import Answer
from .batch import BatchProgress, BatchSummary, Job, Preparer, new_job, plan
from .batch_calls import AsyncCalls, SyncCalls, adrive, drive
from .batch_prepare import BatchSettings
from .files import (
    FileCache,
    alocked,
    as_uploaded,
    cache_key,
    check_uploadable,
    file_ids,
    swap_file_ids,
    upload_args,
)
from .params import check_call
from .sdk import AsyncClientLike, ClientLike, async_client, platform_of, sync_client
from .stream import AsyncTextStream, TextStream

if TYPE_CHECKING:
    from anthropic.types import MessageParam

__all__ = ["AsyncVision", "Vision", "countable"]


class _BaseVision:
    """Defaults and request building shared by :class:`Vision` and :class:`AsyncVision`."""

    _client: Any

    def __init__(
        self,
        *,
        model: str | None = None,
        platform: str | Platform | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        paths: bool = True,
        bounds: Bounds | None = None,
        download: bool | None = None,
        allow_private: bool = False,
        file_cache: FileCache | str | os.PathLike[str] | None = None,
    ) -> None:
        self.model = model
        """The model used when a call names none."""
        self._platform = platform
        self.max_tokens = max_tokens
        self.paths = paths
        """False: strings are never read as file paths (for strangers' input)."""
        self.bounds = bounds
        self.download = download
        """When URL images are downloaded: True always, False never, None (the default)
        where the request needs their bytes (Bedrock, Vertex, count_tokens, more than 20
        images). Per call: ``download=`` on ``ask``, ``stream`` and ``count_tokens``."""
        self.allow_private = allow_private
        """True: downloads may reach loopback and private addresses (tests, intranets)."""
        self.files = file_cache if isinstance(file_cache, FileCache) else FileCache(file_cache)
        """Where uploaded images' file ids are remembered (:meth:`Vision.upload`)."""

    @property
    def platform(self) -> str | Platform:
        """The platform whose limits apply: as given, else the client's."""
        if self._platform is not None:
            return self._platform
        return platform_of(self._client) if self._client is not None else "anthropic"

    def message(
        self,
        prompt: str,
        *images: ImageInput | ReadImage | PreparedImage | PreparedDocument,
        cache: Cache = False,
        tool_results: Sequence[ToolResult] = (),
        model: str | None = None,
        **options: Any,
    ) -> ImageMessage:
        """An :class:`~claudevision.ImageMessage` with this client's model and platform."""
        options.setdefault("download", self.download)
        options.setdefault("allow_private", self.allow_private)
        return ImageMessage(
            prompt,
            *images,
            model=model or self.model,
            platform=self._platform,
            cache=cache,
            tool_results=tool_results,
            paths=self.paths,
            bounds=self.bounds,
            **options,
        )

    def _check(
        self, name: str, prompt: object, model: object, tokens: object, system: object, params: Any
    ) -> None:
        """Every argument of a call, checked before any image is read."""
        tokens = self.max_tokens if tokens is None else tokens
        check_call(name, prompt, model=model, max_tokens=tokens, system=system, params=params)

    def request(
        self,
        turns: Sequence[ImageMessage | MessageParam],
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        system: str | Sequence[Any] | None = None,
        keep_images: int | None = None,
        inline: bool = False,
        **params: Any,
    ) -> Request:
        """The :class:`~claudevision.Request` for ``turns`` under this client's defaults."""
        named = next((m.model for m in turns if isinstance(m, ImageMessage) and m.model), None)
        platform = next(
            (m.platform for m in turns if isinstance(m, ImageMessage) and m.platform), None
        )
        return Request(
            model=model or named or self.model or "",
            turns=tuple(turns),
            platform=platform or self.platform,
            max_tokens=max_tokens or self.max_tokens,
            system=system,
            params=params,
            keep_images=keep_images,
            inline=inline,
            download=self.download,
            allow_private=self.allow_private,
            bounds=self.bounds,
        )

    def _batch_job(
        self,
        inputs: Any,
        *,
        prompt: str | None,
        out: str | os.PathLike[str],
        model: str | None,
        max_tokens: int | None,
        system: str | Sequence[Any] | None,
        params: dict[str, Any],
        **options: Any,
    ) -> Job:
        """A batch run's job: its settings checked, its inputs listed, its state opened."""
        platform = get_platform(self.platform)
        if "file" not in platform.source_types:
            raise ConfigurationError(
                f"Message Batches are served by the Anthropic API, not {platform.name}; "
                "use an anthropic.Anthropic client"
            )
        chosen = model or self.model
        if not chosen:
            raise ConfigurationError("no model: pass model= here or to Vision(model=...)")
        image = image_options(params)
        settings = BatchSettings(
            model=chosen,
            max_tokens=self.max_tokens if max_tokens is None else max_tokens,
            system=system,
            params=params,
            platform=self.platform,
            paths=self.paths,
            bounds=self.bounds,
            download=image.get("download", self.download),
            allow_private=image.get("allow_private", self.allow_private),
        )
        return new_job(inputs, settings, prompt=prompt, out=out, **options)

    def _to_upload(
        self, image: ImageInput | ReadImage | PreparedImage, options: dict[str, Any]
    ) -> tuple[PreparedImage, str]:
        """The image prepared for upload, and its cache key for this client."""
        if not (isinstance(image, PreparedImage) and image.data is not None):
            defaults = {"model": self.model, "platform": self.platform, "paths": self.paths,
                        "bounds": self.bounds, "allow_private": self.allow_private,
                        "download": self.download is not False}  # fmt: skip
            image = prepare_image(image, **{**defaults, **options})
        check_uploadable(image, self.platform)
        client = self._client
        credential = getattr(client, "api_key", None) or getattr(client, "auth_token", None)
        return image, cache_key(image.data or b"", str(client.base_url), credential)

    def _keep(self, image: PreparedImage, exc: Exception) -> PreparedImage:
        """After a failed upload in a conversation: the image as it was (re-raised if it is
        not an upload failure), so a reply already received is never lost."""
        if isinstance(exc, (ClaudeVisionError, OSError)) or _is_sdk_error(exc):
            return image
        raise exc

    def _uploaded_in(self, images: Sequence[PreparedImage], kwargs: dict[str, Any]) -> list[Any]:
        """The request's images this client uploaded (re-uploadable after a 404)."""
        named = file_ids(kwargs)
        return [
            image
            for image in images
            if isinstance(image.reference, FileIdSource)
            and image.data is not None
            and image.reference.file_id in named
        ]


def _missing_file(exc: Exception) -> bool:
    """An API 404 (perhaps a file id it no longer knows: checked before re-uploading)."""
    return getattr(exc, "status_code", None) == 404


def _file_id(prepared: PreparedImage) -> str:
    assert isinstance(prepared.reference, FileIdSource)
    return prepared.reference.file_id


def _is_sdk_error(exc: Exception) -> bool:
    return type(exc).__module__.startswith("anthropic")


def _gone(client: Any, file_id: str) -> bool:
    """True when the API answers 404 for ``file_id`` itself."""
    try:
        client.beta.files.retrieve_metadata(file_id, betas=[FILES_BETA])
    except Exception as exc:
        return _missing_file(exc)
    return False


async def _agone(client: Any, file_id: str) -> bool:
    try:
        await client.beta.files.retrieve_metadata(file_id, betas=[FILES_BETA])
    except Exception as exc:
        return _missing_file(exc)
    return False


def image_options(params: dict[str, Any]) -> dict[str, Any]:
    """The image options (``download``, ``allow_private``) taken out of a call's keywords."""
    return {name: params.pop(name) for name in ("download", "allow_private") if name in params}


def countable(rendered: RenderedRequest) -> dict[str, Any]:
    """The ``count_tokens`` keywords, refusing URL and file images the endpoint refuses."""
    for image in rendered.images:
        if image.source_type != "base64":
            raise UnsupportedSourceError(
                f"count_tokens takes images only inline as base64, not as a "
                f"{image.source_type} source; pass the image's bytes or path",
                input=image.label,
            )
    for i, message in enumerate(rendered.kwargs["messages"]):
        for block in [*image_blocks(message), *document_blocks(message)]:
            kind = (block.get("source") or {}).get("type")
            if kind != "base64":
                raise UnsupportedSourceError(
                    f"count_tokens takes images only inline as base64, not as a {kind} "
                    "source; pass the image's bytes instead of its Files API id",
                    input=f"messages[{i}]",
                )
    return rendered.for_count_tokens()


class Vision(_BaseVision):
    """Ask Claude about images through a sync ``anthropic`` client.

    ``client`` defaults to ``anthropic.Anthropic()`` from the environment, made (and its
    credentials checked) when first needed. Its kind decides the platform's limits
    (``AnthropicBedrock``, ``AnthropicVertex``) unless ``platform`` is given.
    """

    def __init__(self, client: ClientLike | None = None, **defaults: Any) -> None:
        super().__init__(**defaults)
        self._client = client
        self._checked: ClientLike | None = None

    @property
    def client(self) -> ClientLike:
        """The ``anthropic`` client, checked for credentials (made from the env if needed)."""
        if self._checked is None:
            self._checked = sync_client(self._client)
            self._client = self._checked
        return self._checked

    def ask(
        self,
        prompt: str,
        *images: ImageInput | ReadImage | PreparedImage | PreparedDocument,
        model: str | None = None,
        system: str | Sequence[Any] | None = None,
        cache: Cache = False,
        max_tokens: int | None = None,
        **params: Any,
    ) -> Answer:
        """Ask about ``images``; extra keywords (``tools``, ``metadata``, ...) go to the API."""
        options = image_options(params)
        self._check("ask", prompt, model, max_tokens, system, params)
        message = self.message(prompt, *images, cache=cache, model=model, **options)
        return self.send(message, system=system, max_tokens=max_tokens, **params)

    def send(self, *turns: ImageMessage | MessageParam, **params: Any) -> Answer:
        """Send ``turns`` (``ImageMessage`` and ``MessageParam`` dicts) as one request."""
        self.client  # noqa: B018 (credentials checked before any image work)
        rendered = self.request(turns, **params).render()
        return Answer.of(self.create(rendered), rendered.images)

    def create(self, rendered: RenderedRequest) -> Any:
        """``messages.create`` for a rendered request; a Files API id the API no longer
        knows is uploaded again and the request retried once."""
        client = self.client
        kwargs = merged_betas(rendered.kwargs, getattr(client, "default_headers", None))
        try:
            return client.messages.create(**kwargs)
        except Exception as exc:
            if not _missing_file(exc):
                raise
            uploaded = self._uploaded_in(rendered.images, kwargs)
            gone = [i for i in uploaded if _gone(client, i.reference.file_id)]
            if not gone:
                raise
        fresh = {}
        for image in gone:
            self.files.forget(image.reference.file_id)
            fresh[image.reference.file_id] = _file_id(self.upload(image))
        return client.messages.create(**swap_file_ids(kwargs, fresh))

    def upload_or_keep(self, image: PreparedImage) -> PreparedImage:
        """``image`` uploaded when it can be (its bytes held, the platform taking file
        sources), else as it was: what ``Conversation(by_reference=True)`` keeps."""
        if image.data is None or image.reference is not None:
            return image
        try:
            return self.upload(image)
        except Exception as exc:
            return self._keep(image, exc)

    def upload(
        self, image: ImageInput | ReadImage | PreparedImage, **options: Any
    ) -> PreparedImage:
        """Upload ``image`` with the Files API once (prepared first, as for ``ask``); the
        result is sent by file id anywhere an image is taken. ``options`` go to
        :func:`~claudevision.prepare_image`."""
        self.client  # noqa: B018 (credentials checked, client made)
        prepared, key = self._to_upload(image, options)
        with self.files.lock(key):
            file_id = self.files.get(key)
            if file_id is None:
                uploads: Any = self.client.beta  # Bedrock and Vertex were refused above
                file_id = uploads.files.upload(**upload_args(prepared)).id
                self.files.put(key, file_id)
        return as_uploaded(prepared, file_id)

    def batch(
        self,
        inputs: Iterable[Any] | Mapping[str, Any],
        *,
        prompt: str | None = None,
        out: str | os.PathLike[str],
        state: str | os.PathLike[str] | None = None,
        model: str | None = None,
        max_tokens: int | None = None,
        system: str | Sequence[Any] | None = None,
        files: bool | None = None,
        workers: int | None = None,
        prepare: Preparer | None = None,
        wait: bool = True,
        poll_interval: float = 10.0,
        max_poll_interval: float = 60.0,
        progress: Callable[[BatchProgress], None] | None = None,
        max_requests: int = BATCH_MAX_REQUESTS,
        max_bytes: int = BATCH_MAX_BYTES,
        **params: Any,
    ) -> BatchSummary:
        """Ask about many inputs through Message Batches (half price, results within a day).

        ``inputs``: paths, folders, globs, URLs, CSV or JSON Lines manifests,
        :class:`~claudevision.ImageMessage` objects, or a mapping of ``custom_id`` to any
        of these. Each is prepared and checked like :meth:`ask` (on ``workers`` processes;
        ``prepare=`` another way, such as :func:`claudevision.ray.prepare_on_ray`), split
        into batches under ``max_requests`` and ``max_bytes``, submitted, polled every
        ``poll_interval`` seconds (growing to ``max_poll_interval``) and collected into
        ``out``, a JSON Lines file with one line per input. ``files``: send images through
        the Files API (None: when the set is too large for one batch). ``wait=False``:
        submit and return; a later call with the same arguments collects. Interrupted
        anywhere, the same call again resumes from the state folder (``state``, default
        ``<out>.state``) and submits nothing twice. Extra keywords go to every request.
        """
        job = self._batch_job(
            inputs, prompt=prompt, out=out, model=model, max_tokens=max_tokens,
            system=system, params=params, state=state, files=files, workers=workers,
            prepare=prepare, wait=wait, poll_interval=poll_interval,
            max_poll_interval=max_poll_interval, progress=progress,
            max_requests=max_requests, max_bytes=max_bytes,
        )  # fmt: skip
        with job.state.locked():
            return drive(plan(job), SyncCalls(self.client, self.files))

    def stream(
        self,
        prompt: str,
        *images: ImageInput | ReadImage | PreparedImage | PreparedDocument,
        model: str | None = None,
        system: str | Sequence[Any] | None = None,
        cache: Cache = False,
        max_tokens: int | None = None,
        **params: Any,
    ) -> TextStream:
        """Like :meth:`ask`, yielding the text as it arrives; images are prepared now."""
        options = image_options(params)
        self._check("stream", prompt, model, max_tokens, system, params)
        message = self.message(prompt, *images, cache=cache, model=model, **options)
        return self.stream_turns(message, system=system, max_tokens=max_tokens, **params)

    def stream_turns(self, *turns: ImageMessage | MessageParam, **params: Any) -> TextStream:
        """:meth:`send`, streamed."""
        client = self.client
        return TextStream(client, self.request(turns, **params).render())

    def count_tokens(
        self,
        prompt: str,
        *images: ImageInput | ReadImage | PreparedImage | PreparedDocument,
        model: str | None = None,
        system: str | Sequence[Any] | None = None,
        **params: Any,
    ) -> int:
        """Input tokens the API counts for this message (``messages.count_tokens``)."""
        client = self.client
        message = self.message(prompt, *images, model=model, **image_options(params))
        rendered = self.request([message], system=system, inline=True, **params).render()
        return client.messages.count_tokens(**countable(rendered)).input_tokens


class AsyncVision(_BaseVision):
    """:class:`Vision` over an async client: image work runs in worker threads."""

    def __init__(self, client: AsyncClientLike | None = None, **defaults: Any) -> None:
        super().__init__(**defaults)
        self._client = client
        self._checked: AsyncClientLike | None = None

    @property
    def client(self) -> AsyncClientLike:
        """The async ``anthropic`` client, checked for credentials."""
        if self._checked is None:
            self._checked = async_client(self._client)
            self._client = self._checked
        return self._checked

    async def render(self, request: Request) -> RenderedRequest:
        """Render ``request`` in a worker thread, so the event loop never waits on images
        (its thread pools leave the loop a core)."""
        return await anyio.to_thread.run_sync(beside_event_loop(request.render))

    async def ask(
        self,
        prompt: str,
        *images: ImageInput | ReadImage | PreparedImage | PreparedDocument,
        model: str | None = None,
        system: str | Sequence[Any] | None = None,
        cache: Cache = False,
        max_tokens: int | None = None,
        **params: Any,
    ) -> Answer:
        """:meth:`Vision.ask` for async code: never blocks the event loop."""
        options = image_options(params)
        self._check("ask", prompt, model, max_tokens, system, params)
        message = self.message(prompt, *images, cache=cache, model=model, **options)
        return await self.send(message, system=system, max_tokens=max_tokens, **params)

    async def send(self, *turns: ImageMessage | MessageParam, **params: Any) -> Answer:
        """:meth:`Vision.send` for async code."""
        self.client  # noqa: B018 (credentials checked before any image work)
        rendered = await self.render(self.request(turns, **params))
        return Answer.of(await self.create(rendered), rendered.images)

    async def create(self, rendered: RenderedRequest) -> Any:
        """:meth:`Vision.create` for async code."""
        client = self.client
        kwargs = merged_betas(rendered.kwargs, getattr(client, "default_headers", None))
        try:
            return await client.messages.create(**kwargs)
        except Exception as exc:
            if not _missing_file(exc):
                raise
            uploaded = self._uploaded_in(rendered.images, kwargs)
            gone = [i for i in uploaded if await _agone(client, i.reference.file_id)]
            if not gone:
                raise
        fresh = {}
        for image in gone:
            self.files.forget(image.reference.file_id)
            fresh[image.reference.file_id] = _file_id(await self.upload(image))
        return await client.messages.create(**swap_file_ids(kwargs, fresh))

    async def upload_or_keep(self, image: PreparedImage) -> PreparedImage:
        """:meth:`Vision.upload_or_keep` for async code."""
        if image.data is None or image.reference is not None:
            return image
        try:
            return await self.upload(image)
        except Exception as exc:
            return self._keep(image, exc)

    async def upload(
        self, image: ImageInput | ReadImage | PreparedImage, **options: Any
    ) -> PreparedImage:
        """:meth:`Vision.upload` for async code: preparing and waiting for the lock run in
        worker threads."""
        client = self.client
        prepared, key = await anyio.to_thread.run_sync(partial(self._to_upload, image, options))
        async with alocked(self.files, key):
            file_id = self.files.get(key)
            if file_id is None:
                uploads: Any = client.beta  # Bedrock and Vertex were refused above
                file_id = (await uploads.files.upload(**upload_args(prepared))).id
                self.files.put(key, file_id)
        return as_uploaded(prepared, file_id)

    async def batch(
        self,
        inputs: Iterable[Any] | Mapping[str, Any],
        *,
        prompt: str | None = None,
        out: str | os.PathLike[str],
        state: str | os.PathLike[str] | None = None,
        model: str | None = None,
        max_tokens: int | None = None,
        system: str | Sequence[Any] | None = None,
        files: bool | None = None,
        workers: int | None = None,
        prepare: Preparer | None = None,
        wait: bool = True,
        poll_interval: float = 10.0,
        max_poll_interval: float = 60.0,
        progress: Callable[[BatchProgress], None] | None = None,
        max_requests: int = BATCH_MAX_REQUESTS,
        max_bytes: int = BATCH_MAX_BYTES,
        **params: Any,
    ) -> BatchSummary:
        """:meth:`Vision.batch` for async code: preparing runs in worker processes and
        threads, the waits on the event loop."""
        job = await anyio.to_thread.run_sync(
            partial(
                self._batch_job,
                inputs, prompt=prompt, out=out, model=model, max_tokens=max_tokens,
                system=system, params=params, state=state, files=files, workers=workers,
                prepare=prepare, wait=wait, poll_interval=poll_interval,
                max_poll_interval=max_poll_interval, progress=progress,
                max_requests=max_requests, max_bytes=max_bytes,
            )
        )  # fmt: skip
        with job.state.locked():
            return await adrive(plan(job), AsyncCalls(self.client, self.files))

    async def stream(
        self,
        prompt: str,
        *images: ImageInput | ReadImage | PreparedImage | PreparedDocument,
        model: str | None = None,
        system: str | Sequence[Any] | None = None,
        cache: Cache = False,
        max_tokens: int | None = None,
        **params: Any,
    ) -> AsyncTextStream:
        """:meth:`Vision.stream` for async code: ``async for text in await ...``."""
        options = image_options(params)
        self._check("stream", prompt, model, max_tokens, system, params)
        message = self.message(prompt, *images, cache=cache, model=model, **options)
        return await self.stream_turns(message, system=system, max_tokens=max_tokens, **params)

    async def stream_turns(
        self, *turns: ImageMessage | MessageParam, **params: Any
    ) -> AsyncTextStream:
        """:meth:`send`, streamed."""
        client = self.client
        return AsyncTextStream(client, await self.render(self.request(turns, **params)))

    async def count_tokens(
        self,
        prompt: str,
        *images: ImageInput | ReadImage | PreparedImage | PreparedDocument,
        model: str | None = None,
        system: str | Sequence[Any] | None = None,
        **params: Any,
    ) -> int:
        """:meth:`Vision.count_tokens` for async code."""
        client = self.client
        message = self.message(prompt, *images, model=model, **image_options(params))
        rendered = await self.render(self.request([message], system=system, inline=True, **params))
        return (await client.messages.count_tokens(**countable(rendered))).input_tokens
