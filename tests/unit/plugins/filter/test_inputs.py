"""input_problems: range and form of ports, counts, durations and addresses, one message per bad value."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.condaswarm.cluster.plugins.filter.inputs import FilterModule, input_problems


def problems(value, kind, **options):
    return input_problems([{"name": "x_var", "value": value, "kind": kind, **options}])


@pytest.mark.parametrize(
    ("value", "kind", "options"),
    [
        (1, "port", {}),
        (65535, "port", {}),
        ("8443", "port", {}),  # an inventory may give a digit string; the argument spec lets it through
        ([443, 8443], "port", {}),
        ([], "port", {}),
        (0, "port", {"zero": True, "min": 1024, "max": 49151}),
        (4789, "port", {"zero": True, "min": 1024, "max": 49151}),
        (0, "int", {}),
        (300, "int", {"min": 1, "unit": "seconds"}),
        (255, "int", {"min": 1, "max": 255}),
        ("2s", "go_duration", {}),
        ("500ms", "go_duration", {}),
        ("1m30s", "go_duration", {}),
        ("1.5h", "go_duration", {}),
        ("0", "go_duration", {}),
        ("0s", "go_duration", {}),
        ("1s", "go_duration", {"nonzero": True}),
        ("500ms", "haproxy_time", {}),
        ("2s", "haproxy_time", {}),
        ("1d", "haproxy_time", {}),
        ("10.0.0.5", "ipv4", {}),
        ("", "ipv4", {"empty": True}),
        (["10.0.0.11", "10.0.0.12"], "ipv4", {}),
        ("fd00::1", "ip", {}),
        ("registry.lab.example.org", "host", {}),
        ("ha-manager1", "host", {}),
        ("localhost", "host", {}),
        ("10.0.0.5", "host", {}),
        ("fd00::5", "host", {}),
        ("example.org.", "host", {}),
        ("*.lab.example.org", "host", {"wildcard": True}),
        ("10.10.0.0/16", "ipv4_network", {}),
        (["10.10.0.0/16", "192.168.0.0/24"], "ipv4_network", {}),
    ],
)
def test_good_values_pass(value, kind, options):
    assert problems(value, kind, **options) == []


@pytest.mark.parametrize(
    ("value", "kind", "options", "expected"),
    [
        (0, "port", {}, "x_var: 0 is not a port (1-65535)."),
        (65536, "port", {}, "x_var: 65536 is not a port (1-65535)."),
        (-1, "port", {}, "x_var: -1 is not a port (1-65535)."),
        ("http", "port", {}, 'x_var: "http" is not a port (1-65535).'),
        (True, "port", {}, "x_var: true is not a port (1-65535)."),
        ([443, 70000], "port", {}, "x_var: 70000 is not a port (1-65535)."),
        (80, "port", {"zero": True, "min": 1024, "max": 49151}, "x_var: 80 is not a port (1024-49151)."),
        (-1, "int", {}, "x_var: -1 is out of range (0 or more)."),
        (0, "int", {"min": 1, "unit": "seconds"}, "x_var: 0 is out of range (1 or more)."),
        (256, "int", {"min": 1, "max": 255}, "x_var: 256 is out of range (1-255)."),
        ("many", "int", {"unit": "seconds"}, 'x_var: "many" is not a whole number of seconds (0 or more).'),
        (2.5, "int", {}, "x_var: 2.5 is not a whole number (0 or more)."),
        ("2 seconds", "go_duration", {}, 'x_var: "2 seconds" is not a duration such as 2s, 500ms or 1m30s.'),
        ("10d", "go_duration", {}, 'x_var: "10d" is not a duration such as 2s, 500ms or 1m30s.'),
        ("-1s", "go_duration", {}, 'x_var: "-1s" is not a duration such as 2s, 500ms or 1m30s.'),
        ("30", "go_duration", {}, 'x_var: "30" is not a duration such as 2s, 500ms or 1m30s.'),
        (30, "go_duration", {}, "x_var: 30 is not a string (go_duration)."),
        ("0s", "go_duration", {"nonzero": True}, 'x_var: "0s" is not a duration above zero.'),
        ("1.5s", "haproxy_time", {}, 'x_var: "1.5s" is not an HAProxy time above zero, a whole number and a unit'),
        ("1m30s", "haproxy_time", {}, 'x_var: "1m30s" is not an HAProxy time'),
        ("3", "haproxy_time", {}, 'x_var: "3" is not an HAProxy time'),
        ("0s", "haproxy_time", {}, 'x_var: "0s" is not an HAProxy time'),
        ("10.0.0.300", "ipv4", {}, 'x_var: "10.0.0.300" is not an IPv4 address'),
        ("10.0.0.5/24", "ipv4", {}, 'x_var: "10.0.0.5/24" is not an IPv4 address'),
        ("fd00::1", "ipv4", {}, 'x_var: "fd00::1" is not an IPv4 address'),
        ("", "ipv4", {}, 'x_var: "" is not an IPv4 address'),
        (["10.0.0.11", "manager2"], "ipv4", {}, 'x_var: "manager2" is not an IPv4 address'),
        ("manager1", "ip", {}, 'x_var: "manager1" is not an IP address'),
        ("registry_1", "host", {}, 'x_var: "registry_1" is neither a host name'),
        ("nfs1:2049", "host", {}, 'x_var: "nfs1:2049" is neither a host name'),
        ("-bad.example.org", "host", {}, 'x_var: "-bad.example.org" is neither a host name'),
        ("a..b", "host", {}, 'x_var: "a..b" is neither a host name'),
        ("*.example.org", "host", {}, 'x_var: "*.example.org" is neither a host name'),
        ("", "host", {}, 'x_var: "" is neither a host name'),
        ("10.10.0.1/16", "ipv4_network", {}, 'x_var: "10.10.0.1/16" is not an IPv4 network in CIDR form with its host'),
        ("10.10.0.0", "ipv4_network", {}, 'x_var: "10.10.0.0" is not an IPv4 network in CIDR form with its host'),
        ("fd00::/64", "ipv4_network", {}, 'x_var: "fd00::/64" is not an IPv4 network in CIDR form (10.10.0.0/16).'),
    ],
)
def test_bad_values_are_named_with_their_value(value, kind, options, expected):
    found = problems(value, kind, **options)
    assert len(found) == 1
    assert found[0].startswith(expected)


def test_one_message_per_bad_variable_in_order():
    checks = [
        {"name": "a_port", "value": 0, "kind": "port"},
        {"name": "b_count", "value": 3, "kind": "int"},
        {"name": "c_delay", "value": "x", "kind": "go_duration"},
    ]
    found = input_problems(checks)
    assert [message.split(":")[0] for message in found] == ["a_port", "c_delay"]


def test_long_values_are_cut_in_messages():
    (message,) = problems("x" * 200, "host")
    assert len(message) < 200 and "..." in message


@pytest.mark.parametrize(
    "checks", ["x_port", [{"name": "x", "value": 1, "kind": "bogus"}], [{"value": 1, "kind": "port"}]]
)
def test_malformed_checks_are_refused(checks):
    with pytest.raises(AnsibleFilterError):
        input_problems(checks)


def test_filter_is_registered():
    assert FilterModule().filters()["input_problems"] is input_problems
