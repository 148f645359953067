"""jupyter_password_hash with a salt: jupyter_server's format, a function of password and salt, strict inputs."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.condaswarm.cluster.plugins.filter.jupyter_password import jupyter_password_hash, matches
from argon2 import PasswordHasher


def jupyter_password_hash_salted(password, salt):
    return jupyter_password_hash(password, salt=salt)


SALT = "00112233445566778899aabbccddeeff\n"  # as `openssl rand -hex 16` writes it


def test_format_is_jupyter_servers_and_verifies():
    hashed = jupyter_password_hash_salted("s3cret", SALT)
    assert hashed.startswith("argon2:$argon2id$v=19$m=10240,t=10,p=8$")
    assert PasswordHasher().verify(hashed.removeprefix("argon2:"), "s3cret")
    # The unsalted filter accepts it as the current hash of the same password (same format, same check).
    assert matches("s3cret", hashed)
    assert jupyter_password_hash("s3cret", hashed) == hashed


@pytest.mark.parametrize("salt", [SALT, SALT.strip(), "  " + SALT.upper()])
def test_same_password_and_salt_give_the_same_hash(salt):
    assert jupyter_password_hash_salted("s3cret", salt) == jupyter_password_hash_salted("s3cret", SALT)


@pytest.mark.parametrize(
    ("password", "salt"),
    [("s3cret!", SALT), ("s3cret", "ff" + SALT[2:]), ("s3cret", SALT.strip() + "00")],
    ids=["other password", "other salt", "longer salt"],
)
def test_another_password_or_salt_gives_another_hash(password, salt):
    assert jupyter_password_hash_salted(password, salt) != jupyter_password_hash_salted("s3cret", SALT)


@pytest.mark.parametrize("salt", ["", "\n", "not hex", "0011223344556", "00112233445566"])
def test_unusable_salt_refused(salt):
    with pytest.raises(AnsibleFilterError, match="the salt must be hex text of at least 8 bytes"):
        jupyter_password_hash_salted("s3cret", salt)


@pytest.mark.parametrize("bad", ["", None, 123])
def test_bad_password_refused(bad):
    with pytest.raises(AnsibleFilterError, match="non-empty string"):
        jupyter_password_hash_salted(bad, SALT)


def test_salt_wins_over_current():
    other = jupyter_password_hash("s3cret")
    assert jupyter_password_hash("s3cret", other, salt=SALT) == jupyter_password_hash_salted("s3cret", SALT)
