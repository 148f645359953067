"""Filters of the limits role: what its variables may hold, checked before any host changes.

Each filter returns a list of messages, empty when all is well; every message starts with the variable it is
about (and, for a list, the index and text of the entry), so that one assert can report every mistake of a
play at once. The argument specs check types and choices first; these checks cover what they cannot express.
"""

import re
from collections import Counter

# limits.conf(5): a user, @group, %group (maxlogins), * or %, or a UID/GID range (1000:, @100:200).
DOMAIN = re.compile(r"\*|%|[@%]?[a-z_][a-zA-Z0-9_.-]*\$?|@?[0-9]*:[0-9]*")
DOMAIN_HELP = "a user, @group, %group, * or a UID/GID range (1000:, @100:200)"
# Values per item: (pattern, what the message says the item takes).
SIGNED = (re.compile(r"-?[0-9]+"), "a signed integer in -20..19")
VALUES = {
    "priority": SIGNED,
    "nice": SIGNED,
    "nonewprivs": (re.compile(r"[01]"), "0 or 1"),
}
DEFAULT_VALUE = (re.compile(r"[0-9]+|unlimited|infinity|-1"), "a non-negative integer, unlimited, infinity or -1")
SIGNED_RANGE = range(-20, 20)

# systemd-system.conf(5) DefaultLimit<NAME>=: one value or soft:hard, numbers with size suffixes or infinity.
SYSTEMD_NAMES = (
    "CPU FSIZE DATA STACK CORE RSS NOFILE AS NPROC MEMLOCK LOCKS SIGPENDING MSGQUEUE NICE RTPRIO RTTIME".split()
)
_SYSTEMD_ONE = r"(?:infinity|-?[0-9]+[KMGTPE]?)"
SYSTEMD_VALUE = re.compile(rf"{_SYSTEMD_ONE}(?::{_SYSTEMD_ONE})?")

# The runner's limits (condaswarm-ulimit's defaults): a non-negative integer, unlimited, or empty (inherited).
RUNNER_KEYS = ("address_space_kb", "open_files", "stack_kb")
RUNNER_VALUE = re.compile(r"[0-9]+|unlimited|")

# A PAM service is a file name in the PAM directory: nothing that leaves it.
PAM_SERVICE = re.compile(r"[a-z0-9][a-z0-9_.-]*")


def _text(value):
    """The value as the templates write it (None as empty); True/False are never valid values."""
    return "" if value is None else str(value)


def _entry_line(entry):
    return " ".join(_text(entry.get(key, default)) for key, default in (("domain", ""), ("type", "-"), ("item", "")))


def limits_entry_problems(entries):
    """Messages about limits_entries: a domain or value limits.conf(5) does not take, or a limit set twice.

    A '-' entry sets the soft and the hard limit, so it clashes with a soft or hard entry for the same domain
    and item; pam_limits would silently keep one of the two.
    """
    problems = []
    seen = Counter()
    for index, entry in enumerate(entries):
        value = entry.get("value")
        line = f"{_entry_line(entry)} {_text(value)}"
        where = f"limits_entries[{index}] '{line}'"
        domain = _text(entry.get("domain"))
        if not DOMAIN.fullmatch(domain):
            problems.append(f"{where}: the domain must be {DOMAIN_HELP}.")
        item = _text(entry.get("item"))
        pattern, help_text = VALUES.get(item, DEFAULT_VALUE)
        valid = not isinstance(value, bool) and pattern.fullmatch(_text(value)) is not None
        if valid and item in ("priority", "nice"):
            valid = int(value) in SIGNED_RANGE
        if not valid:
            problems.append(f"{where}: {item} takes {help_text}.")
        kind = _text(entry.get("type", "-"))
        for limit in ("soft", "hard") if kind == "-" else (kind,):
            seen[f"{domain} {limit} {item}"] += 1
    clashes = [key for key, count in seen.items() if count > 1]
    if clashes:
        problems.append(
            f"limits_entries: {', '.join(clashes)} set more than once (a '-' entry sets soft and hard);"
            " pam_limits would silently keep one of them."
        )
    return problems


def limits_systemd_problems(defaults):
    """Messages about limits_systemd_defaults: a name systemd does not know, or a value it cannot parse."""
    if not isinstance(defaults, dict):
        return ["limits_systemd_defaults: must be a dict of NAME: value."]
    return [
        f"limits_systemd_defaults: {name}={_text(value)} is not valid: names are {' '.join(SYSTEMD_NAMES)},"
        " values a number (K/M/G suffixes for sizes) or infinity, or soft:hard."
        for name, value in defaults.items()
        if name not in SYSTEMD_NAMES or isinstance(value, bool) or not SYSTEMD_VALUE.fullmatch(_text(value))
    ]


def limits_runner_problems(limits):
    """Messages about limits_runner_limits: an unknown key, or a value condaswarm-ulimit cannot pass to ulimit."""
    if not isinstance(limits, dict):
        return [f"limits_runner_limits: must be a dict (keys: {', '.join(RUNNER_KEYS)})."]
    return [
        f"limits_runner_limits: {name}={_text(value)} must be a non-negative integer, unlimited or empty"
        f" (keys: {', '.join(RUNNER_KEYS)})."
        for name, value in limits.items()
        if name not in RUNNER_KEYS or isinstance(value, bool) or not RUNNER_VALUE.fullmatch(_text(value))
    ]


def limits_pam_service_problems(services):
    """Messages about limits_pam_services: names that are not a file in the PAM directory (../shadow)."""
    bad = [_text(name) for name in services if not PAM_SERVICE.fullmatch(_text(name))]
    return [f"limits_pam_services: {', '.join(bad)} are not PAM service file names."] if bad else []


class FilterModule:
    def filters(self):
        return {
            "limits_entry_problems": limits_entry_problems,
            "limits_systemd_problems": limits_systemd_problems,
            "limits_runner_problems": limits_runner_problems,
            "limits_pam_service_problems": limits_pam_service_problems,
        }
