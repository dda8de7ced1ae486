"""Build a review: validate, execute the template (papermill), render HTML (nbconvert) and PDF
(WeasyPrint), then publish atomically.

Everything is written into a temporary folder next to the destination; only when every step
succeeded is it renamed to ``<out>/<cadence>/<period>/``. A failure leaves any previous review
untouched, moves the partial output (with the executed notebook) to
``<out>/<cadence>/<period>.failed/`` for debugging, and raises a one-line RenderError.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import DataError, KpitoolsError, RenderError, ValidationFailed
from .cadence import get_cadence

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


def _kernel_env() -> None:
    """The environment papermill's kernel inherits (SPEC: kpitools kernel, inline figures)."""
    os.environ["JUPYTER_PREFER_ENV_PATH"] = "1"
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    os.environ.pop("MPLBACKEND", None)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def _kernel_manager_class():
    """An AsyncKernelManager that provisions CurveZMQ keys, which also silences ipykernel's
    'Kernel is running over TCP without encryption' warning."""
    import zmq
    from jupyter_client.manager import AsyncKernelManager

    if not zmq.has("curve"):
        return AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.transport_encryption = "auto"

    return QuietKernelManager


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
    report.write_json(path)
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


def _publish(tmp: Path, final: Path) -> None:
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def render_review(cadence: str, *, period: str | None = None, data_dir: str | Path = "data/demo",
                  out_root: str | Path = "reports", formats: str | list[str] = "html,pdf",
                  commentary_dir: str | Path | None = None, targets: str | Path | None = None,
                  template_dir: str | Path | None = None, progress: bool = True,
                  generated_at: dt.datetime | None = None, engine: str = "duckdb",
                  spark_master: str | None = None, config: str | Path | None = None) -> RenderResult:
    """Build one review and publish it into ``<out_root>/<cadence>/<period>/``.

    Returns the folder, the files written (notebook, HTML, PDF, validation JSON) and the time
    each step took. Raises ValidationFailed when the data fails the gate and RenderError when
    a step fails; in both cases nothing is published. ``engine`` (``duckdb`` or ``spark``)
    is where the KPI SQL and the gate run, here and in the notebook (docs/engines.md).
    ``config`` is the center configuration file (default ``<data>/kpitools.yaml`` if present).
    """
    from ..api import load
    from .context import resolve_data_dir, resolve_period

    cad = get_cadence(cadence)
    fmts = [f.strip().lower() for f in (formats.split(",") if isinstance(formats, str) else formats) if f.strip()]
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        raise RenderError(f"unknown format {', '.join(bad) or '(none)'}; use html, pdf or html,pdf")
    template = notebook_template(cad.name, Path(template_dir) if template_dir else None)
    t_start = time.perf_counter()
    folder, _note = resolve_data_dir(data_dir)
    prog = Progress(cad.name, progress)
    with prog.step("load", f"loading {folder}"):
        try:
            data = load(folder, targets=targets or None, engine=engine, spark_master=spark_master,
                        config=config or None)
        except DataError as exc:
            gate_unloadable(folder, period, exc)
        p = resolve_period(cad, period, data)
    prog.prefix = f"{cad.name} {p.label}"
    cdir = Path(commentary_dir).resolve() if commentary_dir else folder / "commentary"
    # A commentary problem is an analyst's typo: say so before spending time on the render.
    from .commentary import read_commentary

    read_commentary(cdir / f"{p.label}.md", cad)

    parent = Path(out_root) / cad.name
    parent.mkdir(parents=True, exist_ok=True)
    final = parent / p.label
    failed = parent / f"{p.label}.failed"
    tmp = parent / f".{p.label}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    stem = f"{cad.name}-{p.label}"
    written: list[Path] = []
    when = (generated_at or dt.datetime.now()).replace(microsecond=0)
    try:
        with prog.step("validation", "validating data (Great Expectations)"):
            vpath = run_validation(data, p.label, tmp)
        written.append(vpath)
        data.close()
        nb_path = tmp / f"{stem}.ipynb"
        params = {
            "period": p.label,
            "data_dir": str(folder),
            "targets_file": str(Path(targets).resolve()) if targets else "",
            "config_file": str(Path(config).resolve()) if config else "",
            "commentary_dir": str(cdir),
            "validation_json": str(vpath.resolve()),
            "generated_at": when.isoformat(),
            "output_formats": ",".join(fmts),
            "engine": engine,
            "spark_master": spark_master or "",
        }
        with prog.step("execute", "executing the notebook (papermill)"):
            _execute(template, nb_path, params, tmp)
        written.append(nb_path)
        import nbformat

        nb = nbformat.read(str(nb_path), as_version=4)
        title = f"{cad.title} — {p.label}"
        with prog.step("html", "rendering HTML (nbconvert)"):
            html_text = export_html(nb, title)
        if "html" in fmts:
            (tmp / f"{stem}.html").write_text(html_text, encoding="utf-8")
            written.append(tmp / f"{stem}.html")
        if "pdf" in fmts:
            with prog.step("pdf", "rendering PDF (WeasyPrint)"):
                write_pdf(html_text, tmp / f"{stem}.pdf")
            written.append(tmp / f"{stem}.pdf")
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
    with prog.step("publish", f"publishing to {final}"):
        _publish(tmp, final)
        shutil.rmtree(failed, ignore_errors=True)
    prog.timings["total"] = round(time.perf_counter() - t_start, 3)
    paths = [final / w.name for w in written]
    order = {".html": 0, ".pdf": 1, ".ipynb": 2, ".json": 3}
    paths.sort(key=lambda q: order.get(q.suffix, 9))
    return RenderResult(final, paths, prog.timings)


def _keep_failed(tmp: Path, failed: Path) -> None:
    shutil.rmtree(failed, ignore_errors=True)
    if tmp.exists():
        os.replace(tmp, failed)


def _execute(template: Path, out: Path, params: dict, cwd: Path) -> None:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    _kernel_env()
    try:
        pm.execute_notebook(str(template), str(out), parameters=params, kernel_name="kpitools",
                            progress_bar=False, cwd=str(cwd), log_output=False,
                            request_save_on_cell_execute=False,
                            kernel_manager_class=_kernel_manager_class())
    except PapermillExecutionError as exc:
        cell_source = _cell_source(out, exc.cell_index)
        exc.source = cell_source
        raise
    except Exception as exc:
        if "No such kernel" in str(exc) or "kpitools" in str(exc) and "kernel" in str(exc).lower():
            raise RenderError(
                "the Jupyter kernel 'kpitools' is not installed; run `make install` "
                "(python -m ipykernel install --sys-prefix --name kpitools)") from None
        raise


def _cell_source(nb_path: Path, index) -> str:
    try:
        import nbformat

        nb = nbformat.read(str(nb_path), as_version=4)
        return nb.cells[index].source if index is not None else ""
    except Exception:  # the notebook may not have been written
        return ""
