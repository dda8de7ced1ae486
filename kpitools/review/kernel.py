"""The Jupyter kernel a review's notebook runs in, started before it is needed.

Starting the kernel and importing the review's libraries (pandas, matplotlib, seaborn and
scipy: 3-5 s) used to wait for the data-quality gate. :class:`WarmKernel` starts the kernel
and sends it those imports before the gate runs, so they overlap; papermill then executes
the notebook in that kernel. The imports are the notebook's own first imports, so nothing
the notebook computes depends on the warm-up.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import RenderError

KERNEL_NAME = "kpitools"
# What every template imports anyway (kpitools.review's sections and charts).
WARM_UP = "import kpitools.review.sections, kpitools.review.charts"


def missing_kernel() -> RenderError:
    return RenderError(f"the Jupyter kernel {KERNEL_NAME!r} is not installed; run `make install` "
                       f"(python -m ipykernel install --sys-prefix --name {KERNEL_NAME})")


def kernel_env() -> None:
    """The environment the kernel inherits (SPEC: kpitools kernel, inline figures)."""
    os.environ["JUPYTER_PREFER_ENV_PATH"] = "1"
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    os.environ.pop("MPLBACKEND", None)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def kernel_manager_class():
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


class WarmKernel:
    """A kernel started in ``cwd`` that is importing the review's libraries in the background.

    Use as a context manager; the kernel is shut down on exit (also after a failure).
    ``km`` is the kernel manager to hand to papermill (``execute_notebook(km=...)``).
    """

    def __init__(self, cwd: Path):
        self.cwd = Path(cwd)
        self.km = None

    def __enter__(self) -> WarmKernel:
        from jupyter_client.kernelspec import NoSuchKernel
        from jupyter_core.utils import run_sync

        kernel_env()
        km = kernel_manager_class()(kernel_name=KERNEL_NAME)
        try:
            run_sync(km.start_kernel)(cwd=str(self.cwd))
        except NoSuchKernel:
            raise missing_kernel() from None
        self.km = km
        try:
            kc = km.client()
            kc.start_channels()
            try:
                run_sync(kc.wait_for_ready)(timeout=60)
                # Queued on the kernel's shell channel: it runs while this process goes on,
                # and papermill's first cell waits behind it.
                kc.execute(WARM_UP, silent=True, store_history=False)
            finally:
                kc.stop_channels()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        from jupyter_core.utils import run_sync

        if self.km is not None and self.km.has_kernel:
            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # noqa: BLE001 - a kernel that already died needs no shutdown
                pass
        self.km = None
