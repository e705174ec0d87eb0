"""Which client: the ``anthropic`` SDK loaded on first need, its clients told apart.

``import claudevision`` never imports the SDK (about 3 s): it is imported here, when a
client is first needed. This module knows the client classes, which platform each one
sends to, whether it has credentials, and how to make one from the environment.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, TypeAlias

from .._core.exceptions import ConfigurationError, MissingAPIKeyError

if TYPE_CHECKING:
    import anthropic

    ClientLike: TypeAlias = (
        anthropic.Anthropic | anthropic.AnthropicBedrock | anthropic.AnthropicVertex
    )
    AsyncClientLike: TypeAlias = (
        anthropic.AsyncAnthropic | anthropic.AsyncAnthropicBedrock | anthropic.AsyncAnthropicVertex
    )
else:
    ClientLike = Any
    AsyncClientLike = Any

AnyClient: TypeAlias = "ClientLike | AsyncClientLike"

__all__ = [
    "AnyClient",
    "AsyncClientLike",
    "ClientLike",
    "async_client",
    "platform_of",
    "sync_client",
]

_KEY_HINT = (
    "set the ANTHROPIC_API_KEY environment variable, or pass "
    "client=anthropic.Anthropic(api_key=...)"
)


@cache
def _kinds() -> dict[str, tuple[type, ...]]:
    """The SDK's client classes by kind (older SDKs lack some)."""
    import anthropic

    def classes(*names: str) -> tuple[type, ...]:
        return tuple(getattr(anthropic, name) for name in names if hasattr(anthropic, name))

    return {
        "bedrock": classes(
            "AnthropicBedrock",
            "AnthropicBedrockMantle",
            "AsyncAnthropicBedrock",
            "AsyncAnthropicBedrockMantle",
        ),
        "vertex": classes("AnthropicVertex", "AsyncAnthropicVertex"),
        "async": classes(
            "AsyncAnthropic",
            "AsyncAnthropicBedrock",
            "AsyncAnthropicBedrockMantle",
            "AsyncAnthropicVertex",
        ),
        "direct": classes("Anthropic", "AsyncAnthropic"),
    }


def platform_of(client: object) -> str:
    """The platform whose limits apply to requests sent through ``client``."""
    kinds = _kinds()
    if isinstance(client, kinds["bedrock"]):
        return "bedrock"
    if isinstance(client, kinds["vertex"]):
        return "vertex"
    return "anthropic"


def is_async(client: object) -> bool:
    """True for the SDK's async clients."""
    return isinstance(client, _kinds()["async"])


def _check_credentials(client: object) -> None:
    """Raise :class:`MissingAPIKeyError` when a Claude API client has nothing to sign with."""
    if not isinstance(client, _kinds()["direct"]):
        return  # Bedrock and Vertex resolve cloud credentials at request time
    if all(
        getattr(client, name, None) is None for name in ("api_key", "auth_token", "credentials")
    ):
        raise MissingAPIKeyError(f"no Anthropic API key: {_KEY_HINT}")


def _from_environment(kind: str) -> Any:
    import anthropic

    factory = anthropic.AsyncAnthropic if kind == "async" else anthropic.Anthropic
    try:
        return factory()
    except anthropic.AnthropicError as exc:  # e.g. a profile named but not found
        raise MissingAPIKeyError(
            f"could not make an {factory.__name__} client from the environment ({exc}); {_KEY_HINT}"
        ) from exc


def sync_client(client: ClientLike | None) -> ClientLike:
    """``client`` checked (a sync client with credentials), or one from the environment."""
    if client is None:
        client = _from_environment("sync")
    elif is_async(client):
        raise ConfigurationError(
            f"{type(client).__name__} is an async client; use AsyncVision (or aask, astream, "
            "acount_tokens) or pass a sync client"
        )
    _check_credentials(client)
    return client


def async_client(client: AsyncClientLike | None) -> AsyncClientLike:
    """``client`` checked (an async client with credentials), or one from the environment."""
    if client is None:
        client = _from_environment("async")
    elif not is_async(client):
        raise ConfigurationError(
            f"{type(client).__name__} is a sync client; use Vision (or ask, stream, "
            "count_tokens) or pass an async client"
        )
    _check_credentials(client)
    return client
