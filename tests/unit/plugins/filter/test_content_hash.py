"""content_hash and the key pair stamp: the one rebuild decision (image contexts, key pair recipes)."""

import hashlib
import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible.plugins.filter.core import get_hash, to_json
from ansible_collections.condaswarm.cluster.plugins.filter.content_hash import (
    FilterModule,
    content_hash,
    key_pair_recipes_changed,
    key_pair_stamp,
)

CONTEXT = {"Dockerfile": "FROM debian:bookworm-slim\n", "config.yml": "version: 0.1\n"}
RECIPE = {"type": "ECC", "curve": "secp256r1", "not_after": "+825d", "sans": ["DNS:m1", "IP:10.0.0.1"]}


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (CONTEXT, dict(reversed(CONTEXT.items()))),
        (RECIPE, {k: RECIPE[k] for k in sorted(RECIPE, reverse=True)}),
        ({"a": {"y": 1, "x": 2}}, {"a": {"x": 2, "y": 1}}),
        ("text", "text"),
    ],
    ids=["context", "recipe", "nested", "string"],
)
def test_key_order_does_not_matter(one, other):
    assert content_hash(one) == content_hash(other)


@pytest.mark.parametrize(
    "changed",
    [
        CONTEXT | {"Dockerfile": "FROM debian:trixie-slim\n"},
        CONTEXT | {"extra-ca-bundle.crt": ""},
        {k: v for k, v in CONTEXT.items() if k != "config.yml"},
        {"Dockerfile ": CONTEXT["Dockerfile"], "config.yml": CONTEXT["config.yml"]},
    ],
    ids=["content", "new file (even empty)", "file gone", "file renamed"],
)
def test_any_change_of_the_context_changes_the_hash(changed):
    assert content_hash(changed) != content_hash(CONTEXT)


@pytest.mark.parametrize(
    ("key", "value"),
    [("curve", "secp384r1"), ("not_after", "+826d"), ("sans", ["DNS:m1"]), ("sans", ["IP:10.0.0.1", "DNS:m1"])],
)
def test_any_change_of_the_recipe_changes_the_hash(key, value):
    assert content_hash(RECIPE | {key: value}) != content_hash(RECIPE)


@pytest.mark.parametrize("data", [CONTEXT, RECIPE, {"é": "ü"}, [], ""])
def test_short_hex_of_the_sha256_of_sorted_json(data):
    digest = content_hash(data)
    assert len(digest) == 16 and int(digest, 16) >= 0
    # What the roles computed before (to_json(sort_keys=true) | hash('sha256')): tags built then stay valid.
    assert digest == get_hash(to_json(data, sort_keys=True), "sha256")[:16]
    assert hashlib.sha256(to_json(data, sort_keys=True).encode()).hexdigest().startswith(digest)


@pytest.mark.parametrize("data", [{"a": object()}, {"a": {1, 2}}, b"bytes"])
def test_data_that_is_not_json_is_refused(data):
    with pytest.raises(AnsibleFilterError, match="content_hash: the data must be JSON"):
        content_hash(data)


def _file(checksum, mode):
    return {"exists": True, "type": "file", "mode": mode, "checksum": checksum, "uid": 0, "gid": 0}


PAIRS = {"ca": {"curve": "secp384r1", "not_after": "+3650d"}, "registry": {"curve": "secp384r1", "sans": ["DNS:r"]}}
MADE = {
    "ca.key": _file("aa", "0600"),
    "ca.crt": _file("bb", "0644"),
    "registry.key": _file("cc", "0600"),
    "registry.crt": _file("dd", "0644"),
}


def test_stamp_records_each_pairs_recipe_hash_and_each_files_checksum_and_mode():
    stamp = json.loads(key_pair_stamp(MADE, PAIRS))
    assert stamp["recipe"] == {"ca": content_hash(PAIRS["ca"]), "registry": content_hash(PAIRS["registry"])}
    assert stamp["files"] == {
        "ca.key": "aa 0600",
        "ca.crt": "bb 0644",
        "registry.key": "cc 0600",
        "registry.crt": "dd 0644",
    }
    # Files of other pairs (or none at all) do not enter it.
    assert key_pair_stamp(MADE | {"tls.key": _file("ee", "0600")}, PAIRS) == key_pair_stamp(MADE, PAIRS)
    assert key_pair_stamp(MADE, dict(reversed(PAIRS.items()))) == key_pair_stamp(MADE, PAIRS)


@pytest.mark.parametrize(
    "files",
    [
        MADE | {"ca.key": _file("aa", "0644")},
        MADE | {"registry.crt": _file("d0", "0644")},
        MADE | {"registry.key": {"exists": False}},
        {k: v for k, v in MADE.items() if k != "ca.crt"},
        {},
    ],
    ids=["key mode loosened", "certificate replaced", "key gone", "certificate not read", "nothing there"],
)
def test_any_change_of_a_file_changes_the_stamp(files):
    assert key_pair_stamp(files, PAIRS) != key_pair_stamp(MADE, PAIRS)


@pytest.mark.parametrize(
    ("recipe", "changed"),
    [
        (PAIRS, []),
        (PAIRS | {"registry": PAIRS["registry"] | {"sans": ["DNS:r", "DNS:mirror"]}}, ["registry"]),
        (PAIRS | {"ca": PAIRS["ca"] | {"not_after": "+3651d"}}, ["ca"]),
        ({name: p | {"curve": "secp256r1"} for name, p in PAIRS.items()}, ["ca", "registry"]),
        (PAIRS | {"extra": {"curve": "secp256r1"}}, []),  # a new pair has nothing to remake
    ],
    ids=["same", "server names", "CA validity", "both curves", "new pair"],
)
def test_pairs_whose_recipe_changed_are_named(recipe, changed):
    assert key_pair_recipes_changed(key_pair_stamp(MADE, PAIRS), recipe) == changed


@pytest.mark.parametrize("stamp", ["", None, "not json", "[]", '{"files": {}}', '{"recipe": "v1"}'])
def test_without_a_readable_stamp_nothing_is_forced(stamp):
    assert key_pair_recipes_changed(stamp, PAIRS) == []


@pytest.mark.parametrize("recipe", [{}, {"ca": "ECC"}, ["ca"], None])
def test_a_recipe_is_a_dict_of_pairs(recipe):
    with pytest.raises(AnsibleFilterError, match="a dict of pair name"):
        key_pair_stamp(MADE, recipe)
    with pytest.raises(AnsibleFilterError, match="a dict of pair name"):
        key_pair_recipes_changed("", recipe)


def test_registered_under_their_names():
    assert FilterModule().filters() == {
        "content_hash": content_hash,
        "key_pair_stamp": key_pair_stamp,
        "key_pair_recipes_changed": key_pair_recipes_changed,
    }
