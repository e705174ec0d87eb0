"""``import claudevision`` loads nothing it does not need; every public name still resolves."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import claudevision


def loaded_after(code: str) -> set[str]:
    """Top-level packages in ``sys.modules`` after ``code`` runs in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}; import sys; print(sorted(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {name.split(".")[0] for name in eval(out)}


def test_every_public_name_resolves_to_its_defining_module() -> None:
    assert sorted(claudevision._WHERE) == sorted(n for n in claudevision.__all__ if n[0] != "_")
    for name, module in claudevision._WHERE.items():
        value = getattr(claudevision, name)
        if module == ".":
            assert value is importlib.import_module(f"claudevision.{name}")
        else:
            assert value is getattr(importlib.import_module(module, "claudevision"), name)
    assert set(claudevision.__all__) <= set(dir(claudevision))


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'prepare_images'"):
        _ = claudevision.prepare_images  # type: ignore[attr-defined]


def test_plain_import_loads_no_dependency() -> None:
    loaded = loaded_after("import claudevision")
    assert not loaded & {"PIL", "pydantic", "numpy", "anthropic", "simplejpeg", "anyio"}


def test_preparing_loads_neither_numpy_nor_the_sdk() -> None:
    loaded = loaded_after(
        "from claudevision import prepare_image, read_image, Vision; "
        "from PIL import Image; "
        "prepare_image(Image.new('RGB', (64, 48)), model='claude-opus-4-8').block"
    )
    assert "PIL" in loaded
    assert not loaded & {"numpy", "anthropic", "simplejpeg"}
