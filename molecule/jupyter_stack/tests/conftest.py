"""Fixtures of the jupyter_stack scenario."""

import pytest
from stack_helpers import MANAGER, STACK_DIR, login, node, session


@pytest.fixture(scope="session")
def manager():
    return node(MANAGER)


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
    assert login(s) == 302
    return s


@pytest.fixture(scope="session")
def report(pytestconfig):
    """Print a measured figure to the scenario's log, past pytest's output capture."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")

    def _report(line):
        with capture.global_and_fixture_disabled():
            print(f"\nFIGURE {line}")

    return _report
