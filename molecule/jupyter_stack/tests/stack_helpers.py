"""Names and helpers of the jupyter_stack scenario: a client of the platform through the proxy.

HTTP goes through requests; the kernel websocket is spoken over a plain TLS socket (RFC 6455, text
frames only), because the test host has no websocket library. The login and kernel protocol follow
jupyter_client.py (beside this file), which runs inside the image and cannot be imported
here (it runs at import and needs websocket-client).
"""

import base64
import importlib.util
import json
import os
import re
import socket
import ssl
import struct
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import requests
import testinfra

# run_playbook() of molecule/conftest.py (shared by the scenarios), under a name of its own.
_spec = importlib.util.spec_from_file_location("molecule_shared_conftest", Path(__file__).parents[2] / "conftest.py")
_shared = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_shared)
run_playbook = _shared.run_playbook

ROOT = Path(__file__).resolve().parents[3]
SCENARIO = Path(__file__).resolve().parents[1]
MANAGER = "jupyter-stack-manager"
WORKERS = ["jupyter-stack-worker1", "jupyter-stack-worker2"]
MANAGER_IP = "10.205.0.10"
BASE = f"https://{MANAGER_IP}/"
PASSWORD = "correct horse battery staple"
SERVICE = "jupyter_jupyter"
PROXY = "jupyter_proxy"
STICKY = "JUPYTER_REPLICA"
STACK_DIR = "/etc/condaswarm/jupyter_stack"
REGISTRY = f"{MANAGER}:5000"


def node(name):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"])


def session(cafile):
    """A browser-like client: its own cookie jar, the stack's certificate as the only trust anchor."""
    s = requests.Session()
    s.verify = cafile
    # Not the environment's CA bundle (requests lets REQUESTS_CA_BUNDLE override `verify`) nor its proxies.
    s.trust_env = False
    return s


def login(s, password=PASSWORD):
    """Jupyter's form login: GET /login sets _xsrf, POST sends it back. Returns the POST's status."""
    s.get(BASE + "login", timeout=10)
    xsrf = s.cookies.get("_xsrf")
    r = s.post(BASE + "login", data={"password": password, "_xsrf": xsrf}, allow_redirects=False, timeout=10)
    return r.status_code


def api(s, method, path, body=None, timeout=10):
    headers = {"X-XSRFToken": s.cookies.get("_xsrf", "")}
    return s.request(method, BASE + path, json=body, headers=headers, timeout=timeout)


class Kernel:
    """One kernel's channels over a websocket through the proxy, with the session's cookies."""

    def __init__(self, s, kernel_id):
        url = urlsplit(BASE)
        raw = socket.create_connection((url.hostname, url.port or 443), timeout=60)
        self.sock = ssl.create_default_context(cafile=s.verify).wrap_socket(raw, server_hostname=url.hostname)
        cookies = "; ".join(f"{c.name}={c.value}" for c in s.cookies)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /api/kernels/{kernel_id}/channels HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nCookie: {cookies}\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError(f"websocket handshake cut: {head!r}")
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(f"websocket refused: {head.decode(errors='replace')}")
        self.session = uuid.uuid4().hex

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("websocket closed")
            data += chunk
        return data

    def send(self, text):
        payload = text.encode()
        mask = os.urandom(4)
        n = len(payload)
        head = b"\x81" + (
            bytes([0x80 | n])
            if n < 126
            else b"\xfe" + struct.pack("!H", n)
            if n < 65536
            else b"\xff" + struct.pack("!Q", n)
        )
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(n)
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise ConnectionError("websocket closed by the server")
            if opcode in (0x9, 0xA):  # ping/pong: nothing to answer for a short exchange
                continue
            message += payload
            if b0 & 0x80:
                return json.loads(message)

    def execute(self, code, timeout=60):
        """Run code; returns (status, stdout, error name), like jupyter_client.execute."""
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "session": self.session, "username": "test", "msg_type": "execute_request"}
        content = {"code": code, "silent": False, "store_history": True, "allow_stdin": False}
        self.send(
            json.dumps(
                {
                    "header": header | {"version": "5.3"},
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "content": content,
                }
            )
        )
        stdout, ename, status, idle = "", None, None, False
        deadline = time.time() + timeout
        while time.time() < deadline and not (status and idle):
            msg = self.recv()
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "stream":
                stdout += msg["content"]["text"]
            elif kind == "error":
                ename = msg["content"]["ename"]
            elif kind == "execute_reply":
                status = msg["content"]["status"]
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
        return status, stdout, ename

    def close(self):
        self.sock.close()


def run_in_new_kernel(s, code):
    """Start a kernel through the API, run code over its websocket, shut it down; returns execute()'s result."""
    r = api(s, "POST", "api/kernels", {"name": "python3"})
    assert r.status_code == 201, r.text
    kernel_id = r.json()["id"]
    kernel = Kernel(s, kernel_id)
    try:
        return kernel.execute(code)
    finally:
        kernel.close()
        api(s, "DELETE", f"api/kernels/{kernel_id}")


def replica_of(container_hostname):
    """(worker, container id) of the Jupyter replica whose container hostname (short id) is given."""
    for worker in WORKERS:
        host = node(worker)
        ids = host.run(f"docker ps -q --no-trunc --filter label=com.docker.swarm.service.name={SERVICE}").stdout
        for cid in ids.split():
            if cid.startswith(container_hostname):
                return worker, cid
    return None, None


def image_ref(extra_vars=None):
    """The reference jupyter_image computes for the scenario's variables plus extra_vars (no changes made)."""
    run = run_playbook(SCENARIO / "image_ref.yml", limit=MANAGER, extra_vars=extra_vars, check=True)
    assert run.rc == 0, run.output
    return re.search(r"IMAGE_REF=(\S+?)\"", run.output).group(1)
