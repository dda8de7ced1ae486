"""Analyst commentary: ``commentary/<period>.md``, one ``#`` heading per section.

The folder is ``./commentary`` (relative to where ``kpitools report`` or ``make`` runs: the
project root, where it is tracked by git and out of reach of ``make clean``) or
``--commentary DIR``. A file in the old place, ``<data>/commentary/<period>.md``, is still read
when the new place has none, with a notice saying where to move it.

::

    # Executive summary
    Service level recovered after the outage week; FCR is still below target.

    # Action triggers
    Callbacks go live on the technical support line on Monday.

Each part appears in its section, rendered as Markdown with raw HTML escaped and images
disabled, so nothing in the file can inject markup or load anything. A heading that names no
section of this review is an error (it would otherwise be dropped silently).

``kpitools report … --stub`` writes a file pre-filled with the automatic observations and a
marker line; the review stays DRAFT until the analyst deletes that line.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt

from ..errors import DataError
from .cadence import SECTIONS, Cadence

STUB_MARKER = "<!-- kpitools stub:"
DEFAULT_FOLDER = "commentary"  # relative to the current directory
OLD_FOLDER = "commentary"  # inside the data folder (before kpitools 0.2; `make clean` deletes it)
# Bounds: a review is read by people; 200 kB is ~40 printed pages already, and one line longer
# than a few paragraphs is a pasted blob that would overflow the page.
MAX_BYTES = 200_000
MAX_LINE_CHARS = 4_000
_HEADING = re.compile(r"^ {0,3}#(?!#)\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().rstrip(":").strip()).casefold()


_BY_TITLE = {_norm(s.title): s.key for s in SECTIONS.values()}
_BY_TITLE.update({_norm(s.key.replace("_", " ")): s.key for s in SECTIONS.values()})


@dataclass
class Commentary:
    """The parsed commentary file of one period (``exists`` False when there is none)."""

    path: Path | None
    parts: dict[str, str] = field(default_factory=dict)
    exists: bool = False
    stub: bool = False

    @property
    def reviewed(self) -> bool:
        """True when an analyst wrote (or reviewed) the commentary: the review is final."""
        return self.exists and not self.stub and any(t.strip() for t in self.parts.values())

    def for_section(self, key: str) -> str | None:
        text = self.parts.get(key)
        return text if text and text.strip() else None


def parse_commentary(text: str, cadence: Cadence, source: str = "commentary") -> Commentary:
    """Split Markdown text into section parts; raise DataError naming line and heading."""
    parts: dict[str, list[str]] = {}
    current: str | None = None
    stub = False
    in_fence = False
    allowed = set(cadence.sections)
    for lineno, line in enumerate(text.splitlines(), 1):
        if len(line) > MAX_LINE_CHARS:
            raise DataError(
                f"{source}, line {lineno}: {len(line):,} characters on one line; the limit is "
                f"{MAX_LINE_CHARS:,} — break it into paragraphs (a blank line between them)"
            )
        if line.strip().startswith(STUB_MARKER):
            stub = True
            continue
        if _FENCE.match(line):
            in_fence = not in_fence
        m = None if in_fence else _HEADING.match(line)
        if m:
            key = _BY_TITLE.get(_norm(m[1]))
            if key is None or key not in allowed:
                what = ("names no section" if key is None
                        else f"names a section the {cadence.name} review does not have")
                raise DataError(
                    f"{source}, line {lineno}: heading {m[1]!r} {what}; "
                    f"use one of: {', '.join(cadence.section_titles())}"
                )
            if key in parts:
                raise DataError(f"{source}, line {lineno}: heading {m[1]!r} appears twice")
            parts[key] = []
            current = key
            continue
        if current is None:
            if line.strip():
                raise DataError(
                    f"{source}, line {lineno}: text before the first heading; start the file "
                    f"with a section heading such as '# {cadence.section_titles()[0]}'"
                )
            continue
        parts[current].append(line)
    return Commentary(None, {k: "\n".join(v).strip() for k, v in parts.items()}, True, stub)


def read_commentary(path: Path, cadence: Cadence) -> Commentary:
    """Read ``path`` if it exists (an absent file is a normal, DRAFT review).

    Raises DataError naming the path when it is a folder, a broken link or anything but a
    regular file, is unreadable, is not UTF-8, or is larger than :data:`MAX_BYTES`.
    """
    path = Path(path)
    if not os.path.lexists(path):
        return Commentary(path)
    try:
        info = path.stat()
    except OSError as exc:
        raise DataError(f"commentary {path} cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"commentary {path} is a folder; it must be a Markdown file")
    if not stat.S_ISREG(info.st_mode):
        raise DataError(f"commentary {path} is not a regular file; it must be a Markdown file")
    if info.st_size > MAX_BYTES:
        raise DataError(
            f"commentary {path} is {info.st_size:,} bytes; the limit is {MAX_BYTES:,} bytes "
            "(about 40 printed pages) per period — shorten it"
        )
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise DataError(f"commentary {path} cannot be read: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:  # grew after the stat
        raise DataError(f"commentary {path} is over the limit of {MAX_BYTES:,} bytes; shorten it")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    parsed = parse_commentary(text, cadence, str(path))
    parsed.path = path
    return parsed


def locate_commentary(label: str, data_dir: Path, commentary_dir: str | os.PathLike | None = None,
                      must_exist: bool = True) -> tuple[Path, str | None]:
    """(folder to read ``<label>.md`` from, notice or None).

    ``commentary_dir`` given: that folder (relative to the current directory), which must be a
    folder when ``must_exist``. Otherwise ``./commentary``; when it has no ``<label>.md`` but
    the old place ``<data_dir>/commentary`` has one, the old folder and a notice to move it.
    """
    if commentary_dir:
        folder = Path(commentary_dir).expanduser().absolute()
        if os.path.lexists(folder) and not folder.is_dir():
            raise DataError(f"--commentary {commentary_dir}: {folder} is not a folder")
        if must_exist and not folder.is_dir():
            raise DataError(f"--commentary {commentary_dir}: folder {folder} does not exist")
        return folder, None
    folder = Path.cwd() / DEFAULT_FOLDER
    if os.path.lexists(folder) and not folder.is_dir():
        raise DataError(f"{folder} is not a folder; the commentary folder must be one")
    here = folder / f"{label}.md"
    old = Path(data_dir) / OLD_FOLDER / f"{label}.md"
    if not os.path.lexists(here) and os.path.lexists(old):
        return old.parent, (f"notice: read commentary from the old place {old}; move it to "
                            f"{here} (`make clean` deletes the data folder, and with it {old})")
    return folder, None


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable("table")
    md.disable("image")
    return md


_MD = _markdown()


def render_markdown(text: str) -> str:
    """Markdown to HTML with raw HTML escaped, no images, and headings moved below h3."""
    tokens = _MD.parse(text)
    for tok in tokens:
        if tok.type in ("heading_open", "heading_close"):
            level = min(int(tok.tag[1]) + 3, 6)
            tok.tag = f"h{level}"
    return _MD.renderer.render(tokens, _MD.options, {})


def stub_text(ctx) -> str:
    """A commentary file pre-filled with the automatic observations of ``ctx``."""
    lines = [
        f"{STUB_MARKER} automatic observations for the {ctx.cadence.name} review of "
        f"{ctx.label}. Edit them, then delete this line: until you do, the review stays "
        "DRAFT. -->",
        "",
    ]
    for key in ctx.cadence.sections:
        obs = ctx.observations.get(key) or []
        if not obs:
            continue
        lines += [f"# {SECTIONS[key].title}", ""]
        lines += [f"- {o}" for o in obs]
        lines.append("")
    return "\n".join(lines)


def write_stub(ctx, commentary_dir: Path | None = None) -> Path:
    """Write ``<commentary_dir or ./commentary>/<period>.md``; never overwrite a file, nor
    shadow one in the old place."""
    folder, notice = locate_commentary(ctx.label, ctx.data_dir, commentary_dir, must_exist=False)
    if notice:
        old = folder / f"{ctx.label}.md"
        raise DataError(f"{old} already exists (in the old place); move it to "
                        f"{Path.cwd() / DEFAULT_FOLDER / old.name} and edit it there")
    path = folder / f"{ctx.label}.md"
    if os.path.lexists(path):
        raise DataError(f"{path} already exists; edit it, or delete it to get a fresh stub")
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".md.tmp-{os.getpid()}")
    tmp.write_text(stub_text(ctx), encoding="utf-8")
    tmp.replace(path)
    return path
