"""Fixtures of the jupyter_stack scenario."""

import time

import pytest
from stack_helpers import BASE, MANAGER, PASSWORD, STACK_DIR, image_ref, login, node, session


@pytest.fixture(scope="session")
def manager():
    return node(MANAGER)


@pytest.fixture(scope="session")
def ref():
    """The Jupyter image the scenario's variables make (the one the stack runs)."""
    return image_ref()


@pytest.fixture(scope="session")
def password_hash(manager, ref):
    """The password hashed by the image's own jupyter_server (argon2)."""
    return manager.check_output(
        f"docker run --rm {ref} python -c "
        f"\"from jupyter_server.auth import passwd; print(passwd('{PASSWORD}', algorithm='argon2'))\""
    ).strip()


@pytest.fixture(scope="session")
def cafile(manager, tmp_path_factory):
    """The proxy's self-signed certificate, the only thing the test clients trust."""
    path = tmp_path_factory.mktemp("tls") / "stack.crt"
    path.write_text(manager.check_output(f"cat {STACK_DIR}/tls.crt") + "\n")
    return str(path)


@pytest.fixture(scope="module")
def user(cafile):
    """A logged-in browser session."""
    s = session(cafile)
    # The platform answers before the login is tried (a node restarted by an earlier test may still be
    # settling); the login itself must then work at once.
    deadline = time.time() + 60
    while s.get(BASE + "api", timeout=10).status_code != 200 and time.time() < deadline:
        time.sleep(1)
    assert login(s) == 302
    return s
