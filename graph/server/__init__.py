"""Neo4j 5.26 LTS run by the project itself, from Maven Central artifacts on the JDK.

``pom.xml`` resolves the community DBMS; ``Neo4jLauncher.java`` runs it embedded with
Bolt on a loopback address. The functions here resolve the jars once, start the launcher
detached, wait until Bolt answers, and stop it cleanly so the store is intact next time.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import neo4j
from neo4j.exceptions import AuthError, ServiceUnavailable

from fraudgraph.settings import REPO_ROOT, Settings

SERVER_DIR = Path(__file__).resolve().parent
POM = SERVER_DIR / "pom.xml"
LAUNCHER = SERVER_DIR / "Neo4jLauncher.java"
# The resolved jars, shared by every server of this checkout (dev, tests, benchmarks).
DIST_DIR = REPO_ROOT / "var" / "neo4j-dist"
# The JVM flags Neo4j's own start script passes on JDK 17.
JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
)


class ServerError(RuntimeError):
    """Neo4j could not be resolved, started or stopped; the message says why."""


@dataclass(frozen=True)
class ServerStatus:
    managed: bool
    running: bool
    uri: str
    pid: int | None
    home: Path | None
    detail: str


@dataclass(frozen=True)
class _Paths:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "home"

    @property
    def pid_file(self) -> Path:
        return self.root / "neo4j.pid"

    @property
    def ready_file(self) -> Path:
        return self.root / "neo4j.ready"

    @property
    def log(self) -> Path:
        return self.root / "launcher.log"


def _artifacts_stamp() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()[:16]


def resolve_artifacts(root: Path = DIST_DIR) -> Path:
    """Copy the Neo4j jars from Maven Central into ``root/lib`` once (re-done when the pom
    changes) and return that folder."""
    lib = root / "lib"
    stamp = lib / ".resolved"
    if stamp.exists() and stamp.read_text() == _artifacts_stamp():
        return lib
    root.mkdir(parents=True, exist_ok=True)
    # Two processes (pytest workers, a test beside a demo) must not run Maven at once:
    # both would write the same files in ~/.m2 and one of them fails.
    with open(root / ".resolve.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == _artifacts_stamp():
            return lib
        return _resolve(root, lib, stamp)


def _resolve(root: Path, lib: Path, stamp: Path) -> Path:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServerError("Maven (mvn) is not on PATH; it resolves the Neo4j jars")
    staging = root / "lib.partial"
    root.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
           f"-DoutputDirectory={staging}", "-DincludeScope=runtime"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ServerError(f"resolving Neo4j from Maven Central failed:\n{done.stdout}{done.stderr}")
    shutil.rmtree(lib, ignore_errors=True)
    staging.rename(lib)
    stamp.write_text(_artifacts_stamp())
    return lib


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def _read_pid(paths: _Paths) -> int | None:
    try:
        pid = int(paths.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid) else None


def bolt_answers(uri: str, user: str, password: str) -> bool:
    """Whether a Neo4j server answers on ``uri`` with these credentials."""
    try:
        with neo4j.GraphDatabase.driver(uri, auth=(user, password),
                                        connection_timeout=2.0) as driver:
            driver.verify_connectivity()
        return True
    except (ServiceUnavailable, OSError):
        return False
    except AuthError as exc:
        raise ServerError(f"Neo4j at {uri} refused the configured credentials: {exc}") from exc


def status(settings: Settings) -> ServerStatus:
    """What is running, without starting anything."""
    password = settings.neo4j_password.get_secret_value()
    if not settings.manages_neo4j:
        up = bolt_answers(settings.bolt_uri, settings.neo4j_user, password)
        return ServerStatus(False, up, settings.bolt_uri, None, None, "external server (NEO4J_URI)")
    paths = _Paths(settings.neo4j_home_dir)
    pid = _read_pid(paths)
    up = pid is not None and bolt_answers(settings.bolt_uri, settings.neo4j_user, password)
    detail = "running" if up else ("starting or unresponsive" if pid else "stopped")
    return ServerStatus(True, up, settings.bolt_uri, pid, paths.data, detail)


def start(settings: Settings, timeout_s: float = 180.0) -> ServerStatus:
    """Start the project's Neo4j unless it (or an external NEO4J_URI server) already runs."""
    password = settings.neo4j_password.get_secret_value()
    if len(password) < 8:
        raise ServerError("NEO4J_PASSWORD must be set (8+ characters); ./run writes one "
                          "to var/fraudgraph.env")
    current = status(settings)
    if not settings.manages_neo4j:
        if not current.running:
            raise ServerError(f"NEO4J_URI={settings.bolt_uri} does not answer")
        return current
    if current.running:
        return current
    paths = _Paths(settings.neo4j_home_dir)
    if current.pid is None and bolt_answers(settings.bolt_uri, settings.neo4j_user, password):
        raise ServerError(f"another Neo4j already listens on {settings.bolt_uri}; stop it or "
                          "set FRAUDGRAPH_NEO4J_PORT")
    if current.pid is None:
        _spawn(settings, paths, password)
    return _wait_until_up(settings, paths, password, timeout_s)


def _spawn(settings: Settings, paths: _Paths, password: str) -> None:
    lib = resolve_artifacts()
    java = shutil.which("java")
    if java is None:
        raise ServerError("java (JDK 17) is not on PATH")
    paths.data.mkdir(parents=True, exist_ok=True)
    paths.ready_file.unlink(missing_ok=True)
    cmd = [java, f"-Xmx{settings.neo4j_heap}", f"-Xms{settings.neo4j_heap}", *JVM_FLAGS,
           "-cp", f"{lib}/*", str(LAUNCHER), str(paths.data), settings.neo4j_host,
           str(settings.neo4j_port), settings.neo4j_pagecache, str(paths.ready_file),
           str(settings.neo4j_min_replan_interval_s)]
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEO4J_")}
    env["NEO4J_PASSWORD"] = password
    with paths.log.open("ab") as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    paths.pid_file.write_text(str(process.pid))


def _wait_until_up(settings: Settings, paths: _Paths, password: str,
                   timeout_s: float) -> ServerStatus:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pid = _read_pid(paths)
        if pid is None:
            tail = paths.log.read_text(errors="replace")[-3000:] if paths.log.exists() else ""
            raise ServerError(f"Neo4j exited while starting; {paths.log} ends with:\n{tail}")
        ready = paths.ready_file.exists()
        if ready and bolt_answers(settings.bolt_uri, settings.neo4j_user, password):
            return ServerStatus(True, True, settings.bolt_uri, pid, paths.data, "running")
        time.sleep(0.5)
    raise ServerError(f"Neo4j did not answer on {settings.bolt_uri} within {timeout_s:.0f}s; "
                      f"see {paths.log}")


def stop(settings: Settings, timeout_s: float = 60.0) -> ServerStatus:
    """Stop the project's Neo4j cleanly (the shutdown hook flushes the store)."""
    if not settings.manages_neo4j:
        return status(settings)
    paths = _Paths(settings.neo4j_home_dir)
    pid = _read_pid(paths)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _pid_alive(pid):
            raise ServerError(f"Neo4j (pid {pid}) did not stop within {timeout_s:.0f}s")
    paths.pid_file.unlink(missing_ok=True)
    return ServerStatus(True, False, settings.bolt_uri, None, paths.data, "stopped")


# ------------------------------------------------------------- offline import


def store_dir(settings: Settings) -> Path:
    """Where the project's own server keeps its databases (wiped with them)."""
    return _Paths(settings.neo4j_home_dir).data

#: The importer's memory outside its Java heap (its default is 90% of the machine's; at
#: 1g it estimated it needed slightly more). The server is stopped while it runs.
IMPORT_OFF_HEAP = "2g"
IMPORT_HEAP = "1g"


@dataclass(frozen=True)
class ImportInput:
    """One group of the importer's input: a label (nodes) or a relationship type, and its
    files, the header file first."""

    name: str
    files: tuple[Path, ...]


def import_store(settings: Settings, nodes: list[ImportInput], relationships: list[ImportInput],
                 log_path: Path, duplicates: int) -> str:
    """Build the database's store from CSV files with Neo4j's offline importer
    (``neo4j-admin database import full``), replacing what is there. The server must be
    stopped (the importer takes the store's lock). Returns the importer's closing summary;
    raises ``ServerError`` with the end of its output when it fails.

    Duplicate node ids are skipped, not errors: an identifier shared by many applications
    is written once per application and stored once (the first one read wins, as with
    MERGE ... ON CREATE SET). The importer counts each skipped duplicate as a bad entry,
    so ``duplicates`` (at most that many) sets its tolerance; the caller checks the counts
    of what was stored, which is what shows any other entry it skipped."""
    if not settings.manages_neo4j:
        raise ServerError("the offline importer writes the store of the project's own Neo4j; "
                          f"NEO4J_URI={settings.bolt_uri} is an external server")
    paths = _Paths(settings.neo4j_home_dir)
    if _read_pid(paths) is not None:
        raise ServerError("stop Neo4j before importing: the importer needs the store's lock")
    lib = resolve_artifacts()
    java = shutil.which("java")
    if java is None:
        raise ServerError("java (JDK 17) is not on PATH")
    conf = paths.root / "import-conf"  # empty: the store layout is the launcher's default
    conf.mkdir(parents=True, exist_ok=True)
    paths.data.mkdir(parents=True, exist_ok=True)
    cmd = [java, f"-Xmx{IMPORT_HEAP}", *JVM_FLAGS, "-cp", f"{lib}/*", "org.neo4j.cli.AdminTool",
           "database", "import", "full", settings.neo4j_database,
           "--overwrite-destination=true", "--skip-duplicate-nodes=true",
           # Skipped duplicates would each be logged; the caller checks the counts instead.
           "--skip-bad-entries-logging=true", f"--bad-tolerance={max(duplicates, 0)}",
           "--ignore-empty-strings=true",
           f"--max-off-heap-memory={IMPORT_OFF_HEAP}", f"--report-file={log_path}.bad"]
    cmd += [f"--nodes={g.name}={','.join(map(str, g.files))}" for g in nodes]
    cmd += [f"--relationships={g.name}={','.join(map(str, g.files))}" for g in relationships]
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEO4J_")}
    env.update(NEO4J_HOME=str(paths.data), NEO4J_CONF=str(conf))
    with log_path.open("wb") as log:
        done = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                              stdin=subprocess.DEVNULL, check=False)
    output = log_path.read_text(errors="replace")
    bad = Path(f"{log_path}.bad")
    if bad.exists() and not bad.stat().st_size:  # nothing rejected was logged
        bad.unlink()
    if done.returncode != 0 or "IMPORT DONE" not in output:
        raise ServerError(f"the Neo4j importer failed (exit {done.returncode}); "
                          f"{log_path} ends with:\n{output[-3000:]}")
    return output[output.rindex("IMPORT DONE"):].strip()
