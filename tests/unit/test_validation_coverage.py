"""Every port, count, duration and address option of every role has a negative case in argument_cases/<role>.yml.

The kind of an option comes from its argument spec, by these rules (first match wins):
  port      the name ends in _port or _ports;
  duration  the name ends in timeout, _delay, _interval, _period, _grace_time, _until, _monitor, _days or
            _healthcheck;
  address   the name ends in _address, _addresses, _addr, _addr_pool, _peers, _clients, _hostname, _tls_names or
            _subject_alt_names;
  count     any other option of type int (or a list of int), or a name ending in _replicas or _replicas_per_node.
Sub-options (nfs_server_exports' export_id) follow the same rules on their own name.

A negative case is a `bad` case whose `variable` (or one of whose `variables`) is the option (a sub-option's case
names its top-level variable in `variable` and the dotted path in `option`). So that it reaches the role's range
and form checks rather than stopping at the argument spec's type check, its value has the option's type: an int
for an int, a list of ints for a list of int, a string for a string, a dict for a dict.
test_argument_validation.py runs the cases.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = Path(__file__).parent / "argument_cases"
RULES = (
    ("port", re.compile(r"_ports?$")),
    ("duration", re.compile(r"(timeout|_delay|_interval|_period|_grace_time|_until|_monitor|_days|_healthcheck)$")),
    (
        "address",
        re.compile(r"(_address|_addresses|_addr|_addr_pool|_peers|_clients|_hostname|_tls_names|_subject_alt_names)$"),
    ),
    ("count", re.compile(r"(_replicas|_replicas_per_node)$")),
)
PYTHON_TYPES = {"int": int, "str": str, "list": list, "dict": dict, "path": str}


def kind_of(name, spec):
    """The kind of an option (port, duration, address, count), or None when it is of none of them."""
    leaf = "_" + name.rsplit(".", 1)[-1]
    for kind, rule in RULES:
        if rule.search(leaf):
            return kind
    if spec.get("type") == "int" or (spec.get("type") == "list" and spec.get("elements") == "int"):
        return "count"
    return None


def _options(options, prefix=""):
    for name, spec in (options or {}).items():
        yield prefix + name, spec
        yield from _options(spec.get("options"), f"{prefix}{name}.")


def classified():
    """{role: {option: (kind, spec)}} over every entry point of every role."""
    found = {}
    for path in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        role = path.parents[1].name
        for entry in yaml.safe_load(path.read_text())["argument_specs"].values():
            for name, spec in _options(entry.get("options")):
                kind = kind_of(name, spec)
                if kind:
                    found.setdefault(role, {})[name] = (kind, spec)
    return found


def _bad_cases(role):
    path = CASES_DIR / f"{role}.yml"
    return yaml.safe_load(path.read_text()).get("bad", []) if path.exists() else []


def _typed(value, spec):
    """True when `value` would pass the argument spec's type check of `spec` unconverted."""
    wanted = PYTHON_TYPES.get(spec.get("type"))
    if wanted is None:  # raw: anything
        return True
    if isinstance(value, bool) or not isinstance(value, wanted):
        return False
    if wanted is list and spec.get("elements") == "int":
        return all(isinstance(item, int) and not isinstance(item, bool) for item in value)
    return True


def _covered(name, spec, cases):
    top = name.split(".", 1)[0]
    for case in cases:
        named = case.get("variables") or [case.get("variable")]
        if "." in name:
            if top in named and case.get("option") == name:
                return True
        elif name in named and "option" not in case and name in case["vars"] and _typed(case["vars"][name], spec):
            return True
    return False


CLASSIFIED = classified()


def test_the_rules_find_options_of_every_kind():
    kinds = [kind for options in CLASSIFIED.values() for kind, _ in options.values()]
    counts = {kind: kinds.count(kind) for kind, _ in RULES}
    assert all(counts.values()), counts


@pytest.mark.parametrize("role", sorted(CLASSIFIED))
def test_every_port_count_duration_and_address_option_has_a_negative_case(role):
    cases = _bad_cases(role)
    missing = [
        f"{name} ({kind}, {spec.get('type')})"
        for name, (kind, spec) in sorted(CLASSIFIED[role].items())
        if not _covered(name, spec, cases)
    ]
    assert not missing, f"argument_cases/{role}.yml has no bad case of the option's type naming: " + "; ".join(missing)


@pytest.mark.parametrize("role", sorted(p.stem for p in CASES_DIR.glob("*.yml")))
def test_case_options_exist(role):
    known = {name for name, _ in _options_of(role)}
    named = {case["option"] for case in _bad_cases(role) if "option" in case}
    assert named <= known, f"argument_cases/{role}.yml names options its argument specs lack: {sorted(named - known)}"


def _options_of(role):
    spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    for entry in spec.values():
        yield from _options(entry.get("options"))
