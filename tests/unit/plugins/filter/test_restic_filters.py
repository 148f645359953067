"""The restore_notebooks playbook's filters: which snapshot, which paths, and the input they refuse."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.condaswarm.cluster.plugins.filter.restic import (
    FilterModule,
    restic_restore_targets,
    restic_snapshot,
)

# As `restic snapshots --json` (0.14) prints them, oldest first; times in nanoseconds with an offset.
SNAPSHOTS = [
    {"id": "aaaa1111" + "0" * 56, "short_id": "aaaa1111", "time": "2026-12-01T02:15:01.123456789+00:00"},
    {"id": "bbbb2222" + "0" * 56, "short_id": "bbbb2222", "time": "2026-12-01T14:00:00.5Z"},
    {"id": "bbbb3333" + "0" * 56, "short_id": "bbbb3333", "time": "2026-12-02T02:15:07.000000001+01:00"},
]
ROOTS = ["/srv/nfs/notebooks", "/srv/nfs/shared"]


@pytest.mark.parametrize(
    ("snapshot", "before", "expected"),
    [
        pytest.param("latest", "", "bbbb3333", id="latest-is-the-newest"),
        pytest.param("", None, "bbbb3333", id="empty-means-latest"),
        pytest.param("aaaa1111", "", "aaaa1111", id="by-short-id"),
        pytest.param("BBBB2222" + "0" * 56, "", "bbbb2222", id="by-full-id-any-case"),
        pytest.param("latest", "2026-12-01T14:00:00.5Z", "bbbb2222", id="before-equal-time-counts"),
        pytest.param("latest", "2026-12-01 13:59", "aaaa1111", id="before-naive-is-utc"),
        # The newest was taken at 02:15:07+01:00, that is 01:15:07 UTC.
        pytest.param("latest", "2026-12-02T01:20:00+00:00", "bbbb3333", id="before-compares-offsets"),
        pytest.param("latest", "2026-12-02T01:10:00Z", "bbbb2222", id="before-just-before-the-newest"),
    ],
)
def test_restic_snapshot_picks(snapshot, before, expected):
    assert restic_snapshot(SNAPSHOTS, snapshot, before)["short_id"] == expected


@pytest.mark.parametrize(
    ("snapshots", "snapshot", "before", "message"),
    [
        pytest.param([], "latest", "", "no snapshot of this job", id="empty-repository"),
        pytest.param(SNAPSHOTS, "bbbb", "", "neither 'latest' nor a snapshot ID", id="prefix-too-short"),
        pytest.param(SNAPSHOTS, "zzzz1111", "", "neither 'latest' nor a snapshot ID", id="not-hex"),
        pytest.param(SNAPSHOTS, "cccc1111", "", "is not a snapshot of this job", id="unknown-id"),
        pytest.param(SNAPSHOTS, "aaaa1111", "2026-12-01", "not both", id="id-and-time"),
        pytest.param(SNAPSHOTS, "latest", "2026-11-30T00:00", "no snapshot was taken at or before", id="too-early"),
        pytest.param(SNAPSHOTS, "latest", "yesterday", "before: 'yesterday' is not a time", id="bad-time"),
        pytest.param({"a": 1}, "latest", "", "expects restic's snapshot list", id="not-a-list"),
    ],
)
def test_restic_snapshot_refuses(snapshots, snapshot, before, message):
    with pytest.raises(AnsibleFilterError, match=message):
        restic_snapshot(snapshots, snapshot, before)


def test_restic_snapshot_ambiguous_prefix():
    twins = [dict(SNAPSHOTS[1]), dict(SNAPSHOTS[1], id="bbbb2222" + "1" * 56)]
    with pytest.raises(AnsibleFilterError, match="matches several snapshots"):
        restic_snapshot(twins, "bbbb2222")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({"user": "alice"}, ["/srv/nfs/notebooks/alice"], id="user-under-the-first-path"),
        pytest.param({"user": "j.doe@example"}, ["/srv/nfs/notebooks/j.doe@example"], id="user-with-dots"),
        pytest.param({"path": "/srv/nfs/shared/team"}, ["/srv/nfs/shared/team"], id="path-in-second-root"),
        pytest.param({"path": "/srv/nfs/notebooks"}, ["/srv/nfs/notebooks"], id="path-is-a-root"),
        pytest.param({"everything": True}, ROOTS, id="everything"),
    ],
)
def test_restic_restore_targets(kwargs, expected):
    assert restic_restore_targets(ROOTS, **kwargs) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({}, "give exactly one", id="nothing"),
        pytest.param({"user": "alice", "everything": True}, "got user, everything", id="two"),
        pytest.param({"user": "../etc"}, "user: '../etc' is not a directory name", id="user-escapes"),
        pytest.param({"user": "a/b"}, "is not a directory name", id="user-with-slash"),
        pytest.param({"user": ".ssh"}, "is not a directory name", id="user-hidden"),
        pytest.param({"path": "srv/nfs/notebooks"}, "must be absolute", id="relative"),
        pytest.param({"path": "/srv/nfs/notebooks/../../etc"}, "must be absolute and normalised", id="dotdot"),
        pytest.param({"path": "/srv/nfs/notebooksX"}, "is not inside the backed-up paths", id="sibling-prefix"),
        pytest.param({"path": "/etc"}, "is not inside the backed-up paths", id="outside"),
    ],
)
def test_restic_restore_targets_refuses(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        restic_restore_targets(ROOTS, **kwargs)


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"restic_snapshot", "restic_restore_targets"}
