"""file_differs and dir_differs: when a role's file or directory task has something to do."""

import sys
from pathlib import Path

import pytest

COLLECTIONS = Path(__file__).resolve().parents[4] / ".collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

from ansible.errors import AnsibleFilterError  # noqa: E402
from ansible_collections.condaswarm.cluster.plugins.filter.host_state import (  # noqa: E402
    FilterModule,
    dir_differs,
    file_differs,
)

SUM = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
FILE = {
    "exists": True,
    "type": "file",
    "mode": "0644",
    "uid": 0,
    "gid": 0,
    "owner": "root",
    "group": "root",
    "checksum": SUM,
}
DIR = {"exists": True, "type": "directory", "mode": "0755", "uid": 1000, "gid": 100, "owner": "alice", "group": "users"}
NAMELESS = {**DIR, "uid": 4242, "gid": 4343, "owner": "4242", "group": "4343"}


@pytest.mark.parametrize(
    ("state", "kwargs", "expected"),
    [
        (FILE, {}, False),
        (FILE, {"checksum": SUM, "mode": "0644", "owner": "root", "group": "root"}, False),
        (FILE, {"checksum": SUM.upper()}, False),
        (FILE, {"checksum": "0" * 40}, True),
        # Modes compare as octal numbers, whatever their spelling.
        (FILE, {"mode": "644"}, False),
        (FILE, {"mode": "0o644"}, False),
        (FILE, {"mode": 0o644}, False),
        (FILE, {"mode": "0640"}, True),
        (FILE, {"mode": "4644"}, True),
        # Owner and group: the name or the number.
        (FILE, {"owner": 0, "group": "0"}, False),
        (FILE, {"owner": "alice"}, True),
        (FILE, {"group": "adm"}, True),
        ({"exists": False}, {}, True),
        (None, {"checksum": SUM}, True),
        (DIR, {}, True),
        ({**FILE, "type": "other"}, {}, True),
    ],
)
def test_file_differs(state, kwargs, expected):
    assert file_differs(state, **kwargs) is expected


@pytest.mark.parametrize(
    ("state", "kwargs", "expected"),
    [
        (DIR, {"mode": "0755", "owner": "alice", "group": "users"}, False),
        (DIR, {"mode": "755", "owner": 1000, "group": 100}, False),
        (DIR, {"mode": "0770"}, True),
        (DIR, {"owner": "root"}, True),
        (DIR, {"group": "1000"}, True),
        (NAMELESS, {"owner": "4242", "group": 4343}, False),
        (FILE, {}, True),
        ({"exists": False}, {"mode": "0755"}, True),
        (None, {}, True),
    ],
)
def test_dir_differs(state, kwargs, expected):
    assert dir_differs(state, **kwargs) is expected


@pytest.mark.parametrize(("mode", "message"), [("rw-r--r--", "not an octal number"), (True, "not a file mode")])
def test_bad_mode(mode, message):
    with pytest.raises(AnsibleFilterError, match=message):
        file_differs(FILE, mode=mode)


def test_not_a_state_entry():
    with pytest.raises(AnsibleFilterError, match="expects an entry of host_state's files result"):
        dir_differs("/etc")


def test_registered_names():
    assert FilterModule().filters() == {"file_differs": file_differs, "dir_differs": dir_differs}
