"""What the install tests read from the checkout: the sources a wheel is built from, and the Dockerfile."""

from __future__ import annotations

import json
import re

from tests.utils import ROOT

# What a wheel is built from; the Dockerfile's build stage copies the same (tests/install/test_packaging.py).
SOURCES = ("pyproject.toml", "README.md", "livesupport", "templates", "static")


def dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def healthcheck() -> list[str]:
    """The command of the image's HEALTHCHECK (an exec form: a JSON list)."""
    [line] = [line for line in dockerfile() if line.startswith("HEALTHCHECK ")]
    return list(json.loads(line.split(" CMD ", 1)[1]))
