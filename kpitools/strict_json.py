"""Strict JSON for machine output: no ``NaN`` / ``Infinity`` tokens, ever.

Python's ``json`` writes ``NaN`` and ``Infinity`` by default, which no strict JSON parser
accepts. Every command that prints JSON goes through :func:`dump`: non-finite floats become
``null`` (callers that can say why add a ``reason``) and ``allow_nan=False`` turns any that
slipped through into an error here instead of invalid output downstream.
"""

from __future__ import annotations

import json
import math
import sys

__all__ = ["finite_or_none", "strict", "dump"]


def finite_or_none(v):
    """A JSON-safe scalar: numpy scalars unwrapped, NaN and ±inf as None."""
    if v is None:
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):  # numpy scalars
        try:
            v = v.item()
        except (TypeError, ValueError):
            return v
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def strict(obj):
    """``obj`` with every non-finite float (at any depth) replaced by None."""
    if isinstance(obj, dict):
        return {k: strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict(v) for v in obj]
    return finite_or_none(obj)


def dump(obj, stream=None) -> None:
    """Write ``obj`` as indented strict JSON and a newline to ``stream`` (default stdout)."""
    stream = stream or sys.stdout
    json.dump(strict(obj), stream, indent=2, allow_nan=False)
    stream.write("\n")
