"""Crash-safe publishing (kpitools.review.publish), without rendering anything.

A "review" here is a folder with one HTML file whose text says which build made it. Each
publish runs in a forked child process that exits like a kill (``os._exit``) at a named step
through the KPITOOLS_TEST_CRASH_AT hook, or is killed with SIGKILL while building; after every
interruption the previous review must be readable at ``<cadence>/<period>/``, and the next run
must clean up and publish normally.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from kpitools.review import publish as pub

PERIOD = "2026-W10"
STEM = f"weekly-{PERIOD}"

def _publish_in_child(parent: Path, text: str, hold_until: Path | None, ready: Path | None):
    """One publish as kpitools report does it: lock, recover, build, publish."""
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    with pub.period_lock(parent, PERIOD, say=say):
        if ready is not None:
            ready.touch()
        pub.recover(parent, PERIOD)
        tmp = pub.new_build_folder(parent, PERIOD)
        (tmp / f"{STEM}.html").write_text(text)
        deadline = time.monotonic() + 30
        while hold_until is not None and not hold_until.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        pub.publish(tmp, parent, PERIOD)


class Child:
    """A forked process running one publish (fork: no interpreter start-up per run)."""

    def __init__(self, parent: Path, text: str, crash_at: str = "", hold_until: Path | None = None,
                 ready: Path | None = None):
        self.stderr_path = parent.parent.parent / f"child-{time.monotonic_ns()}.err"
        sys.stderr.flush()
        self.pid = os.fork()
        if self.pid == 0:  # the child: never returns into pytest
            code = 1
            try:
                fd = os.open(self.stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(fd, 2)
                sys.stderr = os.fdopen(fd, "w", buffering=1)  # pytest replaced sys.stderr
                os.environ.pop(pub.CRASH_ENV, None)
                if crash_at:
                    os.environ[pub.CRASH_ENV] = crash_at
                _publish_in_child(parent, text, hold_until, ready)
                code = 0
            except BaseException as exc:  # noqa: BLE001 - report, then exit without cleanup
                print(repr(exc), file=sys.stderr, flush=True)
            finally:
                os._exit(code)

    def wait(self) -> int:
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""


def run_publish(parent: Path, text: str, crash_at: str = "") -> tuple[int, str]:
    child = Child(parent, text, crash_at)
    return child.wait(), child.stderr


def wait_for(path: Path, what: str) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def shown(parent: Path) -> str:
    """What a reader opening reports/weekly/<period>/ sees."""
    return (parent / PERIOD / f"{STEM}.html").read_text()


def leftovers(parent: Path) -> list[str]:
    names = [p.name for p in parent.iterdir() if p.name not in (PERIOD, pub.VERSIONS)]
    names += [p.name for p in (parent / pub.VERSIONS).iterdir()
              if p.name.startswith(".")]
    return sorted(names)


@pytest.fixture
def parent(tmp_path) -> Path:
    folder = pub.writable_root(tmp_path / "reports", "weekly")
    code, err = run_publish(folder, "old review")
    assert code == 0, err
    assert shown(folder) == "old review"
    return folder


@pytest.mark.parametrize("step", ["built", "versioned", "linked"])
def test_kill_before_the_swap_keeps_the_old_review(parent, step):
    code, err = run_publish(parent, "new review", crash_at=step)
    assert code == pub.CRASH_EXIT, err
    assert shown(parent) == "old review"  # never absent, never half
    assert (parent / PERIOD).is_symlink()
    code, err = run_publish(parent, "third review")  # the next run recovers and publishes
    assert code == 0, err
    assert shown(parent) == "third review"
    assert leftovers(parent) == []
    assert len(pub.versions(parent, PERIOD)) <= pub.KEEP_VERSIONS


def test_kill_after_the_swap_shows_the_new_review(parent):
    code, _ = run_publish(parent, "new review", crash_at="swapped")
    assert code == pub.CRASH_EXIT
    assert shown(parent) == "new review"
    assert pub.sweep(parent) == []  # nothing to repair
    assert leftovers(parent) == []


def test_sigkill_while_building_leaves_the_old_review_and_a_cleanable_tmp(parent, tmp_path):
    ready, never = tmp_path / "building", tmp_path / "never"
    child = Child(parent, "never published", hold_until=never, ready=ready)
    wait_for(ready, "the build to start")
    deadline = time.monotonic() + 30
    while not list((parent / pub.VERSIONS).glob(f".tmp-{PERIOD}-*")):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)  # mid-build
    assert child.wait() == -signal.SIGKILL
    assert list((parent / pub.VERSIONS).glob(f".tmp-{PERIOD}-*")), "the killed build's folder"
    assert shown(parent) == "old review"
    # the kernel released the dead run's lock: a sweep by the next run cleans up at once
    assert pub.sweep(parent) == [PERIOD]
    assert leftovers(parent) == []
    assert shown(parent) == "old review"


def test_dangling_or_missing_link_is_relinked_to_the_newest_version(parent):
    run_publish(parent, "second review")
    (parent / PERIOD).unlink()  # as if a run died between removing and linking
    assert pub.sweep(parent) == [PERIOD]
    assert shown(parent) == "second review"
    newest = pub.versions(parent, PERIOD)[-1][1]
    os.symlink("nowhere", parent / f".{PERIOD}.link-999")
    (parent / PERIOD).unlink()
    (parent / PERIOD).symlink_to(Path(pub.VERSIONS) / "gone-1")  # dangling
    pub.sweep(parent)
    assert (parent / PERIOD).resolve() == newest.resolve()
    assert leftovers(parent) == []


def test_old_layout_folder_is_adopted_without_a_gap(tmp_path):
    """A review folder written by the old code becomes a version; a kill at either step of the
    conversion leaves a readable review, and the conversion finishes on the next run."""
    for step in ("copied-legacy", "exchanged-legacy"):
        parent = tmp_path / step / "weekly"
        (parent / PERIOD).mkdir(parents=True)
        (parent / PERIOD / f"{STEM}.html").write_text("legacy review")
        pub.writable_root(parent.parent, "weekly")
        code, _ = run_publish(parent, "new review", crash_at=step)
        assert code == pub.CRASH_EXIT
        assert shown(parent) == "legacy review"
        code, err = run_publish(parent, "new review")
        assert code == 0, err
        assert shown(parent) == "new review" and (parent / PERIOD).is_symlink()
        assert leftovers(parent) == []


def test_old_layout_without_rename_exchange_is_recovered(tmp_path, monkeypatch):
    """Where the filesystem cannot swap atomically, the old folder is moved aside and the link
    moved in: a kill between the two leaves no <period> for a moment, and the next run links
    the copy made first."""
    monkeypatch.setattr(pub, "_exchange", lambda a, b: False)  # inherited by the forked child
    parent = tmp_path / "reports" / "weekly"
    (parent / PERIOD).mkdir(parents=True)
    (parent / PERIOD / f"{STEM}.html").write_text("legacy review")
    pub.writable_root(parent.parent, "weekly")
    code, _ = run_publish(parent, "new review", crash_at="moved-legacy")
    assert code == pub.CRASH_EXIT
    assert not os.path.lexists(parent / PERIOD)  # the documented window
    assert pub.sweep(parent) == [PERIOD]
    assert shown(parent) == "legacy review"
    assert leftovers(parent) == []


def test_the_old_codes_moved_aside_review_is_restored(tmp_path):
    """The old publish renamed the review to .<period>.old-PID and could die before renaming
    the new one in; that review is put back."""
    parent = pub.writable_root(tmp_path / "reports", "weekly")
    aside = parent / f".{PERIOD}.old-4242"
    aside.mkdir()
    (aside / f"{STEM}.html").write_text("moved aside")
    (parent / f".{PERIOD}.tmp-4242").mkdir()
    assert pub.sweep(parent) == [PERIOD]
    assert shown(parent) == "moved aside"
    assert leftovers(parent) == []


def test_two_concurrent_runs_both_publish(parent, tmp_path):
    """The second run waits for the first (saying so), then publishes on top of it."""
    has_lock, release = tmp_path / "first-has-lock", tmp_path / "release"
    first = Child(parent, "first", hold_until=release, ready=has_lock)
    wait_for(has_lock, "the first run to take the lock")
    second = Child(parent, "second")
    deadline = time.monotonic() + 30
    while "waiting for another kpitools run" not in second.stderr:
        assert time.monotonic() < deadline, "the second run never waited"
        time.sleep(0.02)
    release.touch()
    assert first.wait() == 0, first.stderr
    assert second.wait() == 0, second.stderr
    assert "waiting for another kpitools run that is building weekly 2026-W10" in second.stderr
    assert shown(parent) == "second"
    assert len(pub.versions(parent, PERIOD)) == pub.KEEP_VERSIONS
    assert leftovers(parent) == []


def test_published_files_get_ordinary_modes(tmp_path):
    parent = pub.writable_root(tmp_path / "reports", "weekly")
    tmp = pub.new_build_folder(parent, PERIOD)
    secret = tmp / "validation.json"
    secret.write_text("{}")
    os.chmod(secret, 0o600)  # as tempfile.mkstemp creates it
    pub.publish(tmp, parent, PERIOD)
    mask = os.umask(0)
    os.umask(mask)
    assert (parent / PERIOD / "validation.json").stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize("target", ["/dev/null", "a-file"])
def test_unwritable_out_is_an_error_not_a_traceback(tmp_path, target):
    from kpitools.errors import RenderError

    out = tmp_path / target if target == "a-file" else Path(target)
    if target == "a-file":
        out.write_text("not a folder")
    with pytest.raises(RenderError, match=f"cannot write reviews under --out {out}: Not a directory"):
        pub.writable_root(out, "weekly")
