"""A Jupyter client run inside a container next to the server: it speaks HTTP and the kernel
websocket protocol with the libraries the image already has (urllib, websocket-client) and prints
one JSON document of what it saw. Usage: python jupyter_client.py BASE_URL PASSWORD ALLOC_BYTES"""

import http.cookiejar
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import websocket

base, password, alloc = sys.argv[1].rstrip("/") + "/", sys.argv[2], int(sys.argv[3])
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


no_redirect = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)


def request(path, data=None, method=None, headers=None, client=opener):
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    try:
        with client.open(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def cookie(name):
    return next((c.value for c in jar if c.name == name), None)


out = {}
out["api"] = request("api")
out["contents_anonymous"] = request("api/contents")[0]

request("login")  # sets the _xsrf cookie
xsrf = cookie("_xsrf")
form = urllib.parse.urlencode({"password": "wrong-" + password, "_xsrf": xsrf}).encode()
out["login_wrong"] = request("login", form, client=no_redirect)[0]
out["contents_after_wrong"] = request("api/contents")[0]
form = urllib.parse.urlencode({"password": password, "_xsrf": xsrf}).encode()
out["login"] = request("login", form, client=no_redirect)[0]
out["contents"] = request("api/contents")[0]

hdrs = {"X-XSRFToken": xsrf, "Content-Type": "application/json"}
status, body = request("api/kernels", json.dumps({"name": "python3"}).encode(), "POST", hdrs)
out["kernel_start"] = status
kernel = json.loads(body)
out["kernel_name"] = kernel["name"]

ws_url = base.replace("http", "ws", 1) + f"api/kernels/{kernel['id']}/channels"
ws = websocket.create_connection(
    ws_url, header=[f"Cookie: {'; '.join(f'{c.name}={c.value}' for c in jar)}"], timeout=60
)
session = uuid.uuid4().hex


def execute(code):
    """Run code in the kernel; returns (status, stdout, error name)."""
    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "session": session,
                    "username": "test",
                    "msg_type": "execute_request",
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "channel": "shell",
                "content": {"code": code, "silent": False, "store_history": False, "allow_stdin": False},
            }
        )
    )
    stdout, ename, status, idle = "", None, None, False
    deadline = time.time() + 120
    while time.time() < deadline and not (status and idle):
        msg = json.loads(ws.recv())
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


out["limits"] = execute(
    "import json, os, resource\n"
    "print(json.dumps({'uid': os.getuid(), 'gid': os.getgid(), 'pid': os.getpid(),"
    " 'as': resource.getrlimit(resource.RLIMIT_AS), 'nofile': resource.getrlimit(resource.RLIMIT_NOFILE),"
    " 'stack': resource.getrlimit(resource.RLIMIT_STACK)}))"
)
# What the scenario's environment spec installs (jupyter_server, ipykernel), imported by the kernel.
out["environment"] = execute("import ipykernel, jupyter_server; print(sum(range(10)))")
out["alloc"] = execute(f"x = bytearray({alloc})")
out["after_alloc"] = execute("print('still-alive')")
ws.close()
out["api_after"] = request("api")[0]
out["kernel_state"] = json.loads(request(f"api/kernels/{kernel['id']}")[1]).get("execution_state")
print(json.dumps(out))
