"""The nfs_server role's filters: defaults filled in, problems named, client subnets, Docker volume options."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.condaswarm.cluster.plugins.filter.nfs_exports import (
    FilterModule,
    nfs_client_networks,
    nfs_exports_normalised,
    nfs_exports_open_to_world,
    nfs_exports_problems,
    nfs_volume_options,
)

DEFAULT_OPTIONS = ["rw", "sync", "root_squash", "no_subtree_check"]
# The role's nfs_server__export_defaults.
DEFAULTS = {"owner": "1000", "group": "100", "mode": "0770"}


def _one(export, default_clients=("10.0.0.0/24",)):
    (result,) = nfs_exports_normalised([export], list(default_clients), DEFAULT_OPTIONS, DEFAULTS)
    return result


@pytest.mark.parametrize(
    ("export", "expected"),
    [
        pytest.param(
            {"path": "/srv/nfs/notebooks"},
            {
                "name": "notebooks",
                "path": "/srv/nfs/notebooks",
                "pseudo": "/srv/nfs/notebooks",
                "owner": "1000",
                "group": "100",
                "mode": "0770",
                # Pinned: a different id for the same export would make Ganesha see a new export.
                "export_id": 15594,
                "clients": [{"host": "10.0.0.0/24", "options": DEFAULT_OPTIONS}],
            },
            id="every-default",
        ),
        pytest.param(
            {"path": "/srv/nfs/shared//", "pseudo": "/shared/", "name": "", "owner": None, "clients": []},
            {
                "name": "shared",
                "path": "/srv/nfs/shared",
                "pseudo": "/shared",
                "owner": "1000",
                "group": "100",
                "mode": "0770",
                "export_id": 41479,
                "clients": [{"host": "10.0.0.0/24", "options": DEFAULT_OPTIONS}],
            },
            id="trailing-slashes-and-empty-values",
        ),
        pytest.param(
            {
                "path": "/data",
                "name": "datasets",
                "owner": 0,
                "group": "users",
                "mode": 0o750,
                "export_id": "7",
                "clients": [{"host": "192.0.2.7", "options": ["ro"]}, {"host": "10.1.0.0/16"}],
            },
            {
                "name": "datasets",
                "path": "/data",
                "pseudo": "/data",
                "owner": "0",
                "group": "users",
                "mode": "0750",
                "export_id": 7,
                "clients": [
                    {"host": "192.0.2.7", "options": ["ro"]},
                    {"host": "10.1.0.0/16", "options": DEFAULT_OPTIONS},
                ],
            },
            id="everything-given-root-owner-and-unquoted-mode",
        ),
    ],
)
def test_normalised(export, expected):
    assert _one(export) == expected


def test_normalised_clients_default_to_every_default_client_in_order():
    clients = _one({"path": "/a"}, default_clients=["10.0.1.0/24", "10.0.0.0/24"])["clients"]
    assert [c["host"] for c in clients] == ["10.0.1.0/24", "10.0.0.0/24"]


def test_normalised_defaults_can_be_replaced():
    (result,) = nfs_exports_normalised([{"path": "/a"}], [], [], {"owner": "jovyan", "group": 0, "mode": 0o755})
    assert (result["owner"], result["group"], result["mode"]) == ("jovyan", "0", "0755")


def test_normalised_refuses_a_non_list():
    with pytest.raises(AnsibleFilterError, match="expected a list"):
        nfs_exports_normalised({"path": "/a"}, [], [], DEFAULTS)


@pytest.mark.parametrize(
    ("exports", "default_clients", "allow_world", "expected"),
    [
        pytest.param(
            [{"path": "relative/dir"}], [], False, "nfs_server_exports[0] (relative/dir): path", id="relative"
        ),
        pytest.param([{"path": "/"}], [], False, "nfs_server_exports[0] (/): path '/'", id="root"),
        pytest.param([{"path": "/a b"}], [], False, "must be absolute paths without spaces", id="space"),
        pytest.param([{"path": "/a", "pseudo": 'x"'}], [], False, "pseudo 'x\"'", id="bad-pseudo"),
        pytest.param(
            [{"path": "/a", "clients": [{"host": "10.202.0.0/33"}]}],
            [],
            False,
            "nfs_server_exports[0] (/a): client 0 (10.202.0.0/33): host '10.202.0.0/33' is not an IP address",
            id="prefix-too-long",
        ),
        pytest.param(
            [{"path": "/a", "clients": [{"host": "10.0.0.0/8"}, {"host": "not-an-address"}]}],
            [],
            False,
            "client 1 (not-an-address): host 'not-an-address' is not an IP address",
            id="name-not-address",
        ),
        pytest.param(
            [{"path": "/a", "clients": [{"host": "10.202.0.5/24"}]}],
            [],
            False,
            "host bits set (did you mean 10.202.0.0/24?)",
            id="host-bits",
        ),
        pytest.param(
            [{"path": "/a", "clients": [{"host": "2001:db8::1/64"}]}],
            [],
            False,
            "did you mean 2001:db8::/64?",
            id="host-bits-ipv6",
        ),
        pytest.param(
            [{"path": "/a", "clients": [{"host": "*"}]}],
            [],
            False,
            "client 0 (*): host '*' (every host) needs nfs_server_allow_world: true",
            id="world-not-allowed",
        ),
        pytest.param(
            [{"path": "/a", "clients": [{"host": "10.0.0.0/8", "options": ["rw", "no_such_option"]}]}],
            [],
            False,
            "client 0 (10.0.0.0/8): options rw,no_such_option: unknown option(s) no_such_option",
            id="unknown-option",
        ),
        pytest.param(
            [{"path": "/a", "clients": [{"host": "10.0.0.0/8", "options": ["rw", "ro"]}]}],
            [],
            False,
            "both rw and ro",
            id="rw-and-ro",
        ),
        pytest.param([{"path": "/a", "mode": "rwx"}], [], False, "mode 'rwx' is not an octal mode", id="mode"),
        pytest.param(
            [{"path": "/a", "mode": 770}], [], False, "mode 770 (unquoted) would be 1402", id="unquoted-decimal-mode"
        ),
        pytest.param([{"path": "/a", "export_id": 70000}], [], False, "export_id 70000 is not a number in", id="id"),
        pytest.param(
            [{"path": "/a"}, {"path": "/b/a"}],
            [],
            False,
            "nfs_server_exports entries [0], [1] share the name 'a'",
            id="name",
        ),
        pytest.param(
            [{"path": "/a"}, {"path": "/a/", "name": "other", "pseudo": "/p"}],
            [],
            False,
            "nfs_server_exports entries [0], [1] share the path '/a'",
            id="path",
        ),
        pytest.param(
            [{"path": "/a", "pseudo": "/p"}, {"path": "/b", "pseudo": "/p"}],
            [],
            False,
            "share the pseudo '/p'",
            id="pseudo",
        ),
        pytest.param(
            [{"path": "/a", "export_id": 3}, {"path": "/b", "export_id": 3}],
            [],
            False,
            "share the export_id '3'",
            id="export-id",
        ),
        pytest.param(
            [{"path": "/a"}],
            ["10.0.0.0/8", "300.1.1.1"],
            False,
            "nfs_server_default_clients[1]: host '300.1.1.1'",
            id="default",
        ),
    ],
)
def test_problems_name_variable_and_entry(exports, default_clients, allow_world, expected):
    problems = nfs_exports_problems(exports, default_clients, DEFAULT_OPTIONS, allow_world)
    assert len(problems) == 1, problems
    assert expected in problems[0]


def test_problems_of_default_options():
    (problem,) = nfs_exports_problems([{"path": "/a"}], [], ["rw", "bogus"])
    assert problem.startswith("nfs_server_default_options: rw,bogus: unknown option(s) bogus")


def test_every_problem_is_reported_at_once():
    exports = [{"path": "rel", "clients": [{"host": "x", "options": ["nope"]}]}, {"path": "/b", "mode": "9"}]
    assert len(nfs_exports_problems(exports, ["y"], ["rw"])) == 5


@pytest.mark.parametrize(
    ("exports", "default_clients", "allow_world"),
    [
        pytest.param([{"path": "/srv/nfs/notebooks"}], [], False, id="defaults"),
        pytest.param(
            [
                {"path": "/srv/nfs/notebooks/", "mode": 0o750, "export_id": 1},
                {"path": "/srv/nfs/public", "name": "public", "pseudo": "/public", "export_id": "65535", "clients": [
                    {"host": "*", "options": ["ro", "all_squash", "anonuid=1000", "anongid=100", "sec=krb5:sys"]},
                    {"host": "2001:db8::/64", "options": ["ro", "insecure", "fsid=root"]},
                    {"host": "192.0.2.7"},
                ]},
            ],
            ["10.202.0.0/24", "fd00::1"],
            True,
            id="everything-valid",
        ),
    ],
)  # fmt: skip
def test_valid_input_has_no_problems(exports, default_clients, allow_world):
    assert nfs_exports_problems(exports, default_clients, DEFAULT_OPTIONS, allow_world) == []


def test_open_to_world():
    exports = nfs_exports_normalised(
        [{"path": "/a"}, {"path": "/b", "clients": [{"host": "10.0.0.1"}, {"host": "*"}]}],
        ["10.0.0.0/8"],
        ["ro"],
        DEFAULTS,
    )
    assert nfs_exports_open_to_world(exports) == ["/b"]


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param([], [], id="no-hosts"),
        pytest.param(
            [
                {"default_ipv4": {"address": "10.202.0.20", "netmask": "255.255.255.0"}},
                {"default_ipv4": {"address": "10.202.0.21", "netmask": "255.255.255.0"}},
                {"default_ipv4": {"address": "10.9.1.5", "netmask": "255.255.0.0"}},
            ],
            ["10.202.0.0/24", "10.9.0.0/16"],
            id="one-network-each-sorted",
        ),
        pytest.param(
            [{}, None, {"default_ipv4": {}}, {"default_ipv4": {"address": "10.1.2.3", "netmask": "255.255.255.252"}}],
            ["10.1.2.0/30"],
            id="hosts-without-an-address-left-out",
        ),
    ],
)
def test_client_networks(facts, expected):
    assert nfs_client_networks(facts) == expected


def _exports():
    return nfs_exports_normalised(
        [
            {"path": "/srv/nfs/notebooks"},
            {"path": "/srv/nfs/ro", "pseudo": "/ro", "clients": [{"host": "10.202.1.0/24", "options": ["ro"]}]},
            {"path": "/srv/nfs/all", "clients": [{"host": "*", "options": ["ro"]}, {"host": "10.3.0.9"}]},
        ],
        ["10.202.0.0/24"],
        DEFAULT_OPTIONS,
        DEFAULTS,
    )


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param(
            {"own_addresses": ["172.17.0.1", "10.202.1.10", "10.202.0.10"], "default_address": "172.17.0.1"},
            {
                "notebooks": {"type": "nfs", "o": "addr=10.202.0.10,nfsvers=4.2,rw", "device": ":/srv/nfs/notebooks"},
                "ro": {"type": "nfs", "o": "addr=10.202.1.10,nfsvers=4.2,ro", "device": ":/srv/nfs/ro"},
                # No own address among the clients: the default address.
                "all": {"type": "nfs", "o": "addr=172.17.0.1,nfsvers=4.2,rw", "device": ":/srv/nfs/all"},
            },
            id="own-address-inside-the-client-network",
        ),
        pytest.param(
            {
                "own_addresses": ["10.202.0.10", "10.3.0.9"],
                "default_address": "server1",
                "backend": "ganesha",
                "nfs_version": "4.1",
                "mount_options": ["hard", "timeo=600"],
            },
            {
                "notebooks": {
                    "type": "nfs",
                    "o": "addr=10.202.0.10,nfsvers=4.1,rw,hard,timeo=600",
                    "device": ":/srv/nfs/notebooks",
                },
                "ro": {"type": "nfs", "o": "addr=server1,nfsvers=4.1,ro,hard,timeo=600", "device": ":/ro"},
                "all": {"type": "nfs", "o": "addr=10.3.0.9,nfsvers=4.1,rw,hard,timeo=600", "device": ":/srv/nfs/all"},
            },
            id="ganesha-pseudo-paths-and-mount-options",
        ),
        pytest.param(
            {"own_addresses": ["10.202.0.10"], "default_address": "x", "address": "nfs.example.org"},
            {
                "notebooks": {
                    "type": "nfs", "o": "addr=nfs.example.org,nfsvers=4.2,rw", "device": ":/srv/nfs/notebooks"
                },
                "ro": {"type": "nfs", "o": "addr=nfs.example.org,nfsvers=4.2,ro", "device": ":/srv/nfs/ro"},
                "all": {"type": "nfs", "o": "addr=nfs.example.org,nfsvers=4.2,rw", "device": ":/srv/nfs/all"},
            },
            id="explicit-address",
        ),
    ],
)  # fmt: skip
def test_volume_options(kwargs, expected):
    assert nfs_volume_options(_exports(), **kwargs) == expected


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {
        "nfs_exports_normalised",
        "nfs_exports_problems",
        "nfs_exports_open_to_world",
        "nfs_client_networks",
        "nfs_volume_options",
    }
