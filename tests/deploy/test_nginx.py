"""deploy/nginx/tokenpath.conf, as shipped, in front of `tokenpath serve --workers 2`.

Debian's nginx terminates TLS on loopback with a throwaway certificate; the test changes only
what a real deployment changes too (ports, server name, certificate paths) and fails if the
file stops containing those lines, so the configuration operators copy is the one tested. A
whole authorization-code flow with PKCE then runs through it: discovery names the https origin,
the browser's requests and the client's token request pass nginx, and plain http is redirected.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "tokenpath.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PASSWORD = "correct horse battery staple"
REDIRECT_URI = "https://app.example/callback"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def _trusting(cert: Path) -> ssl.SSLContext:
    """A TLS context that trusts exactly the throwaway certificate."""
    return ssl.create_default_context(cafile=str(cert))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, valid for an hour."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"deploy/nginx/tokenpath.conf no longer has {old!r} once"
    return text.replace(old, new)


def site_for_test(*, app: int, http: int, https: int, cert: Path, key: Path) -> str:
    """The shipped site file with loopback ports, our certificate and no IPv6 listeners."""
    site = SITE.read_text()
    site = _replace_once(site, "server 127.0.0.1:8000;", f"server 127.0.0.1:{app};")
    site = _replace_once(site, "    listen 80;\n", f"    listen 127.0.0.1:{http};\n")
    site = _replace_once(
        site, "    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{https} ssl http2;\n"
    )
    site = _replace_once(site, "    listen [::]:80;\n", "")
    site = _replace_once(site, "    listen [::]:443 ssl http2;\n", "")
    site = site.replace("server_name auth.example.com;", "server_name 127.0.0.1;")
    site = _replace_once(site, "/etc/letsencrypt/live/auth.example.com/fullchain.pem", str(cert))
    site = _replace_once(site, "/etc/letsencrypt/live/auth.example.com/privkey.pem", str(key))
    return site


def main_config(directory: Path, site: Path) -> str:
    """A minimal nginx.conf that includes the site; every path under ``directory``."""
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}pid {directory / "nginx.pid"};
error_log {directory / "error.log"} warn;
events {{ worker_connections 128; }}
http {{
    access_log {directory / "access.log"};
{temp}
    include {site};
}}
"""


@dataclass
class Deployment:
    origin: str
    http_origin: str
    cert: Path
    client_id: str
    client_secret: str


def _tokenpath(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tokenpath", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _wait_until_served(url: str, cert: Path, processes: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for process in processes:
            assert process.poll() is None, process.communicate()[0]
        try:
            if httpx.get(url, verify=_trusting(cert), timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer through nginx")


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if not Path(NGINX).exists():
        require_service("nginx is not installed (Debian: apt install nginx)")
    directory = tmp_path_factory.mktemp("deploy")
    app, http, https = _free_port(), _free_port(), _free_port()
    cert, key = _certificate(directory)
    site = directory / "tokenpath.conf"
    site.write_text(site_for_test(app=app, http=http, https=https, cert=cert, key=key))
    conf = directory / "nginx.conf"
    conf.write_text(main_config(directory, site))
    origin = f"https://127.0.0.1:{https}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENPATH_")}
    env.update(
        TOKENPATH_ISSUER=origin,
        TOKENPATH_HOST="127.0.0.1",
        TOKENPATH_PORT=str(app),
        TOKENPATH_TRUSTED_PROXIES="127.0.0.1",
        TOKENPATH_DATA_DIR=str(directory / "data"),
    )
    kek = directory / "kek"
    kek.write_text(_tokenpath(env, "keys", "generate-kek"))
    kek.chmod(0o600)
    env["TOKENPATH_KEY_ENCRYPTION_KEY_FILE"] = str(kek)
    _tokenpath(env, "db", "upgrade")
    _tokenpath(env, "user", "add", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    added = _tokenpath(
        env,
        "client", "add", "--name", "Notes", "--type", "confidential",
        "--redirect-uri", REDIRECT_URI, "--scope", "openid profile",
        "--grant-type", "authorization_code", "--json",
    )  # fmt: skip
    credentials = json.loads(added)
    server = subprocess.Popen(
        [sys.executable, "-m", "tokenpath", "serve", "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    nginx = subprocess.Popen(
        [NGINX, "-p", str(directory), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_until_served(f"{origin}/.well-known/openid-configuration", cert, [server, nginx])
        yield Deployment(
            origin=origin,
            http_origin=f"http://127.0.0.1:{http}",
            cert=cert,
            client_id=credentials["client_id"],
            client_secret=credentials["client_secret"],
        )
    finally:
        nginx_output = _stop(nginx)
        server_output = _stop(server)
    assert server.returncode == 0, server_output
    assert nginx.returncode == 0, nginx_output


def _hidden_fields(html: str) -> dict[str, str]:
    return {unescape(name): unescape(value) for name, value in _HIDDEN.findall(html)}


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_discovery_names_the_public_https_origin(deployment: Deployment) -> None:
    with httpx.Client(verify=_trusting(deployment.cert)) as http:
        metadata = http.get(f"{deployment.origin}/.well-known/openid-configuration").json()
        answer = http.get(f"{deployment.origin}/jwks")
    assert metadata["issuer"] == deployment.origin
    assert metadata["token_endpoint"] == f"{deployment.origin}/token"
    assert answer.status_code == 200
    assert "max-age=" in answer.headers["strict-transport-security"]
    assert "server" not in answer.headers or "nginx/" not in answer.headers["server"]


def test_plain_http_is_sent_to_https(deployment: Deployment) -> None:
    answer = httpx.get(f"{deployment.http_origin}/authorize?client_id=x", timeout=10)
    assert answer.status_code == 301
    assert answer.headers["location"].startswith("https://")


def test_a_code_flow_completes_through_nginx(deployment: Deployment) -> None:
    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(16)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": deployment.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid profile",
            "state": state,
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    origin = deployment.origin
    with httpx.Client(
        verify=_trusting(deployment.cert), follow_redirects=False, timeout=30
    ) as http:
        login = http.get(f"{origin}/authorize?{query}")
        assert login.status_code == 200 and 'action="/login"' in login.text, login.text
        form = _hidden_fields(login.text) | {"username": "alice", "password": PASSWORD}
        answer = http.post(f"{origin}/login", data=form)
        while answer.status_code in (302, 303) and not answer.headers["location"].startswith(
            REDIRECT_URI
        ):
            answer = http.get(httpx.URL(origin).join(answer.headers["location"]))
        assert 'action="/consent"' in answer.text, answer.text
        answer = http.post(
            f"{origin}/consent", data=_hidden_fields(answer.text) | {"decision": "approve"}
        )
        assert answer.status_code == 303, answer.text
        callback = urlsplit(answer.headers["location"])
        params = parse_qs(callback.query)
        assert params["state"] == [state]
        assert params["iss"] == [origin]  # RFC 9207: the public origin, not the upstream
        tokens = http.post(
            f"{origin}/token",
            auth=(deployment.client_id, deployment.client_secret),
            data={
                "grant_type": "authorization_code",
                "code": params["code"][0],
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
        )
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["access_token"] and body["id_token"]
    assert tokens.headers["cache-control"] == "no-store"
