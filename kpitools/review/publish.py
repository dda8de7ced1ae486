"""Publishing a review so that a reader never finds it missing or half-written.

Layout of one cadence folder::

    reports/weekly/
        2026-W10 -> .versions/2026-W10-3     the review readers open (a relative symlink)
        2026-W10.failed/                     the last failed build, for debugging
        .versions/
            2026-W10-2/                      the review it replaced (kept, then pruned)
            2026-W10-3/                      the current review
            2026-W10.lock                    the per-period lock (never deleted)
            .tmp-2026-W10-<pid>/             a build in progress

Every step of :func:`publish` is one atomic filesystem operation:

1. the finished build folder is renamed into ``.versions/<period>-<n>`` (a version is only
   ever a complete folder; a build in progress is a ``.tmp-*`` folder);
2. a temporary symlink to it is created next to the review;
3. ``os.replace`` swaps that symlink in for ``<period>`` (rename(2) is atomic);
4. older versions are renamed to ``.trash-*`` and then deleted, keeping the one just replaced.

A kill between any two steps leaves ``<period>`` pointing at a complete review (the old one
or the new one). :func:`recover` — run under the lock at the start of every build, and by
:func:`sweep` for periods nobody is building — deletes ``.tmp-*``, ``.trash-*`` and temporary
links, relinks a missing or dangling ``<period>`` to its newest version, and converts a review
folder of the old layout (a plain directory, or the ``.<period>.old-<pid>`` a killed run of
the old code left) into a version.

A per-period lock (``fcntl.flock`` on ``.versions/<period>.lock``) serialises runs: a second
run for the same period waits for the first, saying so on stderr, then builds on top of it.
The kernel releases the lock when its holder dies, so a killed run never blocks the next.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from ..errors import RenderError

VERSIONS = ".versions"
KEEP_VERSIONS = 2  # the current review and the one it replaced (a reader may still hold it)
# Test hook: a process with this variable set to a step name exits at once when it reaches
# that step, as a kill would (tests/test_review_publish.py). Never set it otherwise.
CRASH_ENV = "KPITOOLS_TEST_CRASH_AT"
CRASH_EXIT = 70
STEPS = ("built", "versioned", "linked", "swapped", "copied-legacy", "exchanged-legacy",
         "moved-legacy")

_VERSION = re.compile(r"^(?P<period>.+)-(?P<n>\d+)$")


def crash_point(step: str) -> None:
    """Exit immediately, like a kill, when the test hook names ``step``."""
    if os.environ.get(CRASH_ENV) == step:
        os._exit(CRASH_EXIT)


def file_mode() -> int:
    """The mode an ordinary new file gets here (0644 under the usual umask 022)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def make_readable(folder: Path) -> None:
    """Give every file and folder under ``folder`` the modes the umask gives new ones.

    Some writers (``tempfile.mkstemp``, used for validation.json) create files 0600; a
    review is shared, so every file in it is readable by whoever may read the rest.
    """
    fmode = file_mode()
    dmode = fmode | ((fmode & 0o444) >> 2)  # r -> x on folders
    for root, dirs, files in os.walk(folder):
        os.chmod(root, dmode)
        for name in files:
            os.chmod(os.path.join(root, name), fmode)
        for name in dirs:
            os.chmod(os.path.join(root, name), dmode)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """Flush a finished build to disk before it is renamed into place (power-loss safety)."""
    for root, _dirs, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


def check_writable(out_root: Path, shown: str | None = None) -> None:
    """Raise RenderError unless reviews could be written under ``out_root`` (creates nothing).

    The deepest existing ancestor must be a folder this process can write into.
    """
    shown = shown or str(out_root)
    probe = Path(out_root).absolute()
    while not os.path.lexists(probe) and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise RenderError(f"cannot write reviews under --out {shown}: Not a directory ({probe}); "
                          "pass a folder you can write to")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise RenderError(f"cannot write reviews under --out {shown}: Permission denied ({probe}); "
                          "pass a folder you can write to")


def writable_root(out_root: Path, cadence: str, shown: str | None = None) -> Path:
    """Create ``<out_root>/<cadence>/.versions`` or raise RenderError saying why not."""
    shown = shown or str(out_root)
    parent = Path(out_root) / cadence
    try:
        (parent / VERSIONS).mkdir(parents=True, exist_ok=True)
        probe = parent / VERSIONS / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise RenderError(
            f"cannot write reviews under --out {shown}: {reason} ({exc.filename or parent}); "
            "pass a folder you can write to"
        ) from None
    return parent


# -- the lock ------------------------------------------------------------------------------
@contextlib.contextmanager
def period_lock(parent: Path, period: str, say=None) -> Iterator[None]:
    """Hold the lock of one period; wait (saying so through ``say``) while another run has it."""
    path = parent / VERSIONS / f"{period}.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise RenderError(f"cannot open the lock file {path}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if say:
                say(f"waiting for another kpitools run that is building {parent.name} {period} "
                    f"(lock {path}) …")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def try_period_lock(parent: Path, period: str) -> int | None:
    """A held lock's descriptor, or None when another run holds it (never waits)."""
    path = parent / VERSIONS / f"{period}.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


# -- versions ------------------------------------------------------------------------------
def versions(parent: Path, period: str) -> list[tuple[int, Path]]:
    """Complete versions of ``period``, oldest first."""
    folder = parent / VERSIONS
    out = []
    if folder.is_dir():
        for entry in folder.iterdir():
            m = _VERSION.match(entry.name)
            if m and m["period"] == period and entry.is_dir() and not entry.is_symlink():
                out.append((int(m["n"]), entry))
    return sorted(out)


def _next_version(parent: Path, period: str) -> Path:
    existing = versions(parent, period)
    n = existing[-1][0] + 1 if existing else 1
    return parent / VERSIONS / f"{period}-{n}"


def current_version(parent: Path, period: str) -> Path | None:
    """The folder ``<period>`` shows now (a version, or an old-layout folder), if any."""
    final = parent / period
    return final.resolve() if final.is_dir() else None


def new_build_folder(parent: Path, period: str) -> Path:
    """An empty ``.versions/.tmp-<period>-<pid>`` folder to build into (same filesystem)."""
    tmp = parent / VERSIONS / f".tmp-{period}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    return tmp


def _link(parent: Path, period: str, version: Path) -> None:
    """Point ``<period>`` at ``version`` atomically (a temporary link, then os.replace)."""
    final = parent / period
    link = parent / f".{period}.link-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    link.symlink_to(Path(VERSIONS) / version.name, target_is_directory=True)
    crash_point("linked")
    os.replace(link, final)
    _fsync_dir(parent)


def _discard(path: Path) -> None:
    """Delete a folder so that a kill half-way never leaves a half folder under a good name."""
    if not path.exists():
        return
    trash = path.parent / f".trash-{path.name}-{os.getpid()}"
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def publish(tmp: Path, parent: Path, period: str) -> Path:
    """Make the finished build ``tmp`` the review of ``period``.

    The caller holds the period's lock and ran :func:`recover` before building.

    Returns ``<parent>/<period>`` (a symlink to the new version).
    """
    make_readable(tmp)
    _fsync_tree(tmp)
    crash_point("built")
    version = _next_version(parent, period)
    os.replace(tmp, version)
    _fsync_dir(version.parent)
    crash_point("versioned")
    _link(parent, period, version)
    crash_point("swapped")
    prune(parent, period)
    return parent / period


def prune(parent: Path, period: str, keep: int = KEEP_VERSIONS) -> None:
    """Delete all but the newest ``keep`` versions (never the one ``<period>`` shows)."""
    shown = current_version(parent, period)
    old = versions(parent, period)[:-keep] if keep else versions(parent, period)
    for _n, path in old:
        if shown is None or path.resolve() != shown:
            _discard(path)


# -- recovery ------------------------------------------------------------------------------
def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _adopt_folder(parent: Path, period: str, folder: Path) -> None:
    """Turn an old-layout review folder at ``<period>`` into a version behind a symlink.

    The folder is copied into a new version first, so at every instant either ``<period>``
    is the old folder or a complete version exists for the next recovery to link.
    """
    version = _next_version(parent, period)
    tmp = parent / VERSIONS / f".tmp-{period}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(folder, tmp, symlinks=True)
    os.replace(tmp, version)
    crash_point("copied-legacy")
    link = parent / f".{period}.link-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    link.symlink_to(Path(VERSIONS) / version.name, target_is_directory=True)
    if _exchange(link, folder):  # now <period> is the link and `link` the old folder
        crash_point("exchanged-legacy")
        aside = parent / f".trash-{period}-legacy-{os.getpid()}"
        os.replace(link, aside)
        shutil.rmtree(aside, ignore_errors=True)
    else:  # a short window without <period>; recover() relinks it if a kill lands there
        aside = parent / f".trash-{period}-legacy-{os.getpid()}"
        os.replace(folder, aside)
        crash_point("moved-legacy")
        os.replace(link, parent / period)
        shutil.rmtree(aside, ignore_errors=True)


def recover(parent: Path, period: str) -> None:
    """Repair what a killed run may have left for ``period``; the caller holds its lock."""
    final = parent / period
    vdir = parent / VERSIONS
    for pattern in (f".tmp-{period}-*", f".trash-{period}-*"):
        for path in vdir.glob(pattern):
            shutil.rmtree(path, ignore_errors=True)
    for path in parent.glob(f".trash-{period}-*"):
        shutil.rmtree(path, ignore_errors=True)
    for path in parent.glob(f".{period}.link-*"):
        if path.is_dir() and not path.is_symlink():  # an old folder swapped out by _adopt_folder
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    for path in parent.glob(f".{period}.tmp-*"):  # the old code's build folders
        shutil.rmtree(path, ignore_errors=True)
    for path in sorted(parent.glob(f".{period}.old-*")):  # the old code's previous review
        if not os.path.lexists(final):
            os.replace(path, final)  # it was the good review: put it back
        else:
            shutil.rmtree(path, ignore_errors=True)
    if final.is_symlink():
        if final.is_dir():
            return
        final.unlink()  # dangling: relinked below
    elif final.is_dir():
        _adopt_folder(parent, period, final)
        return
    elif os.path.lexists(final):
        raise RenderError(f"{final} is not a review folder; move it away and run again")
    existing = versions(parent, period)
    if existing:
        _link(parent, period, existing[-1][1])


def leftover_periods(parent: Path) -> set[str]:
    """Periods with something for :func:`recover` to repair."""
    names: set[str] = set()
    vdir = parent / VERSIONS
    if vdir.is_dir():
        for entry in vdir.iterdir():
            m = re.match(r"^\.tmp-(.+)-\d+$", entry.name)
            t = re.match(r"^\.trash-(.+)-\d+$", entry.name)
            if m:
                names.add(m[1])
            elif t and _VERSION.match(t[1]):  # .trash-<period>-<n>-<pid>
                names.add(_VERSION.match(t[1])["period"])
            else:
                v = _VERSION.match(entry.name)
                if v and not (parent / v["period"]).is_dir():
                    names.add(v["period"])
    if parent.is_dir():
        for entry in parent.iterdir():
            m = re.match(r"^\.(.+)\.(?:link|tmp|old)-\d+$", entry.name) or \
                re.match(r"^\.trash-(.+)-legacy-\d+$", entry.name)
            if m:
                names.add(m[1])
            elif entry.is_symlink() and not entry.exists():
                names.add(entry.name)
    return names


def sweep(parent: Path) -> list[str]:
    """Recover every period of this cadence that no running build holds; return them."""
    done = []
    for period in sorted(leftover_periods(parent)):
        fd = try_period_lock(parent, period)
        if fd is None:
            continue  # being built right now: its own run recovers it
        try:
            recover(parent, period)
            done.append(period)
        finally:
            os.close(fd)
    return done
