"""Parsing of method and dataset specs typed on the command line or in suite files.

A spec is a name optionally followed by ``:key=value`` options, e.g. ``srgm:lambda=0:decouple=false`` or
``synthetic-ecommerce:n_nodes=20000``. Values are parsed as YAML scalars (``false`` -> bool, ``0.5`` ->
float). Lists of specs on the command line are separated by commas. The canonical form (options sorted by
key) names the variant in result rows and leaderboards.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from gcbench.errors import GCBenchError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


def parse_value(text: str) -> Any:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return text if isinstance(value, (dict, list)) or value is None else value


def parse_spec(spec: str, what: str = "method") -> tuple[str, dict[str, Any]]:
    """``"name:k=v:k2=v2"`` -> ``("name", {"k": v, "k2": v2})``."""
    parts = [p.strip() for p in str(spec).strip().split(":")]
    name, opts = parts[0], {}
    if not _NAME.match(name):
        raise GCBenchError(f"bad {what} spec {spec!r}: {name!r} is not a valid name")
    for part in parts[1:]:
        key, eq, val = part.partition("=")
        key = key.strip()
        if not eq or not key:
            raise GCBenchError(f"bad {what} spec {spec!r}: option {part!r} is not key=value")
        if key in opts:
            raise GCBenchError(f"bad {what} spec {spec!r}: option {key!r} given twice")
        opts[key] = parse_value(val.strip())
    return name, opts


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def canonical(name: str, opts: dict[str, Any]) -> str:
    """The variant name: ``name`` plus options sorted by key."""
    return ":".join([name] + [f"{k}={format_value(v)}" for k, v in sorted(opts.items())])


def split_list(text: str | None) -> list[str]:
    """Comma-separated list -> stripped non-empty items."""
    if text is None:
        return []
    return [t.strip() for t in str(text).split(",") if t.strip()]


def parse_seeds(text: str) -> list[int]:
    """``"0,1,2"`` or ``"0-9"`` (ranges inclusive, mixable: ``"0-2,7"``) -> the seeds in the order given."""
    out: list[int] = []
    for item in split_list(text):
        lo, dash, hi = item.partition("-")
        try:
            if dash:
                first, last = int(lo), int(hi)
                if first > last:
                    raise GCBenchError(f"bad seed range {item!r}: it runs backwards (write {last}-{first})")
                out.extend(range(first, last + 1))
            else:
                out.append(int(item))
        except ValueError:
            raise GCBenchError(f"bad seed {item!r}: expected an integer or a range like 0-9") from None
    return out
