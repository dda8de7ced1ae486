"""A throw-away Spark standalone cluster on this machine (a master and workers on 127.0.0.1).

For the cluster test (tests/test_spark_cluster.py) and the Spark figures of ``make bench``:
the daemons come from the pip package's ``bin/spark-class`` (no separate Spark install), on
free ports, each in its own process group so :meth:`StandaloneCluster.stop` can always take
down everything they started. Every wait is bounded.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

START_TIMEOUT_S = 90.0
# What an operator puts in $SPARK_CONF_DIR/spark-defaults.conf for a small cluster: the default
# of 200 shuffle partitions turns each of the gate's ~90 small queries into hundreds of tasks
# shipped between JVMs (the gate alone then took over four minutes on two cores).
SPARK_DEFAULTS = {
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    # File scans prefer the host "localhost", executors register as 127.0.0.1: without this
    # every stage first waits the default 3 s for a "local" executor that never comes.
    "spark.locality.wait": "0s",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
LOG4J2 = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""
_REGISTERED = re.compile(r"Registering worker 127\.0\.0\.1:")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spark_home() -> Path:
    """The pip package's folder, which holds ``bin/spark-class`` and the jars."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


@dataclass
class StandaloneCluster:
    """A running master (``url``) and its workers; ``conf_dir`` holds the drivers'
    spark-defaults.conf (point ``$SPARK_CONF_DIR`` at it)."""

    url: str
    folder: Path
    conf_dir: Path
    procs: list[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> None:
        """SIGTERM each daemon's process group (spark-class execs java), then SIGKILL what is
        left after 10 s. Safe to call twice."""
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            alive = [p for p in self.procs if p.poll() is None]
            for p in alive:
                try:
                    os.killpg(p.pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + grace
            for p in alive:
                try:
                    p.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass

    def __enter__(self) -> StandaloneCluster:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _logs(folder: Path) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-1500:]}"
                     for log in sorted(folder.glob("*.log")))


def start_cluster(folder: str | Path, workers: int = 2, cores: int = 1, memory: str = "1g",
                  conf: dict | None = None, timeout_s: float = START_TIMEOUT_S) -> StandaloneCluster:
    """Start a master and ``workers`` workers (``cores`` and ``memory`` each) on 127.0.0.1,
    logging into ``folder``; return once every worker has registered with the master.

    Raises ConfigError (after stopping whatever started) when a daemon exits or the cluster
    is not up within ``timeout_s``. Call :meth:`StandaloneCluster.stop` when done.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    conf_dir = folder / "conf"
    conf_dir.mkdir(exist_ok=True)
    settings = {**SPARK_DEFAULTS, **(conf or {})}
    (conf_dir / "spark-defaults.conf").write_text("".join(f"{k} {v}\n" for k, v in settings.items()))
    (conf_dir / "log4j2.properties").write_text(LOG4J2)
    home = spark_home()
    # The daemons keep Spark's default configuration: their INFO log says when they are up.
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_LOG_DIR": str(folder), "SPARK_WORKER_DIR": str(folder / "work"),
           "SPARK_NO_DAEMONIZE": "1",
           # The master and worker daemons only schedule (executors have their own memory):
           # a small heap keeps a cluster on a shared machine bounded.
           "SPARK_DAEMON_MEMORY": os.environ.get("SPARK_DAEMON_MEMORY", "512m")}
    env.pop("SPARK_CONF_DIR", None)
    port = free_port()
    cluster = StandaloneCluster(f"spark://127.0.0.1:{port}", folder, conf_dir)
    master_log = folder / "master.log"

    def spawn(log: Path, *args: str) -> None:
        with open(log, "wb") as out:
            cluster.procs.append(subprocess.Popen(
                [str(home / "bin" / "spark-class"), *args], env=env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True))

    def wait_for(ready, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if ready():
                return
            if any(p.poll() is not None for p in cluster.procs):
                break
            time.sleep(0.5)
        cluster.stop()
        raise ConfigError(f"Spark standalone cluster in {folder}: {what} not up within "
                          f"{timeout_s:.0f} s\n{_logs(folder)}")

    try:
        spawn(master_log, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
              "--port", str(port), "--webui-port", str(free_port()))
        wait_for(lambda: "I have been elected leader" in master_log.read_text(errors="replace"),
                 "the master")
        for k in range(1, workers + 1):
            spawn(folder / f"worker{k}.log", "org.apache.spark.deploy.worker.Worker",
                  "--host", "127.0.0.1", "--cores", str(cores), "--memory", memory,
                  "--webui-port", str(free_port()), cluster.url)
        wait_for(lambda: len(_REGISTERED.findall(master_log.read_text(errors="replace"))) >= workers,
                 f"{workers} workers")
    except BaseException:
        cluster.stop()
        raise
    return cluster
