"""The peer authorization servers of ``../shared/peers``, set up in ``bench/.peers`` and run there.

The shared folder is read-only, so its files are copied (without ``.venv``, ``node_modules``,
``run`` and ``results``) to ``bench/.peers/`` (git-ignored) and set up there as its README says:
a virtualenv with ``requirements.txt``, ``npm install`` in ``node-peer`` (oidc-provider +
ioredis, from the lock file) and ``app.py init`` for the Authlib peer (schema ``authlib_bench``
in the PostgreSQL database ``test``). Set-up runs again only when the copied requirement or lock
files change. Each peer is started and stopped with the copy's own ``peers.sh``.

Nothing here raises for a peer that cannot be set up or started: the reason is returned, so the
run goes on with the others and the tables say what happened.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
PEERS_DIR = HERE / ".peers"
EXCLUDED = (".venv", "node_modules", "run", "results", "__pycache__", "jwks.json")
CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-secret-0123456789abcdef"


@dataclass(frozen=True)
class Peer:
    name: str
    port: int
    scenarios: tuple[str, ...]
    storage: str
    what: str
    notes: str = ""


_AS = ("client_credentials", "auth_code", "refresh_token")
_DOCS = ("discovery", "jwks")
PEERS = {
    p.name: p
    for p in (
        Peer("node", 7001, (*_AS, *_DOCS), "redis", "oidc-provider 9, 1 process, JWT ES256 AT",
             "refuses to introspect JWT access tokens (see node-opaque)"),
        Peer("node2", 7001, (*_AS, *_DOCS), "redis", "oidc-provider 9, cluster x2, JWT ES256 AT",
             "refuses to introspect JWT access tokens"),
        Peer("node-opaque", 7001, ("client_credentials", "introspection", *_DOCS), "redis",
             "oidc-provider 9, 1 process, opaque AT"),
        Peer("authlib", 7002, (*_AS[:1], "introspection", *_AS[1:], *_DOCS), "postgresql",
             "Authlib 1.9 Flask, gunicorn 5 sync workers, opaque AT"),
    )
}  # fmt: skip


@dataclass
class SetupReport:
    ok: dict[str, bool] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)


def _copy(source: Path) -> None:
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    if shutil.which("rsync"):
        excludes = [f"--exclude={name}" for name in EXCLUDED]
        subprocess.run(
            ["rsync", "-a", "--chmod=u+w", *excludes, f"{source}/", f"{PEERS_DIR}/"],
            check=True,
            timeout=120,
        )
        return
    for path in source.rglob("*"):
        relative = path.relative_to(source)
        if any(part in EXCLUDED for part in relative.parts):
            continue
        target = PEERS_DIR / relative
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            if target.exists():
                target.chmod(0o644)
            shutil.copy2(path, target)
            target.chmod(target.stat().st_mode | 0o200)


def _fingerprint(*names: str) -> str:
    digest = hashlib.sha256()
    for name in names:
        path = PEERS_DIR / name
        digest.update(path.read_bytes() if path.exists() else b"-")
    return digest.hexdigest()


def _step(report: SetupReport, command: list[str], cwd: Path, timeout: float) -> str | None:
    """Run one set-up command; None on success, else the tail of its output."""
    report.log.append(f"$ (cd {cwd.relative_to(HERE.parent)} && {' '.join(command)})")
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return repr(error)
    if done.returncode != 0:
        return (done.stdout + done.stderr).strip()[-800:] or f"exit {done.returncode}"
    return None


def setup(source: Path, wanted: list[str]) -> SetupReport:
    """Copy and set up once; afterwards only what changed. Per-peer problems are reported."""
    report = SetupReport()
    if not (source / "peers.sh").exists():
        for name in wanted:
            report.problems[name] = f"no peers folder at {source}"
        return report
    _copy(source)
    python = PEERS_DIR / ".venv" / "bin" / "python"
    venv_stamp = PEERS_DIR / ".venv" / ".bench-installed"
    problem = None
    want_venv = _fingerprint("requirements.txt")
    if not python.exists() or not venv_stamp.exists() or venv_stamp.read_text() != want_venv:
        problem = _step(report, ["python3", "-m", "venv", ".venv"], PEERS_DIR, 120) or _step(
            report,
            [str(python), "-m", "pip", "install", "-q", "-r", "requirements.txt"],
            PEERS_DIR,
            900,
        )
        if problem is None:
            venv_stamp.write_text(want_venv)
    if problem is not None:
        for name in wanted:
            report.problems[name] = f"Python set-up failed: {problem}"
        return report
    node_stamp = PEERS_DIR / "node-peer" / "node_modules" / ".bench-installed"
    want_node = _fingerprint("node-peer/package.json", "node-peer/package-lock.json")
    node_problem = None
    if any(n.startswith("node") for n in wanted) and (
        not node_stamp.exists() or node_stamp.read_text() != want_node
    ):
        if shutil.which("npm") is None:
            node_problem = "npm is not installed"
        else:
            node_problem = _step(report, ["npm", "install"], PEERS_DIR / "node-peer", 900)
        if node_problem is None:
            node_stamp.write_text(want_node)
    authlib_problem = None
    if "authlib" in wanted:  # idempotent: creates what is missing
        authlib_problem = _step(
            report, [str(python), "app.py", "init"], PEERS_DIR / "authlib-peer", 120
        )
    for name in wanted:
        if name not in PEERS:
            report.problems[name] = f"unknown peer (known: {', '.join(PEERS)})"
        elif name.startswith("node") and node_problem:
            report.problems[name] = f"npm install failed: {node_problem}"
        elif name == "authlib" and authlib_problem:
            report.problems[name] = f"app.py init failed (PostgreSQL?): {authlib_problem}"
        else:
            report.ok[name] = True
    return report


def port_busy(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _log_tail(name: str) -> str:
    path = PEERS_DIR / "run" / f"{name}.log"
    try:
        return path.read_text(errors="replace").strip()[-600:]
    except OSError:
        return ""


def reset_state(name: str) -> None:
    """Start each peer on empty token tables, as tokenpath starts on a fresh database."""
    if name == "authlib":
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qc",
             "TRUNCATE authlib_bench.oauth2_token, authlib_bench.oauth2_code"],
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip


def start(name: str, wait: float = 30.0) -> tuple[int, dict[str, object]] | str:
    """(pid, discovery document) once the peer answers its discovery URL, or why not."""
    peer = PEERS[name]
    if port_busy(peer.port):
        return f"port {peer.port} is already in use (another peer or server running?)"
    reset_state(name)
    try:
        subprocess.run(
            ["./peers.sh", "start", name],
            cwd=PEERS_DIR,
            capture_output=True,
            timeout=60,
            check=True,
            env={**os.environ, "STARTUP_WAIT": "0.5"},
        )
        pid = int((PEERS_DIR / "run" / f"{name}.pid").read_text())
    except (OSError, ValueError, subprocess.SubprocessError) as error:
        return f"peers.sh start failed: {error!r} {_log_tail(name)}"
    url = f"http://127.0.0.1:{peer.port}/.well-known/openid-configuration"
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return pid, response.json()
        except httpx.HTTPError:
            pass
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.2)
    stop(name, pid)
    return f"did not answer {url} within {wait:.0f} s: {_log_tail(name)}"


def stop(name: str, pid: int | None = None) -> None:
    """``peers.sh stop``; then, bounded, make sure the process is gone and the port free."""
    subprocess.run(
        ["./peers.sh", "stop", name], cwd=PEERS_DIR, capture_output=True, timeout=60, check=False
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        alive = pid is not None and Path(f"/proc/{pid}").exists()
        if not alive and not port_busy(PEERS[name].port):
            return
        time.sleep(0.2)
    if pid is not None and Path(f"/proc/{pid}").exists():
        os.kill(pid, signal.SIGKILL)
