"""Where the YAML method configs (``methods/``) and dataset cards (``datasets/``) are found.

In a source checkout (editable install) they are the top-level folders of the repository; a built wheel
carries copies at ``gcbench/_resources/``. ``GCBENCH_METHODS_DIR`` overrides the methods folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from gcbench.errors import GCBenchError

_PKG = Path(__file__).resolve().parent


def resource_dir(kind: str) -> Path:
    env = os.environ.get(f"GCBENCH_{kind.upper()}_DIR")
    if env:
        return Path(env)
    for cand in (_PKG / "_resources" / kind, _PKG.parent / kind):
        if cand.is_dir():
            return cand
    raise GCBenchError(f"cannot find the {kind}/ folder (looked in {_PKG / '_resources'} and {_PKG.parent})")


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
