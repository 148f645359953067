# Copyright: condaswarm.cluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that compare an entry of host_state's ``files`` result with what a role would write.

``state.files[path] | condaswarm.cluster.file_differs(checksum=..., mode='0644', owner='root', group='root')``
is true when the role's file task has something to do; ``dir_differs`` likewise for a directory.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def _mode_number(mode, what):
    """A mode as a number: an int is taken as it is (0o644 == 420), a string as octal ('0644', '644', '0o644')."""
    if isinstance(mode, bool):
        raise AnsibleFilterError(f"{what}: mode {mode!r} is not a file mode")
    if isinstance(mode, int):
        return mode
    text = str(mode).strip().lower()
    if text.startswith("0o"):
        text = text[2:]
    try:
        return int(text, 8)
    except ValueError:
        raise AnsibleFilterError(f"{what}: mode {mode!r} is not an octal number") from None


def _id_matches(wanted, name, number):
    """Whether an owner/group given by name or number is the entry's (name, or number as text)."""
    wanted = str(wanted)
    return wanted == str(name) or wanted == str(number)


def _differs(state, kind, what, *, checksum=None, mode=None, owner=None, group=None):
    if not isinstance(state, Mapping):
        if state is None:
            return True
        raise AnsibleFilterError(f"{what}: expects an entry of host_state's files result, got {type(state).__name__}")
    if not state.get("exists") or state.get("type") != kind:
        return True
    if checksum is not None and str(state.get("checksum", "")).lower() != str(checksum).lower():
        return True
    if mode is not None and (
        state.get("mode") is None or _mode_number(state["mode"], what) != _mode_number(mode, what)
    ):
        return True
    if owner is not None and not _id_matches(owner, state.get("owner"), state.get("uid")):
        return True
    return group is not None and not _id_matches(group, state.get("group"), state.get("gid"))


def file_differs(state, checksum=None, mode=None, owner=None, group=None):
    """True when the file is missing, is not a regular file, or any attribute given differs.

    state: an entry of host_state's ``files`` result (None counts as missing).
    checksum: SHA-1 of the wanted contents (``lookup('template', ...) | sha1``).
    mode: wanted mode, compared as octal numbers ('0644' == '644' == 0o644).
    owner, group: wanted name or numeric id; either matches.
    """
    return _differs(state, "file", "file_differs", checksum=checksum, mode=mode, owner=owner, group=group)


def dir_differs(state, mode=None, owner=None, group=None):
    """True when the directory is missing, is not a directory, or any attribute given differs.

    state: an entry of host_state's ``files`` result (None counts as missing).
    mode: wanted mode, compared as octal numbers; owner, group: wanted name or numeric id.
    """
    return _differs(state, "directory", "dir_differs", mode=mode, owner=owner, group=group)


class FilterModule:
    def filters(self):
        return {"file_differs": file_differs, "dir_differs": dir_differs}
