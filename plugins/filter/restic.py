"""Filters of the restore_notebooks playbook: which restic snapshot to restore and which paths.

``snapshots | condaswarm.cluster.restic_snapshot(snapshot='latest', before='')`` picks one snapshot from
``restic snapshots --json``; ``snapshot.paths | condaswarm.cluster.restic_restore_targets(user=..., path=...,
everything=...)`` turns the playbook's input into absolute paths inside that snapshot. Both fail with a message
that names the variable to change. Tested in tests/unit/plugins/filter/test_restic_filters.py.
"""

import posixpath
import re
from datetime import UTC, datetime

from ansible.errors import AnsibleFilterError

SNAPSHOT_ID = re.compile(r"[0-9a-f]{8,64}")
# A user's directory is one name under the share: no separator, not . or .., not hidden.
USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+-]*")
# restic writes nanoseconds; datetime takes microseconds.
FRACTION = re.compile(r"(\.\d{6})\d+")


def _time(text, what):
    """A timezone-aware datetime from an ISO 8601 text; a time without an offset is UTC."""
    value = FRACTION.sub(r"\1", str(text).strip().replace(" ", "T", 1))
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise AnsibleFilterError(
            f"{what}: {text!r} is not a time such as 2026-12-01T18:00 or 2026-12-01 18:00:00+01:00"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def restic_snapshot(snapshots, snapshot="latest", before=""):
    """The snapshot to restore, from ``restic snapshots --json`` (already filtered by host and tag).

    snapshot: ``latest`` (the newest), or a snapshot ID or its unique prefix (8 hex digits or more).
    before: with ``latest``, the newest snapshot taken at or before this time instead (ISO 8601; UTC when it has
    no offset).
    """
    if not isinstance(snapshots, list):
        raise AnsibleFilterError(f"restic_snapshot expects restic's snapshot list, got {type(snapshots).__name__}")
    snapshot = str(snapshot or "latest").strip().lower()
    before = str(before or "").strip()
    if snapshot != "latest" and not SNAPSHOT_ID.fullmatch(snapshot):
        raise AnsibleFilterError(f"snapshot: {snapshot!r} is neither 'latest' nor a snapshot ID (8 to 64 hex digits)")
    if snapshot != "latest" and before:
        raise AnsibleFilterError("snapshot, before: give a snapshot ID or a time (before=...), not both")
    if not snapshots:
        raise AnsibleFilterError("snapshot: the repository has no snapshot of this job on this host")
    if snapshot != "latest":
        found = [s for s in snapshots if str(s.get("id", "")).startswith(snapshot)]
        if len(found) != 1:
            known = ", ".join(s.get("short_id", str(s.get("id", ""))[:8]) for s in snapshots)
            problem = "matches several snapshots" if found else "is not a snapshot of this job on this host"
            raise AnsibleFilterError(f"snapshot: {snapshot} {problem} (known: {known})")
        return found[0]
    candidates = snapshots
    if before:
        limit = _time(before, "before")
        candidates = [s for s in snapshots if _time(s["time"], "restic snapshot time") <= limit]
        if not candidates:
            oldest = min(snapshots, key=lambda s: _time(s["time"], "restic snapshot time"))
            raise AnsibleFilterError(
                f"before: no snapshot was taken at or before {before} (the oldest is {oldest['time']})"
            )
    return max(candidates, key=lambda s: _time(s["time"], "restic snapshot time"))


def _inside(path, root):
    return path == root or path.startswith(root.rstrip("/") + "/")


def restic_restore_targets(snapshot_paths, user="", path="", everything=False):
    """The absolute paths to restore, each inside one of the snapshot's paths.

    user: a directory directly under the snapshot's first path (the notebooks share), e.g. ``alice``.
    path: an absolute path inside one of the snapshot's paths.
    everything: every path of the snapshot.
    Exactly one of the three.
    """
    roots = [posixpath.normpath(p) for p in snapshot_paths or []]
    if not roots:
        raise AnsibleFilterError("restic_restore_targets: the snapshot has no paths")
    given = [name for name, value in (("user", user), ("path", path), ("everything", everything)) if value]
    if len(given) != 1:
        raise AnsibleFilterError(
            "user, path, everything: give exactly one (-e user=<name>, -e path=<absolute path> or -e everything=true)"
            + (f", got {', '.join(given)}" if given else "")
        )
    if everything:
        return roots
    if user:
        if not USER.fullmatch(str(user)):
            raise AnsibleFilterError(f"user: {user!r} is not a directory name (letters, digits, _ . @ + -; no /)")
        return [posixpath.join(roots[0], str(user))]
    normalised = posixpath.normpath(str(path))
    if not str(path).startswith("/") or normalised != str(path).rstrip("/") or ".." in str(path).split("/"):
        raise AnsibleFilterError(f"path: {path!r} must be absolute and normalised (no .., no //)")
    if not any(_inside(normalised, root) for root in roots):
        raise AnsibleFilterError(f"path: {path} is not inside the backed-up paths {', '.join(roots)}")
    return [normalised]


class FilterModule:
    def filters(self):
        return {"restic_snapshot": restic_snapshot, "restic_restore_targets": restic_restore_targets}
