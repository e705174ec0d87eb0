"""The whole Messages request checked field by field, from the API's documentation.

Images are judged by :mod:`._rules`; this module checks everything else a request holds:
each field's type and range, roles, content blocks, ``tool_use`` / ``tool_result``
pairing, tools and ``tool_choice``, ``system``, ``metadata``, ``stop_sequences``,
``thinking``, documents, ``output_config`` and the headers. Every refusal is a
:class:`~._rules.Rejected` whose message starts with the field's path, as the API's do
(``messages.1.content.0.tool_use_id: Field required``).

>>> check_body({"model": "claude-haiku-4-5", "max_tokens": 5,
...             "messages": [{"role": "user", "content": "hi"}], "temprature": 1})
Traceback (most recent call last):
...
claudevision.testing._rules.Rejected: temprature: Extra inputs are not permitted
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._rules import Rejected

__all__ = ["API_VERSIONS", "check_body", "check_headers"]

API_VERSIONS = ("2023-01-01", "2023-06-01", "2026-10-21")
"""Versions the API documents; a later date-shaped version (a newer SDK's) is taken too."""
_VERSION = re.compile(r"^20\d\d-[01]\d-[0-3]\d$")
_BETA = re.compile(r"^[a-z0-9][a-z0-9-]*-\d{4}-\d{2}-\d{2}$")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
_TOOL_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
_SERVER_TOOL = re.compile(r"^[a-z_]+_\d{8}$")
_MAX_CACHE_BREAKPOINTS = 4
_MAX_USER_ID = 256

_MESSAGE_FIELDS = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "metadata",
        "stop_sequences",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "tools",
        "tool_choice",
        "thinking",
        "service_tier",
        "output_config",
        "output_format",
        "container",
        "context_management",
        "mcp_servers",
        "inference_geo",
        "cache_control",
        "diagnostics",
        "speed",
        "user_profile_id",
        "workspace_id",
        "anthropic_version",
        "anthropic_beta",
    }
)
_COUNT_FIELDS = frozenset(
    {
        "model",
        "messages",
        "system",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "output_format",
        "context_management",
        "mcp_servers",
        "cache_control",
        "speed",
        "user_profile_id",
        "workspace_id",
        "anthropic_version",
        "anthropic_beta",
    }
)

_USER_BLOCKS = frozenset(
    {"text", "image", "document", "tool_result", "search_result", "container_upload"}
)
_ASSISTANT_BLOCKS = frozenset(
    {
        "text",
        "tool_use",
        "thinking",
        "redacted_thinking",
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
        "mcp_tool_use",
        "mcp_tool_result",
        "container_upload",
        "compaction",
    }
)
_TOOL_RESULT_BLOCKS = frozenset({"text", "image", "document", "search_result", "tool_reference"})


def _fail(where: str, message: str) -> Rejected:
    return Rejected(400, f"{where}: {message}" if where else message)


# -- small typed readers --------------------------------------------------------------


def _dict(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "Input should be a valid dictionary")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(where, "Input should be a valid list")
    return value


def _str(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise _fail(where, "Input should be a valid string")
    return value


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, "Input should be a valid boolean")
    return value


def _int(value: object, where: str, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise _fail(where, "Input should be a valid integer")
    if low is not None and value < low:
        raise _fail(where, f"Input should be greater than or equal to {low}")
    if high is not None and value > high:
        raise _fail(where, f"Input should be less than or equal to {high}")
    return value


def _number(value: object, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(where, "Input should be a valid number")
    if not low <= value <= high:
        raise _fail(where, f"Input should be between {low:g} and {high:g}")
    return float(value)


def _required(block: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in block:
        raise _fail(f"{where}.{key}" if where else key, "Field required")
    return block[key]


def _only(block: Mapping[str, Any], allowed: frozenset[str] | set[str], where: str) -> None:
    extra = sorted(set(block) - allowed)
    if extra:
        raise _fail(f"{where}.{extra[0]}" if where else extra[0], "Extra inputs are not permitted")


def _literal(value: object, where: str, *allowed: str) -> str:
    if value not in allowed:
        quoted = ", ".join(f"'{a}'" for a in allowed[:-1])
        text = f"{quoted} or '{allowed[-1]}'" if quoted else f"'{allowed[-1]}'"
        raise _fail(where, f"Input should be {text}")
    return str(value)


def _known_version(version: object) -> bool:
    if version in API_VERSIONS:
        return True
    return isinstance(version, str) and bool(_VERSION.match(version)) and version > "2023"


# -- headers --------------------------------------------------------------------------


def check_headers(headers: Mapping[str, str], *, direct: bool) -> None:
    """The headers of a request to the API (``direct``) or to a cloud platform's path."""
    if direct:
        version = headers.get("anthropic-version")
        if version is None:
            raise Rejected(400, "anthropic-version: header is required")
        if not _known_version(version):
            raise Rejected(400, f"anthropic-version: {version!r} is not a valid version")
    for beta in (headers.get("anthropic-beta") or "").split(","):
        beta = beta.strip()
        if beta and not _BETA.match(beta):
            raise Rejected(400, f"Unexpected value(s) `{beta}` for the `anthropic-beta` header")


# -- the body -------------------------------------------------------------------------


def check_body(body: dict[str, Any], *, counting: bool = False, platform: str = "") -> None:
    """Check every field of a Messages (or ``count_tokens``) body but the images."""
    allowed = _COUNT_FIELDS if counting else _MESSAGE_FIELDS
    _only(body, set(allowed), "")
    _str(_required(body, "model", ""), "model")
    if not counting:
        _int(_required(body, "max_tokens", ""), "max_tokens", 0)
    messages = _list(_required(body, "messages", ""), "messages")
    if not messages:
        raise _fail("messages", "List should have at least 1 item after validation, not 0")
    if platform in ("bedrock", "vertex"):
        named = {"bedrock": "bedrock-2023-05-31", "vertex": "vertex-2023-10-16"}[platform]
        version = _required(body, "anthropic_version", "")
        if version != named and not _known_version(version):
            raise _fail("anthropic_version", f"Input should be '{named}' or an API version")
    _check_sampling(body)
    if "system" in body:
        _check_system(body["system"])
    if "metadata" in body:
        _check_metadata(body["metadata"])
    if "stop_sequences" in body:
        for index, item in enumerate(_list(body["stop_sequences"], "stop_sequences")):
            if not _str(item, f"stop_sequences.{index}").strip():
                raise _fail(f"stop_sequences.{index}", "stop sequences must contain non-whitespace")
    if "stream" in body:
        _bool(body["stream"], "stream")
    if "service_tier" in body:
        _literal(body["service_tier"], "service_tier", "auto", "standard_only")
    if body.get("speed") is not None:
        _literal(body["speed"], "speed", "standard", "fast")
    if body.get("cache_control") is not None:
        _check_cache_control(body["cache_control"], "cache_control")
    names = _check_tools(body.get("tools"))
    _check_tool_choice(body.get("tool_choice"), names)
    _check_thinking(body)
    if "output_config" in body:
        _check_output_config(body["output_config"])
    _check_messages(messages)
    _check_cache_breakpoints(body)


def _check_sampling(body: dict[str, Any]) -> None:
    if "temperature" in body:
        _number(body["temperature"], "temperature", 0.0, 1.0)
    if "top_p" in body:
        _number(body["top_p"], "top_p", 0.0, 1.0)
    if "top_k" in body:
        _int(body["top_k"], "top_k", 0)


def _check_system(system: object) -> None:
    if isinstance(system, str):
        return
    for index, block in enumerate(_list(system, "system")):
        where = f"system.{index}"
        _literal(_required(_dict(block, where), "type", where), f"{where}.type", "text")
        _check_text(block, where)


def _check_metadata(metadata: object) -> None:
    fields = _dict(metadata, "metadata")
    _only(fields, {"user_id"}, "metadata")
    user_id = fields.get("user_id")
    if user_id is not None and len(_str(user_id, "metadata.user_id")) > _MAX_USER_ID:
        raise _fail("metadata.user_id", f"String should have at most {_MAX_USER_ID} characters")


# -- tools ----------------------------------------------------------------------------


def _check_tools(tools: object) -> list[str]:
    if tools is None:
        return []
    names: list[str] = []
    for index, tool in enumerate(_list(tools, "tools")):
        where = f"tools.{index}"
        tool = _dict(tool, where)
        kind = tool.get("type", "custom")
        name = _str(_required(tool, "name", where), f"{where}.name")
        if kind == "custom":
            if not _TOOL_NAME.match(name):
                raise _fail(f"{where}.name", "String should match pattern '^[a-zA-Z0-9_-]{1,128}$'")
            schema = _dict(_required(tool, "input_schema", where), f"{where}.input_schema")
            _literal(schema.get("type"), f"{where}.input_schema.type", "object")
            if "description" in tool:
                _str(tool["description"], f"{where}.description")
            _only(
                tool,
                {
                    "type",
                    "name",
                    "description",
                    "input_schema",
                    "cache_control",
                    "strict",
                    "input_examples",
                    "defer_loading",
                    "allowed_callers",
                    "eager_input_streaming",
                },
                where,
            )
        elif not isinstance(kind, str) or not _SERVER_TOOL.match(kind):
            raise _fail(f"{where}.type", f"Unknown tool type: {kind!r}")
        if "cache_control" in tool:
            _check_cache_control(tool["cache_control"], f"{where}.cache_control")
        if name in names:
            raise _fail("tools", f"Tool names must be unique; {name!r} appears twice")
        names.append(name)
    return names


def _check_tool_choice(choice: object, names: list[str]) -> None:
    if choice is None:
        return
    choice = _dict(choice, "tool_choice")
    kind = _literal(
        _required(choice, "type", "tool_choice"), "tool_choice.type", "auto", "any", "tool", "none"
    )
    allowed = {"type"} | ({"disable_parallel_tool_use"} if kind != "none" else set())
    if kind == "tool":
        allowed.add("name")
        name = _str(_required(choice, "name", "tool_choice"), "tool_choice.name")
        if name not in names:
            raise _fail("tool_choice.name", f"Tool '{name}' not found in the provided tools")
    _only(choice, allowed, "tool_choice")
    if "disable_parallel_tool_use" in choice:
        _bool(choice["disable_parallel_tool_use"], "tool_choice.disable_parallel_tool_use")
    if kind in ("any", "tool") and not names:
        raise _fail("tool_choice", "tool_choice may only be specified while providing tools")


def _check_thinking(body: dict[str, Any]) -> None:
    thinking = body.get("thinking")
    if thinking is None:
        return
    thinking = _dict(thinking, "thinking")
    kind = _literal(
        _required(thinking, "type", "thinking"), "thinking.type", "enabled", "disabled", "adaptive"
    )
    if kind != "enabled":
        _only(thinking, {"type", "display"} if kind == "adaptive" else {"type"}, "thinking")
        return
    _only(thinking, {"type", "budget_tokens", "display"}, "thinking")
    budget = _int(
        _required(thinking, "budget_tokens", "thinking"), "thinking.enabled.budget_tokens", 1024
    )
    if "max_tokens" in body and budget >= body["max_tokens"]:
        raise _fail("max_tokens", "`max_tokens` must be greater than `thinking.budget_tokens`")
    if body.get("temperature", 1) != 1:
        raise _fail("temperature", "temperature may only be set to 1 when thinking is enabled")
    if "top_k" in body:
        raise _fail("top_k", "top_k is not supported when thinking is enabled")
    choice = body.get("tool_choice") or {}
    if choice.get("type") in ("any", "tool"):
        raise _fail("tool_choice", "Thinking may not be enabled when tool_choice forces tool use.")


def _check_output_config(config: object) -> None:
    config = _dict(config, "output_config")
    _only(config, {"effort", "format", "task_budget"}, "output_config")
    if "effort" in config:
        _literal(config["effort"], "output_config.effort", "low", "medium", "high", "max")
    if config.get("format") is not None:
        fmt = _dict(config["format"], "output_config.format")
        _literal(fmt.get("type"), "output_config.format.type", "json_schema")
        where = "output_config.format"
        schema = _dict(_required(fmt, "schema", where), f"{where}.schema")
        _only(fmt, {"type", "schema"}, "output_config.format")
        if not schema:
            raise _fail("output_config.format.schema", "the schema may not be empty")


def _check_cache_control(value: object, where: str) -> None:
    control = _dict(value, where)
    _literal(_required(control, "type", where), f"{where}.type", "ephemeral")
    _only(control, {"type", "ttl"}, where)
    if "ttl" in control:
        _literal(control["ttl"], f"{where}.ttl", "5m", "1h")


def _check_cache_breakpoints(body: dict[str, Any]) -> None:
    found = _count_cache_control(body.get("system")) + _count_cache_control(body.get("tools"))
    found += _count_cache_control(body.get("messages"))
    if found > _MAX_CACHE_BREAKPOINTS:
        raise Rejected(
            400,
            f"A maximum of {_MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {found}.",
        )


def _count_cache_control(value: object) -> int:
    if isinstance(value, list):
        return sum(_count_cache_control(item) for item in value)
    if not isinstance(value, dict):
        return 0
    own = 1 if value.get("cache_control") is not None else 0
    return own + _count_cache_control(value.get("content"))


# -- messages -------------------------------------------------------------------------


def _check_messages(messages: list[Any]) -> None:
    pending: dict[str, int] = {}  # tool_use ids of the previous assistant turn
    seen_ids: set[str] = set()
    last = len(messages) - 1
    for index, message in enumerate(messages):
        where = f"messages.{index}"
        message = _dict(message, where)
        role = _literal(
            _required(message, "role", where), f"{where}.role", "user", "assistant", "system"
        )
        content = _required(message, "content", where)
        _only(message, {"role", "content"}, where)
        if isinstance(content, str):
            if not content and not (role == "assistant" and index == last):
                raise _fail(
                    where,
                    "all messages must have non-empty content except for the optional final "
                    "assistant message",
                )
            blocks: list[Any] = []
        else:
            blocks = _list(content, f"{where}.content")
            if not blocks and not (role == "assistant" and index == last):
                raise _fail(
                    where,
                    "all messages must have non-empty content except for the optional final "
                    "assistant message",
                )
        if role == "assistant" and index == last:
            text = content if isinstance(content, str) else ""
            if blocks and isinstance(blocks[-1], dict) and blocks[-1].get("type") == "text":
                last_text = blocks[-1].get("text")
                text = last_text if isinstance(last_text, str) else ""
            if text and text != text.rstrip():
                raise _fail("", "final assistant content cannot end with trailing whitespace")
        results = _check_blocks(blocks, role, where)
        if role == "user":
            _pair(pending, results, where)
            pending = {}
        elif role == "assistant":
            if pending:
                _pair(pending, [], where)
            uses = [b.get("id") for b in blocks if b.get("type") == "tool_use"]
            for number, block in enumerate(blocks):
                if block.get("type") == "tool_use":
                    if block["id"] in seen_ids:
                        raise _fail(f"{where}.content.{number}", "`tool_use` ids must be unique")
                    seen_ids.add(block["id"])
            pending = dict.fromkeys(uses, index)


def _pair(pending: dict[str, int], results: list[tuple[str, str]], where: str) -> None:
    """The ``tool_result`` ids of a user turn against the previous turn's ``tool_use`` ids."""
    for use_id, block_where in results:
        if use_id not in pending:
            raise _fail(
                block_where,
                f"unexpected `tool_use_id` found in `tool_result` blocks: {use_id}. Each "
                "`tool_result` block must have a corresponding `tool_use` block in the "
                "previous message.",
            )
    missing = [use_id for use_id in pending if use_id not in {r[0] for r in results}]
    if missing:
        previous = where.rsplit(".", 1)[0] + f".{min(pending.values())}"
        raise _fail(
            previous,
            f"`tool_use` ids were found without `tool_result` blocks immediately after: "
            f"{', '.join(missing)}. Each `tool_use` block must have a corresponding "
            "`tool_result` block in the next message.",
        )


def _check_blocks(blocks: list[Any], role: str, where: str) -> list[tuple[str, str]]:
    """Check each block of a turn; the ``tool_result`` ids it holds, with their paths."""
    allowed = {"user": _USER_BLOCKS, "assistant": _ASSISTANT_BLOCKS, "system": {"text"}}[role]
    results: list[tuple[str, str]] = []
    for index, block in enumerate(blocks):
        here = f"{where}.content.{index}"
        block = _dict(block, here)
        kind = _str(_required(block, "type", here), f"{here}.type")
        if kind == "image" and role == "assistant":
            raise Rejected(400, "'image' blocks are not permitted within assistant turns")
        if kind not in allowed:
            raise _fail(
                f"{here}.type",
                f"'{kind}' blocks are not permitted within {role} turns"
                if kind in _USER_BLOCKS | _ASSISTANT_BLOCKS
                else f"Input tag '{kind}' found using 'type' does not match any of the expected "
                "tags",
            )
        _check_block(block, kind, here)
        if kind == "tool_result":
            results.append((block["tool_use_id"], here))
    return results


def _check_block(block: dict[str, Any], kind: str, where: str) -> None:
    if "cache_control" in block and block["cache_control"] is not None:
        _check_cache_control(block["cache_control"], f"{where}.cache_control")
    if kind == "text":
        _check_text(block, where)
    elif kind == "image":
        _dict(_required(block, "source", where), f"{where}.source")
        _only(block, {"type", "source", "cache_control", "transformations"}, where)
    elif kind == "document":
        _check_document(block, where)
    elif kind == "tool_use":
        if not _TOOL_ID.match(_str(_required(block, "id", where), f"{where}.id")):
            raise _fail(f"{where}.tool_use.id", "String should match pattern '^[a-zA-Z0-9_-]+$'")
        _str(_required(block, "name", where), f"{where}.name")
        _dict(_required(block, "input", where), f"{where}.input")
        _only(block, {"type", "id", "name", "input", "cache_control", "caller"}, where)
    elif kind == "tool_result":
        _check_tool_result(block, where)
    elif kind == "thinking":
        _str(_required(block, "thinking", where), f"{where}.thinking")
        _str(_required(block, "signature", where), f"{where}.signature")
    elif kind == "redacted_thinking":
        _str(_required(block, "data", where), f"{where}.data")


def _check_text(block: dict[str, Any], where: str) -> None:
    text = _str(_required(block, "text", where), f"{where}.text")
    if not text:
        raise _fail(where.split(".content")[0], "text content blocks must be non-empty")
    _only(block, {"type", "text", "cache_control", "citations"}, where)


def _check_tool_result(block: dict[str, Any], where: str) -> None:
    _str(_required(block, "tool_use_id", where), f"{where}.tool_use_id")
    _only(block, {"type", "tool_use_id", "content", "is_error", "cache_control"}, where)
    if "is_error" in block:
        _bool(block["is_error"], f"{where}.is_error")
    content = block.get("content")
    if content is None or isinstance(content, str):
        return
    for index, inner in enumerate(_list(content, f"{where}.content")):
        here = f"{where}.content.{index}"
        kind = _str(_required(_dict(inner, here), "type", here), f"{here}.type")
        if kind not in _TOOL_RESULT_BLOCKS:
            raise _fail(
                f"{here}.type",
                f"Input tag '{kind}' found using 'type' does not match any of the expected tags",
            )
        _check_block(inner, kind, here)


_DOCUMENT_SOURCES = {
    "base64": ("media_type", "data"),
    "text": ("media_type", "data"),
    "url": ("url",),
    "file": ("file_id",),
    "content": ("content",),
}


def _check_document(block: dict[str, Any], where: str) -> None:
    _only(block, {"type", "source", "cache_control", "citations", "title", "context"}, where)
    source = _dict(_required(block, "source", where), f"{where}.source")
    here = f"{where}.source"
    kind = _literal(
        _required(source, "type", here), f"{here}.type", "base64", "text", "url", "file", "content"
    )
    for key in _DOCUMENT_SOURCES[kind]:
        _required(source, key, here)
    _only(source, {"type", *_DOCUMENT_SOURCES[kind]}, here)
    if kind == "base64":
        _literal(source["media_type"], f"{here}.media_type", "application/pdf")
        data = _str(source["data"], f"{here}.data")
        if not data:
            raise _fail(f"{here}.data", "the document cannot be empty")
    elif kind == "text":
        _literal(source["media_type"], f"{here}.media_type", "text/plain")
        _str(source["data"], f"{here}.data")
    elif kind == "url":
        _str(source["url"], f"{here}.url")
    elif kind == "file":
        _str(source["file_id"], f"{here}.file_id")
    elif not isinstance(source["content"], str):
        for index, inner in enumerate(_list(source["content"], f"{here}.content")):
            inner_where = f"{here}.content.{index}"
            inner = _dict(inner, inner_where)
            inner_kind = _literal(
                _required(inner, "type", inner_where), f"{inner_where}.type", "text", "image"
            )
            _check_block(inner, inner_kind, inner_where)
    for key in ("title", "context"):
        if block.get(key) is not None:
            _str(block[key], f"{where}.{key}")
    if block.get("citations") is not None:
        citations = _dict(block["citations"], f"{where}.citations")
        _only(citations, {"enabled"}, f"{where}.citations")
        if "enabled" in citations:
            _bool(citations["enabled"], f"{where}.citations.enabled")
