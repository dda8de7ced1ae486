"""Strict JSON for machine output: no ``NaN`` / ``Infinity`` tokens, ever.

Python's ``json`` writes ``NaN`` and ``Infinity`` by default, which no strict JSON parser
accepts. Every command that prints JSON goes through :func:`dump`: non-finite floats become
``null`` (callers that can say why add a ``reason``) and ``allow_nan=False`` turns any that
slipped through into an error here instead of invalid output downstream.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import sys

import pandas as pd

__all__ = ["finite_or_none", "strict", "dump"]

_NAT = pd.NaT


def finite_or_none(v):
    """A JSON-safe scalar: numpy scalars unwrapped, NaN, NaT and ±inf as None, dates and times
    (the interval dimension, date/time extra columns) as ISO text, decimals as floats."""
    if v is None or v is _NAT:
        return None
    if isinstance(v, (dt.datetime, dt.date)):  # pandas Timestamp included
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        v = float(v)
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):  # numpy scalars
        try:
            v = v.item()
        except (TypeError, ValueError):
            return v
        return finite_or_none(v)
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
    # Serialised whole before writing: a value JSON cannot hold never leaves half a file.
    text = json.dumps(strict(obj), indent=2, allow_nan=False)
    stream.write(text + "\n")
