"""keepalived filters: addresses from the Swarm's node list, the interface and prefix from facts, priorities."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.condaswarm.cluster.plugins.filter.keepalived import (
    FilterModule,
    keepalived_interface,
    keepalived_priority,
    keepalived_swarm_addresses,
)


def manager(node_id, addr, reachability="reachable"):
    return {
        "ID": node_id,
        "Spec": {"Role": "manager"},
        "ManagerStatus": {"Addr": addr, "Reachability": reachability},
    }


WORKER = {"ID": "w1", "Spec": {"Role": "worker"}, "Status": {"Addr": "10.0.0.21"}}


@pytest.mark.parametrize(
    ("nodes", "node_id", "expected"),
    [
        (
            [manager("m1", "10.0.0.11:2377"), manager("m2", "10.0.0.12:2377"), manager("m3", "10.0.0.13:2377"), WORKER],
            "m1",
            {"address": "10.0.0.11", "peers": ["10.0.0.12", "10.0.0.13"]},
        ),
        # A manager that is down is still a peer: its config names this one, so this one must name it.
        (
            [manager("m1", "10.0.0.11:2377", "unreachable"), manager("m2", "10.0.0.12:2377")],
            "m2",
            {"address": "10.0.0.12", "peers": ["10.0.0.11"]},
        ),
        # Sorted as addresses, not as strings; a custom listen port is stripped too.
        (
            [manager("a", "10.0.0.100:4000"), manager("b", "10.0.0.9:4000"), manager("c", "10.0.0.20:4000")],
            "c",
            {"address": "10.0.0.20", "peers": ["10.0.0.9", "10.0.0.100"]},
        ),
        ([manager("m1", "10.0.0.11:2377")], "m1", {"address": "10.0.0.11", "peers": []}),
        (
            [manager("m1", "[fd00::11]:2377"), manager("m2", "[fd00::12]:2377")],
            "m1",
            {"address": "fd00::11", "peers": ["fd00::12"]},
        ),
    ],
    ids=["three-managers", "peer-down", "address-order", "alone", "ipv6-form"],
)
def test_swarm_addresses(nodes, node_id, expected):
    assert keepalived_swarm_addresses(nodes, node_id) == expected


@pytest.mark.parametrize(
    ("nodes", "node_id", "match"),
    [
        ([WORKER, manager("m1", "10.0.0.11:2377")], "w1", "not a manager"),
        ([manager("m1", "")], "m1", "not a manager"),
        (None, "m1", "nodes list"),
        ([manager("m1", "10.0.0.11:2377")], "", "nodes list"),
    ],
    ids=["worker", "no-address", "no-list", "no-id"],
)
def test_swarm_addresses_refused(nodes, node_id, match):
    with pytest.raises(AnsibleFilterError, match=match):
        keepalived_swarm_addresses(nodes, node_id)


FACTS = {
    "interfaces": ["lo", "eth0", "docker_gwbridge", "eth1"],
    "lo": {"ipv4": {"address": "127.0.0.1", "netmask": "255.0.0.0"}},
    "eth0": {"ipv4": {"address": "192.168.1.5", "netmask": "255.255.255.0"}},
    "docker_gwbridge": {"ipv4": {"address": "172.18.0.1", "netmask": "255.255.0.0"}},
    "eth1": {
        "ipv4": {"address": "10.0.0.11", "netmask": "255.255.255.0"},
        "ipv4_secondaries": [{"address": "10.1.0.11", "netmask": "255.255.0.0"}],
    },
}


@pytest.mark.parametrize(
    ("address", "kwargs", "expected"),
    [
        ("10.0.0.11", {"vip": "10.0.0.10"}, {"interface": "eth1", "prefix": 24}),
        ("192.168.1.5", {"vip": "192.168.1.200"}, {"interface": "eth0", "prefix": 24}),
        # A secondary address of an interface counts; its own prefix applies.
        ("10.1.0.11", {"vip": "10.1.5.5"}, {"interface": "eth1", "prefix": 16}),
        # A given prefix is taken as is and the network check is the operator's.
        ("10.0.0.11", {"vip": "10.9.9.9", "prefix": 32}, {"interface": "eth1", "prefix": 32}),
        ("10.0.0.11", {"interface": "eth1", "vip": "10.0.0.10"}, {"interface": "eth1", "prefix": 24}),
        ("172.18.0.1", {"interface": "docker_gwbridge"}, {"interface": "docker_gwbridge", "prefix": 16}),
    ],
    ids=["swarm-interface", "default-interface", "secondary", "explicit-prefix", "explicit-interface", "dashed-name"],
)
def test_interface(address, kwargs, expected):
    assert keepalived_interface(FACTS, address, **kwargs) == expected


@pytest.mark.parametrize(
    ("address", "kwargs", "match"),
    [
        (
            "10.0.0.11",
            {"vip": "10.0.1.10"},
            r"keepalived_address=10\.0\.1\.10 is outside eth1's network 10\.0\.0\.0/24",
        ),
        ("10.0.0.11", {"vip": "10.0.0.11"}, "this host's own address"),
        ("10.0.0.99", {"vip": "10.0.0.10"}, r"Swarm address 10\.0\.0\.99 is not on any interface"),
        ("10.0.0.11", {"interface": "eth0", "vip": "10.0.0.10"}, "not on interface eth0"),
        ("10.0.0.11", {"interface": "bond0"}, "keepalived_interface=bond0: no such interface"),
    ],
    ids=["outside-network", "own-address", "unknown-address", "wrong-interface", "no-such-interface"],
)
def test_interface_refused(address, kwargs, match):
    with pytest.raises(AnsibleFilterError, match=match):
        keepalived_interface(FACTS, address, **kwargs)


@pytest.mark.parametrize(
    ("host", "hosts", "kwargs", "expected"),
    [
        ("m1", ["m1", "m2", "m3"], {}, 150),
        ("m3", ["m1", "m2", "m3"], {}, 130),
        ("x", ["m1", "m2", "m3"], {}, 120),
        ("m2", ["m1", "m2"], {"top": 254, "step": 1}, 253),
        ("m30", [f"m{i}" for i in range(40)], {}, 1),
        ("m1", ["m1"], {"top": 300}, 254),
    ],
    ids=["first", "third", "outside-the-group", "custom", "floor", "ceiling"],
)
def test_priority(host, hosts, kwargs, expected):
    assert keepalived_priority(host, hosts, **kwargs) == expected


def test_filters_registered():
    assert set(FilterModule().filters()) == {
        "keepalived_swarm_addresses",
        "keepalived_interface",
        "keepalived_priority",
    }
