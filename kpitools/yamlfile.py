"""Reading the YAML files a user writes: the center configuration, targets and mappings.

One reader for all of them, built to survive hostile input (issue 14):

* aliases and anchors are refused before anything is expanded, so a "billion laughs" file
  of a few hundred bytes fails in microseconds instead of eating memory;
* the file size is capped and checked before the file is read;
* the top level must be a mapping (``key: value``), never a list or a bare value;
* YAML syntax errors, duplicate keys and tags a safe loader does not know become one
  :class:`~kpitools.errors.ConfigError` naming the file and line;
* quoted values in messages are capped (:func:`quote`).

>>> read_yaml("data/kpitools.yaml", "center configuration")   # doctest: +SKIP
{'timezone': 'America/New_York', ...}
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import ConfigError, shorten

MAX_BYTES = 1_000_000  # a configuration or targets file is a few kB; 1 MB is generous
MAX_QUOTE = 60


def quote(value, limit: int = MAX_QUOTE) -> str:
    """``repr`` of a value (a number stays unquoted: ``80``), cut to ``limit`` characters."""
    return shorten(repr(value), limit)


class _RefusingLoader(yaml.SafeLoader):
    """A safe loader that refuses anchors and aliases and repeated keys."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            mark = event.start_mark
            raise ConfigError(
                f"line {mark.line + 1}: YAML anchors and aliases (& and *) are not allowed; "
                "write each value out in full")
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise ConfigError(f"line {key_node.start_mark.line + 1}: a key must be a plain "
                                  "value, not a list or mapping") from None
            if key in seen:
                raise ConfigError(f"line {key_node.start_mark.line + 1}: key {quote(key)} is "
                                  f"repeated (first on line {seen[key]}); give each key once")
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def read_yaml(path, what: str, max_bytes: int = MAX_BYTES) -> dict:
    """Parse a user's YAML file into a dict (an empty file is an empty dict).

    Parameters
    ----------
    path : the file
    what : what the file is, for messages ("center configuration", "targets file" …)
    max_bytes : refuse larger files

    Raises
    ------
    ConfigError naming the file (and line) when the file is missing, unreadable, too large,
    not UTF-8, not valid YAML, uses anchors or aliases, repeats a key, or is not a mapping.
    """
    p = Path(path)
    try:
        if not p.exists():
            raise ConfigError(f"{what} {p} does not exist")
        if not p.is_file():
            raise ConfigError(f"{what} {p} is not a file")
        size = p.stat().st_size
        if size > max_bytes:
            raise ConfigError(f"{what} {p} is {size:,} bytes; the limit is {max_bytes:,} bytes")
        with p.open("rb") as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigError(f"{what} {p} cannot be read ({exc.strerror or exc})") from None
    if len(raw) > max_bytes:  # grew since stat, or a special file
        raise ConfigError(f"{what} {p} is larger than the limit of {max_bytes:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text (byte {exc.start}); save the {what} as UTF-8") from None
    try:
        doc = yaml.load(text, Loader=_RefusingLoader)  # noqa: S506 - a SafeLoader subclass
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise ConfigError(f"{p}: not valid YAML at {where}{problem[:200]}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML ({str(exc)[:200]})") from None
    except RecursionError:
        raise ConfigError(f"{p}: the YAML is nested too deeply") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        kind = type(doc).__name__.replace("str", "text").replace("list", "a list")
        raise ConfigError(f"{p}: the {what} must be a mapping of key: value at the top level, "
                          f"not {kind}")
    return doc
