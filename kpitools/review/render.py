"""Build a review: validate, execute the template (papermill), render HTML (nbconvert) and PDF
(WeasyPrint), write the tables as data, then publish atomically.

Under the period's lock, everything is written into a temporary folder on the same
filesystem; only when every step succeeded does it become the new version that
``<out>/<cadence>/<period>`` points to (:mod:`kpitools.review.publish`). A failure leaves the
previous review untouched, moves the partial output (with the executed notebook) to
``<out>/<cadence>/<period>.failed/`` for debugging, and raises a one-line RenderError.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import DataError, KpitoolsError, RenderError, ValidationFailed
from .cadence import get_cadence
from .kernel import KERNEL_NAME, WarmKernel, kernel_env, kernel_manager_class, missing_kernel

TEMPLATE_FOLDER = "review"  # kpitools/templates/review: nbconvert template + CSS
FORMATS = ("html", "pdf")


def templates_root() -> Path:
    return Path(str(resources.files("kpitools").joinpath("templates")))


def notebook_template(cadence: str, template_dir: Path | None = None) -> Path:
    """``report_templates/<cadence>.ipynb`` from the project (or ``template_dir``)."""
    if template_dir is None:
        from .context import project_root

        root = project_root()
        template_dir = (root / "report_templates") if root else Path("report_templates")
    path = Path(template_dir) / f"{cadence}.ipynb"
    if not path.is_file():
        raise RenderError(f"review template {path} does not exist")
    return path


@dataclass
class RenderResult:
    folder: Path
    paths: list[Path]
    timings: dict[str, float] = field(default_factory=dict)
    skipped: str = ""  # why nothing was built (batch runs skip unchanged periods)


class Progress:
    """Short progress lines on stderr: '[weekly 2026-W46] executing notebook … 6.2 s'."""

    def __init__(self, prefix: str, enabled: bool = True, stream=None):
        self.prefix = prefix
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.timings: dict[str, float] = {}

    def step(self, name: str, label: str):
        progress = self

        class _Step:
            def __enter__(self):
                self.t0 = time.perf_counter()
                if progress.enabled:
                    print(f"[{progress.prefix}] {label} …", file=progress.stream, flush=True)
                return self

            def __exit__(self, exc_type, exc, tb):
                progress.timings[name] = round(time.perf_counter() - self.t0, 3)
                if progress.enabled and exc_type is None:
                    print(f"[{progress.prefix}] {label}: done in {progress.timings[name]:.1f} s",
                          file=progress.stream, flush=True)
                return False

        return _Step()


def run_validation(data, label: str, folder: Path) -> Path:
    """Run the data-quality gate once, in this process; write ``validation.json``.

    Raises ValidationFailed (with the gate's text) when a critical expectation fails.
    """
    path = folder / "validation.json"
    try:
        from ..validation import validate
    except ImportError as exc:
        path.write_text(json.dumps({"available": False, "reason": f"validation gate not installed ({exc})",
                                    "results": []}), encoding="utf-8")
        return path
    report = validate(data, period=label)
    # The loader's stamps travel with the verdict: the notebook kernel loads the same files
    # and skips the checks this process's load already passed (kpitools.loading.load).
    report.write_json(path, {"input_checks": getattr(data, "input_checks", [])})
    if not report.ok:
        raise ValidationFailed(
            f"the data failed validation for {label}, so no review was built:\n" + report.format_text()
        )
    return path


def gate_unloadable(folder: Path, period: str | None, exc: DataError):
    """The loader rejected the folder: let the gate list every problem (it reads leniently),
    so `kpitools report` fails like `kpitools validate` does. Re-raise ``exc`` if the gate
    finds nothing critical."""
    try:
        from ..validation import validate
    except ImportError:
        raise exc from None
    report = validate(str(folder), period=period or None)
    if not report.ok:
        raise ValidationFailed("the data failed validation, so no review was built:\n"
                               + report.format_text()) from None
    raise exc from None


def _failure_message(exc, cadence: str, label: str, failed_dir: Path) -> str:
    """One or two lines naming the section and the error, never a traceback."""
    where = ""
    source = getattr(exc, "source", "") or ""
    for line in source.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            where = f" in `{line[:80]}`"
            break
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    return (f"the {cadence} review for {label} failed{where}: {ename}: {evalue}\n"
            f"the executed notebook is kept in {failed_dir}; the previous review (if any) is untouched")


def _strip_stderr(nb) -> None:
    """Warnings written to stderr stay in the executed notebook, never in the review."""
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in cell.get("outputs", [])
                               if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]


def export_html(nb, title: str) -> str:
    """nbconvert with the kpitools template: no code, no prompts, inline CSS, no scripts."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nb.copy() if hasattr(nb, "copy") else nb
    _strip_stderr(nb)
    nb.metadata["title"] = title
    root = templates_root()
    exporter = HTMLExporter(template_name=TEMPLATE_FOLDER, extra_template_basedirs=[str(root)],
                            exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(
        remove_cell_tags={"parameters", "injected-parameters", "remove-cell"},
        remove_input_tags={"remove-input"}, enabled=True), enabled=True)
    css = (root / TEMPLATE_FOLDER / "review.css").read_text("utf-8")
    body, _ = exporter.from_notebook_node(nb, resources={"review_css": css})
    return body


def write_pdf(html_text: str, path: Path) -> None:
    """WeasyPrint, allowed to read data: URIs only (a review loads nothing from anywhere)."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=["data"], fail_on_errors=True)
    HTML(string=html_text, url_fetcher=fetcher, base_url=None).write_pdf(str(path))


def data_folder(data_dir: str | os.PathLike) -> Path:
    """The data folder, relative to the current directory; an error when it is missing,
    not a folder, unreadable or empty (never a silent fall-back to other data)."""
    given = str(data_dir)
    folder = Path(data_dir).expanduser().absolute()
    if not os.path.lexists(folder):
        raise DataError(f"data folder {given} ({folder}) does not exist; pass --data DIR, or "
                        f"generate the demo data with `kpitools demo-data --out {given}`")
    if not folder.is_dir():
        raise DataError(f"--data {given}: {folder} is not a folder")
    try:
        empty = not any(folder.iterdir())
    except OSError as exc:
        raise DataError(f"data folder {folder} cannot be read: {exc.strerror}") from None
    if empty:
        raise DataError(f"data folder {folder} is empty; it needs at least interactions.csv "
                        "or interactions.parquet")
    return folder


def parse_formats(formats: str | list[str]) -> list[str]:
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    fmts = [f.strip().lower() for f in items if f.strip()]
    bad = [f[:20] for f in fmts if f not in FORMATS]
    if bad or not fmts:
        raise RenderError(f"unknown format {', '.join(bad) or '(none)'}; use html, pdf or html,pdf")
    return list(dict.fromkeys(fmts))


@dataclass
class ReviewJob:
    """What every period of one ``kpitools report`` run shares."""

    cadence: object  # Cadence
    data_dir: Path
    out_root: Path
    formats: list[str]
    template: Path
    commentary_dir: Path | None = None  # None: ./commentary, then the old place
    targets: Path | None = None
    config: Path | None = None  # None: <data>/kpitools.yaml if present
    engine: str = "duckdb"
    spark_master: str | None = None
    progress: bool = True
    generated_at: dt.datetime | None = None


def make_job(cadence: str, *, data_dir: str | Path, out_root: str | Path = "reports",
             formats: str | list[str] = "html,pdf", commentary_dir: str | Path | None = None,
             targets: str | Path | None = None, template_dir: str | Path | None = None,
             progress: bool = True, generated_at: dt.datetime | None = None,
             engine: str = "duckdb", spark_master: str | None = None,
             config: str | Path | None = None) -> ReviewJob:
    """Check the options (paths relative to the current directory) before any work starts."""
    from .publish import check_writable

    cad = get_cadence(cadence)
    fmts = parse_formats(formats)
    template = notebook_template(cad.name, Path(template_dir) if template_dir else None)
    folder = data_folder(data_dir)
    out = Path(out_root).expanduser().absolute()
    check_writable(out, str(out_root))  # now, before any work; created when publishing
    cdir = None
    if commentary_dir:
        from .commentary import locate_commentary

        cdir, _ = locate_commentary("", folder, commentary_dir)  # checks it is a folder
    tfile = Path(targets).expanduser().absolute() if targets else None
    cfile = Path(config).expanduser().absolute() if config else None
    return ReviewJob(cad, folder, out, fmts, template, cdir, tfile, cfile, engine, spark_master,
                     progress, generated_at)


def load_data(job: ReviewJob, period: str | None = None, prog: Progress | None = None):
    """Load the data folder once (a rejected folder goes through the gate, which lists every
    problem)."""
    from ..api import load

    prog = prog or Progress(job.cadence.name, job.progress)
    with prog.step("load", f"loading {job.data_dir}"):
        try:
            return load(job.data_dir, targets=job.targets, engine=job.engine,
                        spark_master=job.spark_master, config=job.config)
        except DataError as exc:
            gate_unloadable(job.data_dir, period, exc)


def render_review(cadence: str, *, period: str | None = None, data_dir: str | Path = "data/demo",
                  out_root: str | Path = "reports", formats: str | list[str] = "html,pdf",
                  commentary_dir: str | Path | None = None, targets: str | Path | None = None,
                  template_dir: str | Path | None = None, progress: bool = True,
                  generated_at: dt.datetime | None = None, engine: str = "duckdb",
                  spark_master: str | None = None, config: str | Path | None = None) -> RenderResult:
    """Build one review and publish it into ``<out_root>/<cadence>/<period>/``.

    Returns the folder, the files written (HTML, PDF, tables, notebook, JSON) and the time
    each step took. Raises ValidationFailed when the data fails the gate and RenderError when
    a step fails; in both cases the previous review stays as it was. ``engine`` (``duckdb``
    or ``spark``) is where the KPI SQL and the gate run, here and in the notebook
    (docs/engines.md). ``config`` is the center configuration file (default
    ``<data>/kpitools.yaml`` if present). Relative paths are relative to the current directory.
    """
    from .context import resolve_period

    job = make_job(cadence, data_dir=data_dir, out_root=out_root, formats=formats,
                   commentary_dir=commentary_dir, targets=targets, template_dir=template_dir,
                   progress=progress, generated_at=generated_at, engine=engine,
                   spark_master=spark_master, config=config)
    t_start = time.perf_counter()
    prog = Progress(job.cadence.name, job.progress)
    data = load_data(job, period, prog)
    try:
        with prog.step("period", "resolving the period"):
            p = resolve_period(job.cadence, period, data)
        # The gate has run, the kernel loads its own copy: free this one first.
        result = build_period(job, data, p, prog, close_after_gate=True)
    finally:
        data.close()
    result.timings["total"] = round(time.perf_counter() - t_start, 3)
    return result


def build_period(job: ReviewJob, data, p, prog: Progress | None = None, *,
                 skip_unchanged: bool = False, close_after_gate: bool = False) -> RenderResult:
    """Validate, execute, render and publish one period under its lock.

    With ``skip_unchanged`` a period whose review was built from the same fingerprint (see
    :mod:`kpitools.review.fingerprint`) is left as it is: the result has ``skipped`` set.
    """
    from . import fingerprint as fpr
    from . import publish as pub
    from .commentary import locate_commentary, read_commentary
    from .context import project_root

    cad = job.cadence
    prog = prog or Progress(cad.name, job.progress)
    prog.prefix = f"{cad.name} {p.label}"
    cdir, notice = locate_commentary(p.label, job.data_dir, job.commentary_dir)
    if notice:
        print(notice, file=sys.stderr, flush=True)
    # A commentary problem is an analyst's typo: say so before spending time on the render.
    read_commentary(cdir / f"{p.label}.md", cad)
    parent = pub.writable_root(job.out_root, cad.name)
    pub.sweep(parent)  # what killed runs left for periods nobody is building now
    final = parent / p.label
    failed = parent / f"{p.label}.failed"
    stem = f"{cad.name}-{p.label}"
    root = project_root()
    parts = fpr.inputs(cadence=cad.name, period=p.label, data_dir=job.data_dir,
                       commentary_file=cdir / f"{p.label}.md", targets=job.targets,
                       template=job.template,
                       suites_dir=(root / "expectations") if root else None, engine=job.engine,
                       config=job.config)
    fp = fpr.fingerprint(parts)
    t0 = time.perf_counter()
    with pub.period_lock(parent, p.label, say=lambda m: print(f"[{prog.prefix}] {m}",
                                                              file=sys.stderr, flush=True)):
        pub.recover(parent, p.label)
        current = pub.current_version(parent, p.label)
        if skip_unchanged and fpr.unchanged(current, fp, job.formats) and all(
                (current / f"{stem}.{f}").is_file() for f in job.formats):
            built = fpr.read_build(current).get("generated_at", "")
            return RenderResult(final, [], {"total": round(time.perf_counter() - t0, 3)},
                                skipped=f"unchanged since {built}" if built else "unchanged")
        when = (job.generated_at or dt.datetime.now()).replace(microsecond=0)
        tmp = pub.new_build_folder(parent, p.label)
        written = _build(job, data, p, prog, tmp, cdir, stem, failed, close_after_gate, when)
        carried = _carry_over(current, tmp, stem, job.formats)
        previous = fpr.read_build(current) if current else {}
        formats = {f: v for f, v in (previous.get("formats") or {}).items() if f in carried}
        formats.update({f: {"fingerprint": fp, "generated_at": when.isoformat()}
                        for f in job.formats})
        record = {"generated_at": when.isoformat(), "fingerprint": fp, "inputs": parts,
                  "formats": formats, "carried_over": sorted(carried)}
        (tmp / fpr.BUILD_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
        with prog.step("publish", f"publishing to {final}"):
            pub.publish(tmp, parent, p.label)
            shutil.rmtree(failed, ignore_errors=True)
    paths = [final / w.name for w in written]
    order = {".html": 0, ".pdf": 1, ".xlsx": 2, ".csv": 3, ".ipynb": 4, ".json": 5}
    paths.sort(key=lambda q: (order.get(q.suffix, 9), q.name))
    return RenderResult(final, paths, dict(prog.timings))


def _carry_over(current: Path | None, tmp: Path, stem: str, formats: list[str]) -> set[str]:
    """Copy the formats this run does not render (``--format html`` keeps the PDF)."""
    carried = set()
    if current is None:
        return carried
    for fmt in FORMATS:
        src = current / f"{stem}.{fmt}"
        if fmt not in formats and src.is_file():
            shutil.copy2(src, tmp / src.name)
            carried.add(fmt)
    return carried


def _build(job: ReviewJob, data, p, prog: Progress, tmp: Path, cdir: Path, stem: str,
           failed: Path, close_after_gate: bool, when: dt.datetime) -> list[Path]:
    """Everything up to publishing, into ``tmp``; a failure keeps ``tmp`` as ``failed``."""
    cad = job.cadence
    written: list[Path] = []
    workbook = None
    try:
        with WarmKernel(tmp) as kernel:  # starts and imports while the gate runs
            written += _validate_and_execute(job, data, p, prog, tmp, cdir, stem, kernel,
                                             close_after_gate, when)
            workbook = start_workbook(tmp, stem)
        import nbformat

        nb = nbformat.read(str(tmp / f"{stem}.ipynb"), as_version=4)
        title = f"{cad.title} — {p.label}"
        with prog.step("html", "rendering HTML (nbconvert)"):
            html_text = export_html(nb, title)
        if "html" in job.formats:
            (tmp / f"{stem}.html").write_text(html_text, encoding="utf-8")
            written.append(tmp / f"{stem}.html")
        if "pdf" in job.formats:
            with prog.step("pdf", "rendering PDF (WeasyPrint)"):
                write_pdf(html_text, tmp / f"{stem}.pdf")
            written.append(tmp / f"{stem}.pdf")
        with prog.step("xlsx", "writing the xlsx workbook"):
            written.append(finish_workbook(workbook, tmp, stem))
    except ValidationFailed:
        _keep_failed(tmp, failed)
        raise
    except KpitoolsError as exc:
        _keep_failed(tmp, failed)
        raise RenderError(_failure_message(exc, cad.name, p.label, failed)) from None
    except Exception as exc:  # papermill, nbconvert, WeasyPrint: one clear line, no traceback
        _keep_failed(tmp, failed)
        raise RenderError(_failure_message(exc, cad.name, p.label, failed)) from None
    except BaseException:  # Ctrl-C: leave no half-written folder behind
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if workbook is not None and workbook.poll() is None:  # a step after it failed
            workbook.kill()
            workbook.wait()
    return written


def start_workbook(folder: Path, stem: str) -> subprocess.Popen:
    """Write the xlsx workbook the notebook left pending (``tables.write_tables(...,
    workbook_later=True)``) in a second process: XlsxWriter takes 2-4 s for a 10M-contact
    quarter's per-agent table, on the core nbconvert and WeasyPrint leave idle."""
    return subprocess.Popen([sys.executable, "-m", "kpitools.review.tables", str(folder), stem],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish_workbook(proc: subprocess.Popen, folder: Path, stem: str) -> Path:
    """Wait for :func:`start_workbook`; the workbook's path, or RenderError with its reason."""
    _, err = proc.communicate()
    if proc.returncode != 0:
        lines = err.strip().splitlines()
        raise RenderError("writing the xlsx workbook failed: "
                          + (lines[-1] if lines else f"exit code {proc.returncode}"))
    return folder / f"{stem}.xlsx"


def _validate_and_execute(job: ReviewJob, data, p, prog: Progress, tmp: Path, cdir: Path,
                          stem: str, kernel: WarmKernel, close_after_gate: bool,
                          when: dt.datetime) -> list[Path]:
    """The gate, then the notebook in the warm kernel; the files written into ``tmp``."""
    with prog.step("validation", "validating data (Great Expectations suites, in SQL)"):
        vpath = run_validation(data, p.label, tmp)
    written = [vpath]
    if close_after_gate:
        data.close()
    nb_path = tmp / f"{stem}.ipynb"
    params = {
        "period": p.label,
        "data_dir": str(job.data_dir),
        "targets_file": str(job.targets or ""),
        "config_file": str(job.config or ""),
        "commentary_dir": str(cdir),
        "validation_json": str(vpath.resolve()),
        "generated_at": when.isoformat(),
        "output_formats": ",".join(job.formats),
        "engine": job.engine,
        "spark_master": job.spark_master or "",
    }
    # This process only waits while the kernel works: import the renderers meanwhile.
    threading.Thread(target=_import_renderers, daemon=True).start()
    with prog.step("execute", "executing the notebook (papermill)"):
        _execute(job.template, nb_path, params, tmp, tables_cell(tmp, stem, workbook_later=True),
                 km=kernel.km)
    written.append(nb_path)
    # the workbook is not among them yet: start_workbook writes it after the notebook
    written += [q for q in tmp.iterdir() if q.suffix == ".csv" or q.name == "summary.json"]
    return written


def _import_renderers() -> None:
    """nbconvert and WeasyPrint take 2-3 s to import; a failure shows when they are used."""
    try:
        import nbconvert  # noqa: F401
        import weasyprint  # noqa: F401
    except Exception:  # noqa: BLE001
        pass


def tables_cell(folder: Path, stem: str, workbook_later: bool = False):
    """The cell appended to the template: write the review's tables and summary.json from
    the context the sections used (templates name it ``ctx``). Hidden in the review.
    ``workbook_later``: the xlsx is written by :func:`start_workbook` instead."""
    import nbformat

    later = ", workbook_later=True" if workbook_later else ""
    source = ("# Added by `kpitools report`: the review's tables as CSV / xlsx, and summary.json\n"
              "from kpitools.review.tables import write_tables\n"
              f"write_tables(ctx, {str(folder)!r}, {stem!r}{later});")
    return nbformat.v4.new_code_cell(source, metadata={"tags": ["remove-cell"]})


def _keep_failed(tmp: Path, failed: Path) -> None:
    shutil.rmtree(failed, ignore_errors=True)
    if tmp.exists():
        os.replace(tmp, failed)


def _execute(template: Path, out: Path, params: dict, cwd: Path, extra_cell=None,
             km=None) -> None:
    """papermill; in the kernel ``km`` when given (a :class:`WarmKernel`'s), else a new one."""
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    kernel_env()
    nb = nbformat.read(str(template), as_version=4)
    if extra_cell is not None:
        nb.cells.append(extra_cell)
    try:
        pm.execute_notebook(nb, str(out), parameters=params, kernel_name=KERNEL_NAME,
                            progress_bar=False, cwd=str(cwd), log_output=False,
                            request_save_on_cell_execute=False,
                            **({"km": km} if km is not None else
                               {"kernel_manager_class": kernel_manager_class()}))
    except PapermillExecutionError as exc:
        cell_source = _cell_source(out, exc.cell_index)
        exc.source = cell_source
        raise
    except Exception as exc:
        if "No such kernel" in str(exc) or "kpitools" in str(exc) and "kernel" in str(exc).lower():
            raise missing_kernel() from None
        raise


def _cell_source(nb_path: Path, index) -> str:
    try:
        import nbformat

        nb = nbformat.read(str(nb_path), as_version=4)
        return nb.cells[index].source if index is not None else ""
    except Exception:  # the notebook may not have been written
        return ""
