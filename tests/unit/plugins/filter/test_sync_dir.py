"""sync_dir_plan: whose copy of a state directory the other managers take, and who differs; sync_dir_transfer:
the secrets, mounts and jobs that carry it there."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.condaswarm.cluster.plugins.filter.sync_dir import (
    FilterModule,
    dir_signature,
    sync_dir_plan,
    sync_dir_transfer,
)


def found(*files):
    return {"files": [{"path": f"/etc/x/{name}", "checksum": checksum, "mode": mode} for name, checksum, mode in files]}


EMPTY = {"files": [], "matched": 0}
A = found(("ca.crt", "c1", "0644"), ("ca.key", "k1", "0600"))


@pytest.mark.parametrize(
    ("by_host", "order", "expected"),
    [
        (
            {"m1": A, "m2": A, "m3": A},
            ["m1", "m2", "m3"],
            {"source": "m1", "files": ["ca.crt", "ca.key"], "behind": []},
        ),
        (
            {"m1": A, "m2": EMPTY, "m3": A},
            ["m1", "m2", "m3"],
            {"source": "m1", "files": ["ca.crt", "ca.key"], "behind": ["m2"]},
        ),
        # The active manager (first of order) has nothing yet: the first that has a copy gives it.
        (
            {"m1": EMPTY, "m2": EMPTY, "m3": A},
            ["m2", "m1", "m3"],
            {"source": "m3", "files": ["ca.crt", "ca.key"], "behind": ["m2", "m1"]},
        ),
        # The active manager's copy wins over older ones elsewhere; a changed mode is a difference too.
        (
            {"m1": found(("ca.crt", "c0", "0644"), ("ca.key", "k1", "0644")), "m2": A},
            ["m2", "m1"],
            {"source": "m2", "files": ["ca.crt", "ca.key"], "behind": ["m1"]},
        ),
        # A file only the other host has is no difference.
        (
            {"m1": A, "m2": found(("ca.crt", "c1", "0644"), ("ca.key", "k1", "0600"), ("old", "o", "0600"))},
            ["m1"],
            {"source": "m1", "files": ["ca.crt", "ca.key"], "behind": []},
        ),
        (
            {"m1": EMPTY, "m2": {"failed": True, "msg": "no such dir"}},
            ["m1", "m2"],
            {"source": "", "files": [], "behind": []},
        ),
        ({}, ["m1"], {"source": "", "files": [], "behind": []}),
    ],
    ids=["same", "one-empty", "active-empty", "active-wins", "extra-file", "none", "no-host"],
)
def test_plan(by_host, order, expected):
    assert sync_dir_plan(by_host, order) == expected


def test_signature_skipped_and_failed():
    assert dir_signature({"skipped": True}) == {}
    assert dir_signature({"failed": True}) == {}
    assert dir_signature(A) == {"ca.crt": "c1 0644", "ca.key": "k1 0600"}


@pytest.mark.parametrize(("by_host", "order"), [(None, []), ({}, "m1"), ([], [])])
def test_refuses_bad_input(by_host, order):
    with pytest.raises(AnsibleFilterError, match="sync_dir_plan"):
        sync_dir_plan(by_host, order)


def test_registered():
    assert list(FilterModule().filters()) == ["sync_dir_plan", "sync_dir_transfer"]


PLAN = {"source": "m1", "files": ["ca.crt", "ca.key"], "behind": ["m2", "m3"]}


def test_transfer_mounts_each_file_with_the_source_mode():
    transfer = sync_dir_transfer(PLAN, A, "/etc/x")
    assert [f["file"] for f in transfer["files"]] == ["ca.crt", "ca.key"]
    crt, key = transfer["files"]
    assert crt["mount"] == f"source={crt['secret']},target=ca.crt,mode=0644"
    assert key["mount"] == f"source={key['secret']},target=ca.key,mode=0600"
    names = [f["secret"] for f in transfer["files"]] + list(transfer["jobs"].values())
    assert len(set(names)) == len(names)
    assert all(name.startswith("condaswarm-sync-") and len(name) <= 64 for name in names)
    assert list(transfer["jobs"]) == ["m2", "m3"]


def test_transfer_secret_follows_the_content_and_the_directory():
    first = sync_dir_transfer(PLAN, A, "/etc/x")["files"][1]["secret"]
    assert sync_dir_transfer(PLAN, A, "/etc/x")["files"][1]["secret"] == first  # a rerun finds the same secret
    changed = found(("ca.crt", "c1", "0644"), ("ca.key", "k2", "0600"))
    assert sync_dir_transfer(PLAN, changed, "/etc/x")["files"][1]["secret"] != first
    assert sync_dir_transfer(PLAN, A, "/etc/y")["files"][1]["secret"] != first


@pytest.mark.parametrize(
    ("plan", "source"),
    [({"source": "", "files": [], "behind": []}, A), ({**PLAN, "files": ["ca.crt", "gone"]}, A), (None, A)],
    ids=["no-source", "file-not-listed", "no-plan"],
)
def test_transfer_refuses_bad_input(plan, source):
    with pytest.raises(AnsibleFilterError, match="sync_dir_transfer"):
        sync_dir_transfer(plan, source, "/etc/x")
