"""Range and form checks of the roles' port, count, duration and address variables (each role's tasks/validate.yml).

One place for what every role checks the same way: ``[{name, value, kind, ...}] | condaswarm.cluster.input_problems``
returns one message per bad value, naming the variable and the value. Argument specs check types only (and an
``int`` option given as a string of digits passes them unchanged), so digit strings count as integers here too.

Kinds and their keys:
  port          1-65535 (``min``/``max`` narrow it, ``zero: true`` also allows 0 meaning "the default").
  int           an integer of ``min`` (default 0) to ``max`` (default none); ``unit`` names it in the message.
  go_duration   a Go duration as Docker and compose take it (2s, 500ms, 1m30s); ``nonzero: true`` refuses 0s.
  haproxy_time  an HAProxy time (a whole number and a unit: 500ms, 2s, 1m), above zero.
  ipv4, ip      a bare IPv4 / IPv4-or-IPv6 address (no prefix, no port).
  host          a host name (RFC 1123: letters, digits, hyphens, dots; no underscore, no port) or an IP address;
                ``wildcard: true`` also allows *.example.org (certificate names).
  ipv4_network  an IPv4 network in CIDR form with its host bits zero (10.10.0.0/16).
A list value is checked element by element (``*_ports``, ``*_peers``...); ``empty: true`` lets an empty string
through (the roles' "empty means derived" defaults).

Tested in tests/unit/plugins/filter/test_inputs.py.
"""

import ipaddress
import json
import re

from ansible.errors import AnsibleFilterError

# Go's time.ParseDuration without a sign: numbers with optional fractions, each with a unit ("0" alone too).
_GO_DURATION = re.compile(r"^(0|([0-9]+([.][0-9]+)?(ns|us|µs|ms|s|m|h))+)$")
# HAProxy's <time>: digits and a unit (a missing unit means ms there, which is refused as a likely mistake).
_HAPROXY_TIME = re.compile(r"^[0-9]+(us|ms|s|m|h|d)$")
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def _shown(value):
    text = json.dumps(value, default=str) if not isinstance(value, int) or isinstance(value, bool) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _integer(value):
    """The integer a value stands for (an int, or a string of digits as an inventory may give it), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.match(r"^\s*-?[0-9]+\s*$", value):
        return int(value)
    return None


def _int_problem(value, low, high, what):
    number = _integer(value)
    bounds = f"{low}-{high}" if high is not None else f"{low} or more"
    if number is None:
        return f"is not {what} ({bounds})"
    if number < low or (high is not None and number > high):
        return f"is out of range ({bounds})"
    return None


def _host_name(value):
    name = value[:-1] if value.endswith(".") else value
    return 0 < len(name) <= 253 and all(_HOST_LABEL.match(label) for label in name.split("."))


def _address(value, versions):
    try:
        return ipaddress.ip_address(value).version in versions
    except ValueError:
        return False


def _port(value, check):
    if check.get("zero") and _integer(value) == 0:
        return None
    problem = _int_problem(value, check.get("min", 1), check.get("max", 65535), "a port")
    return problem.replace("is out of range", "is not a port") if problem else None


def _int(value, check):
    what = f"a whole number of {check['unit']}" if check.get("unit") else "a whole number"
    return _int_problem(value, check.get("min", 0), check.get("max"), what)


def _go_duration(value, check):
    if not _GO_DURATION.match(value):
        return "is not a duration such as 2s, 500ms or 1m30s"
    if check.get("nonzero") and not re.search(r"[1-9]", value):
        return "is not a duration above zero"
    return None


def _haproxy_time(value, _check):
    if _HAPROXY_TIME.match(value) and re.search(r"[1-9]", value):
        return None
    return "is not an HAProxy time above zero, a whole number and a unit (500ms, 2s, 1m)"


def _ipv4(value, _check):
    return None if _address(value, (4,)) else "is not an IPv4 address (a bare address, no prefix or port)"


def _ip(value, _check):
    return None if _address(value, (4, 6)) else "is not an IP address (a bare address, no prefix or port)"


def _host(value, check):
    name = value[2:] if check.get("wildcard") and value.startswith("*.") else value
    if _address(value, (4, 6)) or _host_name(name):
        return None
    return "is neither a host name (letters, digits, - and dots; no port) nor an IP address"


def _ipv4_network(value, _check):
    try:
        network = ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        return "is not an IPv4 network in CIDR form (10.10.0.0/16)"
    if "/" not in value or str(network) != value:
        return f"is not an IPv4 network in CIDR form with its host bits zero ({network})"
    return None


_NUMBERS = {"port": _port, "int": _int}
_STRINGS = {
    "go_duration": _go_duration,
    "haproxy_time": _haproxy_time,
    "ipv4": _ipv4,
    "ip": _ip,
    "host": _host,
    "ipv4_network": _ipv4_network,
}
_KINDS = (*_NUMBERS, *_STRINGS)


def _problem(value, check):
    """What is wrong with one value under `check` (a phrase to follow the value), or None."""
    kind = check["kind"]
    if kind in _NUMBERS:
        return _NUMBERS[kind](value, check)
    if not isinstance(value, str):
        return f"is not a string ({kind})"
    if check.get("empty") and value == "":
        return None
    return _STRINGS[kind](value, check)


def input_problems(checks):
    """One message per bad value of `checks` (a list of {name, value, kind, ...}, see the module's docstring)."""
    if not isinstance(checks, list):
        raise AnsibleFilterError("input_problems: expects a list of {name, value, kind} checks")
    problems = []
    for check in checks:
        if not isinstance(check, dict) or check.get("kind") not in _KINDS or not check.get("name"):
            raise AnsibleFilterError(f"input_problems: a check needs a name and a kind of {', '.join(_KINDS)}: {check}")
        name, value = check["name"], check.get("value")
        if isinstance(value, list):
            bad = [item for item in value if _problem(item, check)]
            if bad:
                problems.append(f"{name}: {_shown(bad[0])} {_problem(bad[0], check)}.")
            continue
        problem = _problem(value, check)
        if problem:
            problems.append(f"{name}: {_shown(value)} {problem}.")
    return problems


class FilterModule:
    def filters(self):
        return {"input_problems": input_problems}
