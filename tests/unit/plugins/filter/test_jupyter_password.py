"""The Jupyter password filter: jupyter_server's format, and a stable hash while the password is unchanged."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.condaswarm.cluster.plugins.filter.jupyter_password import (
    jupyter_password_hash,
)
from argon2 import PasswordHasher


def test_format_is_jupyter_servers_and_verifies():
    hashed = jupyter_password_hash("s3cret")
    assert hashed.startswith("argon2:$argon2id$")
    assert "m=10240,t=10,p=8" in hashed
    assert PasswordHasher().verify(hashed.removeprefix("argon2:"), "s3cret")


def test_existing_hash_of_same_password_is_kept():
    first = jupyter_password_hash("s3cret")
    assert jupyter_password_hash("s3cret", first) == first


@pytest.mark.parametrize("current", ["", "garbage", "sha1:abc:def", "argon2:$argon2id$broken"])
def test_new_hash_when_current_is_unusable(current):
    hashed = jupyter_password_hash("s3cret", current)
    assert hashed != current
    assert PasswordHasher().verify(hashed.removeprefix("argon2:"), "s3cret")


def test_password_change_gives_new_hash():
    old = jupyter_password_hash("old")
    new = jupyter_password_hash("new", old)
    assert new != old
    assert PasswordHasher().verify(new.removeprefix("argon2:"), "new")


@pytest.mark.parametrize("bad", ["", None, 123])
def test_bad_password_refused(bad):
    with pytest.raises(AnsibleFilterError, match="non-empty string"):
        jupyter_password_hash(bad)
