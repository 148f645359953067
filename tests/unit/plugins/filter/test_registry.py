"""registry_subject_alt_names: the name, the floating address and every manager's address, once each."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.condaswarm.cluster.plugins.filter.registry import FilterModule, registry_subject_alt_names


@pytest.mark.parametrize(
    ("names", "extra", "expected"),
    [
        (["registry.example.com", "", "10.0.0.11:2377"], [], ["DNS:registry.example.com", "IP:10.0.0.11"]),
        (["10.0.0.5", "10.0.0.5", "10.0.0.11"], ["DNS:extra"], ["IP:10.0.0.5", "IP:10.0.0.11", "DNS:extra"]),
        (["m1", None, "fd00::1"], ["IP:10.0.0.9", "DNS:m1"], ["DNS:m1", "IP:fd00::1", "IP:10.0.0.9"]),
        ([], None, []),
    ],
    ids=["name-and-manager", "floating-dedup", "ipv6-and-extra", "empty"],
)
def test_names(names, extra, expected):
    assert registry_subject_alt_names(names, extra) == expected


@pytest.mark.parametrize(("names", "extra"), [("m1", []), (["m1"], "DNS:x")])
def test_refuses_bad_input(names, extra):
    with pytest.raises(AnsibleFilterError, match="registry_subject_alt_names"):
        registry_subject_alt_names(names, extra)


def test_registered():
    assert list(FilterModule().filters()) == ["registry_subject_alt_names"]
