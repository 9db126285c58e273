"""The package version, read from the one place it is written: ``pyproject.toml``.

An installed package (wheel or editable) answers from its metadata, which the build took from
``pyproject.toml``. A source checkout that is only on ``sys.path`` (``PYTHONPATH=...``) reads the
``pyproject.toml`` next to the package, so it never reports another installation's version.
"""

from __future__ import annotations

import os
import re

DISTRIBUTION = "tfq-layers"


def _from_source_tree() -> str | None:
    path = os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pyproject.toml"
    )
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, flags=re.M | re.S)
    if project is None or not re.search(r'^name\s*=\s*"tfq[-_]layers"', project.group(1), re.M):
        return None
    match = re.search(r'^version\s*=\s*"([^"]+)"', project.group(1), flags=re.M)
    return match.group(1) if match else None


def _from_metadata() -> str | None:
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def version() -> str:
    """The version of this copy of ``tfq_layers``; ``"0+unknown"`` when nothing says."""
    return _from_source_tree() or _from_metadata() or "0+unknown"
