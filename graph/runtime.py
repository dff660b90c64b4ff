"""The managed local Neo4j Community + Graph Data Science server.

No Docker and no tarball: Maven resolves Neo4j and the open GDS modules from
Maven Central (``docker/neo4j-runtime/pom.xml``) into a cached folder, and this
module runs the server's own entry point on a JVM it finds (Java 17 or 21),
with a ``neo4j.conf`` it writes itself:

* Bolt on 127.0.0.1 only, HTTP and HTTPS off;
* authentication on, with a generated password (mode 0600 file) set through
  Neo4j's admin tool before the first start - never neo4j/neo4j;
* ``gds.*`` procedures unrestricted.

``start`` is idempotent, ``stop`` sends SIGTERM (Neo4j's clean shutdown hook)
and waits for the JVM to exit.
"""
from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from graph import cypher
from graph.config import GDS_VERSION, NEO4J_VERSION, RUNTIME_POM, ManagedPaths, managed_paths, setting
from graph.errors import Neo4jUnavailable, RuntimeSetupError

ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
ADMIN_TOOL = "org.neo4j.cli.AdminTool"
SUPPORTED_JAVA = (17, 21)
COMPLETE_MARKER = ".complete"
JVM_ROOT = Path("/usr/lib/jvm")

# What Neo4j's own launcher passes to the JVM (bin/neo4j), minus heap sizes which come from settings.
JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
    "-Djol.skipHotspotSAAttach=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
]

# Maven's words for "cannot reach the repository".
_OFFLINE_PATTERNS = re.compile(
    r"(UnknownHostException|Unknown host|Connection refused|Connect timed out|Network is unreachable|"
    r"transfer failed for|Could not transfer artifact|No route to host|connect timed out)",
    re.IGNORECASE,
)


@dataclass
class Status:
    running: bool
    pid: int | None
    bolt: str
    neo4j_version: str
    gds_version: str
    data_dir: Path
    log_file: Path
    runtime_dir: Path
    server_gds_version: str | None = None

    def lines(self) -> list[str]:
        state = f"running (pid {self.pid})" if self.running else "stopped"
        out = [
            f"managed Neo4j: {state}",
            f"bolt:          {self.bolt}",
            f"versions:      Neo4j {self.neo4j_version} Community, GDS {self.gds_version}"
            + (f" (server reports GDS {self.server_gds_version})" if self.server_gds_version else ""),
            f"data:          {self.data_dir}",
            f"log:           {self.log_file}",
            f"jars:          {self.runtime_dir}",
        ]
        return out


# ---------------------------------------------------------------- prerequisites


def _java_major(java: str) -> int | None:
    try:
        proc = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', proc.stderr + proc.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def find_java() -> str:
    """A java 17 or 21 executable: LINKWATCH_JAVA, JAVA_HOME, PATH, then /usr/lib/jvm."""
    candidates: list[str] = []
    if setting("LINKWATCH_JAVA"):
        candidates.append(setting("LINKWATCH_JAVA"))
    if os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(on_path)
    if JVM_ROOT.is_dir():
        candidates.extend(str(p / "bin" / "java") for p in sorted(JVM_ROOT.iterdir()))
    seen: list[str] = []
    for candidate in candidates:
        if candidate in seen or not Path(candidate).exists():
            continue
        seen.append(candidate)
        major = _java_major(candidate)
        if major in SUPPORTED_JAVA:
            return candidate
    found = ", ".join(f"{c} ({_java_major(c)})" for c in seen) or "none"
    raise RuntimeSetupError(
        f"no Java 17 or 21 found (Neo4j {NEO4J_VERSION} with GDS {GDS_VERSION} needs one; found: {found}); "
        "install OpenJDK 17 or set LINKWATCH_JAVA to its java executable"
    )


def ensure_runtime(paths: ManagedPaths | None = None, log=print) -> Path:
    """Resolve the Neo4j + GDS jars with Maven once; later calls reuse the cache."""
    paths = paths or managed_paths()
    if (paths.runtime / COMPLETE_MARKER).exists():
        return paths.runtime
    paths.runtime.parent.mkdir(parents=True, exist_ok=True)
    # One resolver at a time per cache folder (two commands started together on a fresh machine would
    # otherwise share, and delete, one staging folder); the second one then finds the cache complete.
    with open(paths.runtime.parent / f".resolve-{paths.runtime.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (paths.runtime / COMPLETE_MARKER).exists():
            return paths.runtime
        return _resolve_runtime(paths, log)


def _resolve_runtime(paths: ManagedPaths, log) -> Path:
    mvn = shutil.which("mvn")
    if not mvn:
        raise RuntimeSetupError("`mvn` (Apache Maven) is not on PATH; install Maven 3.6+ to resolve Neo4j and GDS")
    paths.runtime.mkdir(parents=True, exist_ok=True)
    build_log = paths.runtime.parent / f"maven-{NEO4J_VERSION}-{GDS_VERSION}.log"
    log(f"resolving Neo4j {NEO4J_VERSION} + GDS {GDS_VERSION} from Maven Central (once; log: {build_log})")
    with tempfile.TemporaryDirectory(prefix="linkwatch-mvn-") as build_dir:
        shutil.copy(RUNTIME_POM, Path(build_dir) / "pom.xml")
        staging = paths.runtime.parent / (paths.runtime.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [
            mvn, "-B", "package",
            f"-Druntime.dir={staging}",
            f"-Dneo4j.version={NEO4J_VERSION}",
            f"-Dgds.version={GDS_VERSION}",
        ]
        if setting("LINKWATCH_MAVEN_SETTINGS"):
            cmd[2:2] = ["-s", setting("LINKWATCH_MAVEN_SETTINGS")]
        with open(build_log, "w") as out:
            proc = subprocess.run(cmd, cwd=build_dir, stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        text = build_log.read_text(errors="replace")
        if _OFFLINE_PATTERNS.search(text):
            raise RuntimeSetupError(
                f"Maven Central is unreachable: could not download Neo4j/GDS jars (see {build_log}); "
                "check the network or a Maven mirror in ~/.m2/settings.xml"
            )
        raise RuntimeSetupError(f"Maven failed to resolve Neo4j {NEO4J_VERSION} + GDS {GDS_VERSION}; see {build_log}")
    # Swap the complete staging folder in, so an interrupted build never looks finished.
    shutil.rmtree(paths.runtime, ignore_errors=True)
    staging.rename(paths.runtime)
    (paths.runtime / COMPLETE_MARKER).write_text(f"neo4j {NEO4J_VERSION}\ngds {GDS_VERSION}\n")
    return paths.runtime


# ---------------------------------------------------------------- configuration


def _conf_text(paths: ManagedPaths, port: int, pagecache: str) -> str:
    return "\n".join(
        [
            "# Written by linkwatch on every start; edit LINKWATCH_* settings instead.",
            f"server.directories.data={paths.data_dir}",
            f"server.directories.logs={paths.logs_dir}",
            f"server.directories.run={paths.neo4j_home / 'run'}",
            f"server.directories.import={paths.neo4j_home / 'import'}",
            f"server.directories.plugins={paths.plugins_dir}",
            "server.default_listen_address=127.0.0.1",
            "server.default_advertised_address=127.0.0.1",
            "server.bolt.enabled=true",
            f"server.bolt.listen_address=127.0.0.1:{port}",
            f"server.bolt.advertised_address=127.0.0.1:{port}",
            "server.http.enabled=false",
            "server.https.enabled=false",
            "dbms.security.auth_enabled=true",
            f"server.memory.pagecache.size={pagecache}",
            "dbms.usage_report.enabled=false",
            "dbms.security.procedures.unrestricted=gds.*",
            "",
        ]
    )


def _write_conf(paths: ManagedPaths, port: int, pagecache: str) -> None:
    for folder in (paths.conf_dir, paths.data_dir, paths.logs_dir, paths.neo4j_home / "run", paths.neo4j_home / "import"):
        folder.mkdir(parents=True, exist_ok=True)
    (paths.conf_dir / "neo4j.conf").write_text(_conf_text(paths, port, pagecache))


def _admin_env(paths: ManagedPaths) -> dict[str, str]:
    return {**os.environ, "NEO4J_HOME": str(paths.neo4j_home), "NEO4J_CONF": str(paths.conf_dir)}


def _ensure_password(paths: ManagedPaths, java: str) -> str:
    """Generate and install the initial password the first time; afterwards read it back."""
    auth_file = paths.data_dir / "dbms" / "auth.ini"
    if paths.password_file.exists():
        if not auth_file.exists():
            _set_initial_password(paths, java, paths.password_file.read_text().strip())
        return paths.password_file.read_text().strip()
    if auth_file.exists():
        raise RuntimeSetupError(
            f"the managed Neo4j in {paths.neo4j_home} has users but the password file {paths.password_file} "
            f"is gone; restore it, or delete {paths.neo4j_home} to start over with an empty database"
        )
    password = secrets.token_urlsafe(24)
    paths.home.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    _set_initial_password(paths, java, password)
    return password


def _set_initial_password(paths: ManagedPaths, java: str, password: str) -> None:
    # "--" ends the options: a generated password may start with "-" (token_urlsafe), which the tool
    # would otherwise read as an unknown option and refuse with a usage error.
    proc = subprocess.run(
        [java, "-cp", f"{paths.lib_dir}/*", ADMIN_TOOL, "dbms", "set-initial-password", "--", password],
        env=_admin_env(paths), capture_output=True, text=True,
    )
    if proc.returncode != 0:
        output = " ".join(f"{proc.stdout or ''} {proc.stderr or ''}".split())
        raise RuntimeSetupError(f"neo4j-admin set-initial-password failed (exit code {proc.returncode}): …{output[-600:]}")


# ---------------------------------------------------------------- process control


def _read_pid(paths: ManagedPaths) -> int | None:
    try:
        pid = int(paths.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    # A recycled pid is not our JVM.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return pid
    return pid if ENTRY_POINT in cmdline and str(paths.conf_dir) in cmdline else None


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _log_file(paths: ManagedPaths) -> Path:
    return paths.logs_dir / "console.log"


def _bolt_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def _server_gds_version(port: int, password: str) -> str:
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError

    with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", password)) as driver:
        # An auto-commit query: the driver's retry loop would only add noise while polling.
        with driver.session(database="neo4j") as session:
            try:
                return session.run(cypher.query("admin/gds_version")).single()["version"]
            except AuthError as exc:
                raise Neo4jUnavailable(f"the managed Neo4j refused the stored password: {exc.message}") from exc


def _port() -> int:
    raw = setting("LINKWATCH_NEO4J_PORT")
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise RuntimeSetupError(f"LINKWATCH_NEO4J_PORT must be a TCP port number, got {raw!r}")
    return int(raw)


def running_memory() -> dict[str, str]:
    """The heap and page cache the running managed server was started with (empty when none runs): a restart
    made for maintenance (the bulk first load) passes them to ``start`` so the server comes back as it was,
    whatever LINKWATCH_NEO4J_HEAP and LINKWATCH_NEO4J_PAGECACHE say in the restarting process."""
    paths = managed_paths()
    pid = _read_pid(paths)
    if pid is None:
        return {}
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        conf = (paths.conf_dir / "neo4j.conf").read_text()
    except OSError:
        return {}
    heap = next((a[4:] for a in args if a.startswith("-Xmx")), None)
    pagecache = re.search(r"^server\.memory\.pagecache\.size=(\S+)$", conf, re.MULTILINE)
    return {"heap": heap, "pagecache": pagecache[1]} if heap and pagecache else {}


def start(log=print, heap: str | None = None, pagecache: str | None = None) -> Status:
    """Start the managed server (or find it running) and wait until GDS answers. ``heap``, ``pagecache``:
    instead of LINKWATCH_NEO4J_HEAP and LINKWATCH_NEO4J_PAGECACHE (``running_memory``)."""
    paths = managed_paths()
    port = _port()
    if _read_pid(paths) is not None:
        return status(check_server=True)
    java = find_java()
    ensure_runtime(paths, log=log)
    if _port_in_use(port):
        raise RuntimeSetupError(
            f"port 127.0.0.1:{port} is taken by another process; stop it or set LINKWATCH_NEO4J_PORT to a free port"
        )
    _write_conf(paths, port, pagecache or setting("LINKWATCH_NEO4J_PAGECACHE"))
    password = _ensure_password(paths, java)
    heap = heap or setting("LINKWATCH_NEO4J_HEAP")
    cmd = [
        java, f"-Xms{heap}", f"-Xmx{heap}", *JVM_FLAGS,
        # lib first so Neo4j's copies of shared libraries win; the plugin jar must be on the
        # class path too, because GDS's kernel extensions are found by ServiceLoader.
        "-cp", f"{paths.lib_dir}/*:{paths.plugins_dir}/*",
        ENTRY_POINT, f"--home-dir={paths.neo4j_home}", f"--config-dir={paths.conf_dir}", "--console-mode",
    ]
    log_path = _log_file(paths)
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=paths.neo4j_home)
    paths.pid_file.write_text(f"{proc.pid}\n")
    log(f"starting Neo4j {NEO4J_VERSION} + GDS {GDS_VERSION} on bolt://127.0.0.1:{port} (pid {proc.pid})")
    deadline = time.monotonic() + float(setting("LINKWATCH_NEO4J_START_TIMEOUT"))
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            paths.pid_file.unlink(missing_ok=True)
            raise RuntimeSetupError(
                f"the Neo4j JVM exited with code {proc.returncode} during start; read {log_path} "
                f"and {paths.logs_dir / 'debug.log'}"
            )
        if not _bolt_accepts(port):
            time.sleep(0.5)
            continue
        try:
            _server_gds_version(port, password)
            return status(check_server=True)
        except Neo4jUnavailable:
            stop()
            raise
        except Exception as exc:  # not up yet: ServiceUnavailable, procedure not yet registered, ...
            last_error = exc
            time.sleep(1.0)
    stop()
    raise RuntimeSetupError(
        f"Neo4j did not answer on 127.0.0.1:{port} within {setting('LINKWATCH_NEO4J_START_TIMEOUT')} s "
        f"(last error: {last_error}); read {log_path}"
    )


def stop(timeout: float = 90.0) -> bool:
    """Stop the managed server cleanly. Returns False when it was not running."""
    paths = managed_paths()
    pid = _read_pid(paths)
    if pid is None:
        paths.pid_file.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.3)
    else:
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.1)
    paths.pid_file.unlink(missing_ok=True)
    return True


def _alive(pid: int) -> bool:
    try:
        # Reap it if it is our child (start() and stop() in one process, as in tests).
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        return state != "Z"
    except OSError:
        return True


def status(check_server: bool = False) -> Status:
    paths = managed_paths()
    pid = _read_pid(paths)
    result = Status(
        running=pid is not None,
        pid=pid,
        bolt=f"bolt://127.0.0.1:{setting('LINKWATCH_NEO4J_PORT')}",
        neo4j_version=NEO4J_VERSION,
        gds_version=GDS_VERSION,
        data_dir=paths.data_dir,
        log_file=_log_file(paths),
        runtime_dir=paths.runtime,
    )
    if check_server and pid is not None and paths.password_file.exists():
        result.server_gds_version = _server_gds_version(_port(), paths.password_file.read_text().strip())
    return result
