"""Where the YAML method configs (``methods/``) and dataset cards (``datasets/``) are found.

In a source checkout (editable install) they are the top-level folders of the repository; a built wheel
carries copies at ``gcbench/_resources/``. ``GCBENCH_DATASETS_DIR`` replaces the datasets folder; method
YAML is searched in layers (the shipped folder, plugins' folders, then ``GCBENCH_METHODS_DIR``, each adding to
the one before: :mod:`gcbench.condensers.base`), so the methods folder is never replaced.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from gcbench.errors import GCBenchError

_PKG = Path(__file__).resolve().parent


def resource_dir(kind: str) -> Path:
    """The folder of ``kind`` (``datasets``): ``$GCBENCH_DATASETS_DIR`` if set, else the shipped one."""
    env = os.environ.get(f"GCBENCH_{kind.upper()}_DIR") if kind != "methods" else None
    if env:
        return Path(env)
    return shipped_dir(kind)


def shipped_dir(kind: str) -> Path:
    """The folder of ``kind`` that ships with gcbench (``methods``, ``datasets``)."""
    for cand in (_PKG / "_resources" / kind, _PKG.parent / kind):
        if cand.is_dir():
            return cand
    raise GCBenchError(f"cannot find the {kind}/ folder (looked in {_PKG / '_resources'} and {_PKG.parent})")


def load_yaml(path: Path, what: str) -> Any:
    """The parsed YAML of ``path`` (any type: the caller checks the structure); an unreadable file or invalid
    YAML is one :class:`GCBenchError` line naming ``what`` (``suite``, ``study file``) and the path."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise GCBenchError(f"cannot read {what} {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise GCBenchError(f"{what} {path}: not valid YAML ({str(exc).splitlines()[0]})") from None


def read_yaml(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        raise GCBenchError(f"file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise GCBenchError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise GCBenchError(f"{path}: expected a mapping at the top level")
    return data


def dataset_card(name: str) -> dict:
    path = resource_dir("datasets") / f"{name}.yaml"
    return read_yaml(path) if path.exists() else {}
