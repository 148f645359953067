"""The limits role's validation filters: each bad value is reported naming its variable (and entry), good ones pass."""

import pytest
from ansible_collections.condaswarm.cluster.plugins.filter.limits import (
    FilterModule,
    limits_entry_problems,
    limits_pam_service_problems,
    limits_runner_problems,
    limits_systemd_problems,
)


def _entry(domain="@jupyter", item="nofile", value=1024, **extra):
    return {"domain": domain, "item": item, "value": value, **extra}


@pytest.mark.parametrize(
    "entry",
    [
        _entry("*", "core", 0, type="soft"),
        _entry("@jupyter", "as", "unlimited"),
        _entry("%students", "maxlogins", 4),
        _entry("1000:", "nproc", 4096, type="hard"),
        _entry("@100:200", "nofile", "infinity", type="hard"),
        _entry("alice", "nice", -5, type="soft"),
        _entry("alice", "nice", 19, type="hard"),
        _entry("alice", "priority", -20),
        _entry("bob", "memlock", -1),
        _entry("bob", "nonewprivs", 1),
        _entry("svc$", "priority", "10"),
        _entry("%", "maxsyslogins", 100),
    ],
    ids=lambda e: f"{e['domain']}-{e['item']}-{e['value']}",
)
def test_valid_entry_has_no_problem(entry):
    assert limits_entry_problems([entry]) == []


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        (_entry(value="abc", type="soft"), "nofile takes a non-negative integer, unlimited, infinity or -1."),
        (_entry(value=True), "nofile takes a non-negative integer"),
        (_entry(value=None), "nofile takes a non-negative integer"),
        (_entry(value=-2), "nofile takes a non-negative integer"),
        # A value that would put a second line into limits.conf.
        (_entry(item="as", value="4194304\n* - nofile 1"), "as takes a non-negative integer"),
        (_entry(item="as", value="4194304\n"), "as takes a non-negative integer"),
        (_entry(item="nice", value="unlimited"), "nice takes a signed integer in -20..19."),
        (_entry(item="nice", value=20), "nice takes a signed integer in -20..19."),
        (_entry(item="priority", value=-30), "priority takes a signed integer in -20..19."),
        (_entry(item="nonewprivs", value=2), "nonewprivs takes 0 or 1."),
        (_entry(domain="jupyter users"), "the domain must be a user, @group, %group, * or a UID/GID range"),
        (_entry(domain="Alice"), "the domain must be"),
        (_entry(domain=""), "the domain must be"),
    ],
    ids=[
        "nofile-abc",
        "boolean",
        "none",
        "negative",
        "second-line",
        "trailing-newline",
        "nice-unlimited",
        "nice-20",
        "priority-minus-30",
        "nonewprivs-2",
        "domain-space",
        "domain-upper-case",
        "domain-empty",
    ],
)
def test_bad_entry_is_named_with_its_index_and_line(entry, says):
    problems = limits_entry_problems([_entry("bob", "nproc", 100), entry])
    assert len(problems) == 1, problems
    value = "" if entry["value"] is None else entry["value"]
    line = f"{entry['domain']} {entry.get('type', '-')} {entry['item']} {value}"
    assert problems[0].startswith(f"limits_entries[1] '{line}': ")
    assert says in problems[0]


def test_bad_domain_and_value_in_one_entry_are_both_reported():
    problems = limits_entry_problems([_entry(domain="a b", value="lots")])
    assert [p.split(": ", 1)[1].split(" ")[:2] for p in problems] == [["the", "domain"], ["nofile", "takes"]]


@pytest.mark.parametrize(
    ("entries", "clashes"),
    [
        ([_entry("alice"), _entry("alice", type="soft", value=512)], "alice soft nofile"),
        ([_entry("alice", type="hard"), _entry("alice", type="hard", value=2048)], "alice hard nofile"),
        ([_entry("alice"), _entry("alice", value=2)], "alice soft nofile, alice hard nofile"),
    ],
    ids=["dash-and-soft", "hard-twice", "dash-twice"],
)
def test_limit_set_twice_is_one_problem_naming_the_keys(entries, clashes):
    assert limits_entry_problems(entries) == [
        f"limits_entries: {clashes} set more than once (a '-' entry sets soft and hard);"
        " pam_limits would silently keep one of them."
    ]


@pytest.mark.parametrize(
    "entries",
    [
        [_entry("alice", type="soft"), _entry("alice", type="hard")],
        [_entry("alice"), _entry("bob")],
        [_entry("alice"), _entry("alice", item="nproc")],
        [],
    ],
    ids=["soft-and-hard", "two-domains", "two-items", "none"],
)
def test_distinct_limits_do_not_clash(entries):
    assert limits_entry_problems(entries) == []


@pytest.mark.parametrize(
    "defaults",
    [{}, {"NOFILE": "8192:524288", "MEMLOCK": "64M", "AS": "infinity", "NICE": -5, "CORE": 0, "RTTIME": "1:infinity"}],
)
def test_valid_systemd_defaults(defaults):
    assert limits_systemd_problems(defaults) == []


@pytest.mark.parametrize(
    ("defaults", "named"),
    [
        ({"NOFILES": 1024}, "NOFILES=1024"),
        ({"nofile": 1024}, "nofile=1024"),
        ({"NOFILE": "1024:lots"}, "NOFILE=1024:lots"),
        ({"NOFILE": "1024:2048:4096"}, "NOFILE=1024:2048:4096"),
        ({"NOFILE": True}, "NOFILE=True"),
        ({"MEMLOCK": "64MB"}, "MEMLOCK=64MB"),
        ({"NOFILE": "1024\n[Service]"}, "NOFILE=1024\n[Service]"),
    ],
    ids=["unknown-name", "lower-case", "bad-hard", "three-parts", "boolean", "two-letter-suffix", "newline"],
)
def test_bad_systemd_default_names_variable_and_setting(defaults, named):
    (problem,) = limits_systemd_problems({"NPROC": 100, **defaults})
    assert problem.startswith(f"limits_systemd_defaults: {named} is not valid: names are CPU FSIZE")


def test_systemd_defaults_that_are_not_a_dict():
    assert limits_systemd_problems(["NOFILE=1024"]) == ["limits_systemd_defaults: must be a dict of NAME: value."]


@pytest.mark.parametrize(
    "limits",
    [
        {},
        {"address_space_kb": 4194304, "open_files": 1024, "stack_kb": 8192},
        {"address_space_kb": "unlimited", "open_files": "", "stack_kb": None},
    ],
    ids=["empty", "numbers", "unlimited-empty-none"],
)
def test_valid_runner_limits(limits):
    assert limits_runner_problems(limits) == []


@pytest.mark.parametrize(
    ("limits", "named"),
    [
        ({"address_space_kb": "4G"}, "address_space_kb=4G"),
        ({"open_files": -1}, "open_files=-1"),
        ({"stack_kb": "infinity"}, "stack_kb=infinity"),
        ({"stack_kb": False}, "stack_kb=False"),
        ({"memory": 1024}, "memory=1024"),
    ],
    ids=["suffix", "negative", "infinity", "boolean", "unknown-key"],
)
def test_bad_runner_limit_names_variable_and_key(limits, named):
    assert limits_runner_problems(limits) == [
        f"limits_runner_limits: {named} must be a non-negative integer, unlimited or empty"
        " (keys: address_space_kb, open_files, stack_kb)."
    ]


@pytest.mark.parametrize(
    ("services", "bad"),
    [
        (["login", "sshd", "su", "common-session", "runuser-l", "sudo.i"], ""),
        ([], ""),
        (["login", "../shadow"], "../shadow"),
        (["/etc/pam.d/su", "Login", "su "], "/etc/pam.d/su, Login, su "),
    ],
    ids=["debian-names", "none", "parent-directory", "path-upper-space"],
)
def test_pam_services_must_be_file_names(services, bad):
    expected = [f"limits_pam_services: {bad} are not PAM service file names."] if bad else []
    assert limits_pam_service_problems(services) == expected


def test_filters_are_registered_under_their_names():
    assert set(FilterModule().filters()) == {
        "limits_entry_problems",
        "limits_systemd_problems",
        "limits_runner_problems",
        "limits_pam_service_problems",
    }
