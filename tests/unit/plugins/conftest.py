"""Fixtures for the module unit tests: the collection on sys.path, module runners, a fake Docker API and clock."""

import sys
from pathlib import Path

import pytest

# .collections/ansible_collections/condaswarm/cluster is a link to this checkout; the venv's
# site-packages/ansible_collections (a namespace package) holds the community collections.
COLLECTIONS = Path(__file__).resolve().parents[3] / ".collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
# The fakes live next to the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import docker  # noqa: E402
from ansible.module_utils import basic  # noqa: E402
from ansible.module_utils.testing import patch_module_args  # noqa: E402
from ansible_collections.condaswarm.cluster.plugins.module_utils import swarm as swarm_utils  # noqa: E402
from swarm_fakes import FakeAPIClient, FakeClock  # noqa: E402


class AnsibleExitJson(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class AnsibleFailJson(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


def _exit_json(self, **kwargs):
    kwargs.setdefault("changed", False)
    raise AnsibleExitJson(kwargs)


def _fail_json(self, msg, **kwargs):
    kwargs["failed"] = True
    kwargs["msg"] = msg
    raise AnsibleFailJson(kwargs)


@pytest.fixture(autouse=True)
def _module_exits(monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail_json)


@pytest.fixture
def clock(monkeypatch):
    """Time stands still except when the code under test sleeps: waits are instant and measurable."""
    fake = FakeClock()
    monkeypatch.setattr(swarm_utils, "now", fake.now)
    monkeypatch.setattr(swarm_utils, "sleep", fake.sleep)
    return fake


@pytest.fixture
def fake_docker(monkeypatch, clock):
    """A FakeAPIClient that every `docker.APIClient(...)` of the modules receives."""
    fake = FakeAPIClient(clock)

    def factory(**kwargs):
        fake.client_kwargs = kwargs
        return fake

    monkeypatch.setattr(docker, "APIClient", factory)
    return fake


def _run(main, args, check_mode=False, diff=False):
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args):
        try:
            main()
        except AnsibleExitJson as exc:
            return exc.result
        except AnsibleFailJson as exc:
            return exc.result
    raise AssertionError("the module returned without calling exit_json or fail_json")


@pytest.fixture
def run_module():
    """run_module(main, args, check_mode=False, diff=False) -> the exit_json / fail_json keyword arguments."""
    return _run
