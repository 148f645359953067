"""Filters for the Jupyter password: hash it as jupyter_server does, keeping an existing hash that matches."""

DOCUMENTATION = r"""
name: jupyter_password_hash
short_description: Hash a Jupyter password with argon2, as C(jupyter_server.auth.passwd) does
description:
  - Returns C(argon2:<hash>) for the password, the format C(PasswordIdentityProvider.hashed_password) reads.
  - With O(salt), the hash is a function of password and salt. The same inputs give the same hash on every
    run, so a re-run keeps the Docker secret that carries it and the hash never has to be read back from
    the host (jupyter_stack keeps a random, public salt on the manager).
  - Without O(salt), when O(current) is a hash of the same password it is returned unchanged, so a re-run
    does not produce a new salt.
positional: current
options:
  _input:
    description: The password.
    type: str
    required: true
  current:
    description: The hash in use, if any (ignored when O(salt) is given).
    type: str
    default: ""
  salt:
    description: Hex text of at least 8 bytes (C(openssl rand -hex 16)); surrounding whitespace is ignored.
    type: str
"""

EXAMPLES = r"""
- ansible.builtin.set_fact:
    hashed: "{{ jupyter_stack_password | condaswarm.cluster.jupyter_password_hash(current_hash) }}"
  no_log: true

- ansible.builtin.set_fact:
    hashed: "{{ jupyter_stack_password | condaswarm.cluster.jupyter_password_hash(salt=salt_text) }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: C(argon2:$argon2id$...).
  type: str
"""

from ansible.errors import AnsibleFilterError

try:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError
    from argon2.low_level import hash_secret

    HAS_ARGON2 = True
except ImportError:
    HAS_ARGON2 = False

PREFIX = "argon2:"


def _hasher():
    # The parameters jupyter_server.auth.security.passwd uses.
    return PasswordHasher(memory_cost=10240, time_cost=10, parallelism=8)


def matches(password, hashed):
    if not hashed.startswith(PREFIX):
        return False
    try:
        return _hasher().verify(hashed[len(PREFIX) :], password)
    except (VerificationError, InvalidHashError):
        return False


def jupyter_password_hash(password, current="", salt=None):
    if not HAS_ARGON2:
        raise AnsibleFilterError("jupyter_password_hash needs argon2-cffi on the controller (pip install argon2-cffi)")
    if not isinstance(password, str) or not password:
        raise AnsibleFilterError("jupyter_password_hash: the password must be a non-empty string")
    if salt is not None:
        return _salted(password, salt)
    current = (current or "").strip()
    if matches(password, current):
        return current
    return PREFIX + _hasher().hash(password)


def _salted(password, salt):
    try:
        salt_bytes = bytes.fromhex(str(salt).strip())
    except ValueError:
        salt_bytes = b""
    if len(salt_bytes) < 8:  # argon2's minimum
        raise AnsibleFilterError(
            "jupyter_password_hash: the salt must be hex text of at least 8 bytes (openssl rand -hex 16)"
        )
    hasher = _hasher()
    encoded = hash_secret(
        password.encode("utf-8"),
        salt_bytes,
        time_cost=hasher.time_cost,
        memory_cost=hasher.memory_cost,
        parallelism=hasher.parallelism,
        hash_len=hasher.hash_len,
        type=hasher.type,
    )
    return PREFIX + encoded.decode("ascii")


class FilterModule:
    def filters(self):
        return {"jupyter_password_hash": jupyter_password_hash}
