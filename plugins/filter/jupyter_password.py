"""Filters for the Jupyter password: hash it as jupyter_server does, keeping an existing hash that matches."""

DOCUMENTATION = r"""
name: jupyter_password_hash
short_description: Hash a Jupyter password with argon2, as C(jupyter_server.auth.passwd) does
description:
  - Returns C(argon2:<hash>) for the password, the format C(PasswordIdentityProvider.hashed_password) reads.
  - When O(current) is a hash of the same password it is returned unchanged, so a re-run does not
    produce a new salt (and does not rotate the Docker secret that carries the hash).
positional: current
options:
  _input:
    description: The password.
    type: str
    required: true
  current:
    description: The hash in use, if any.
    type: str
    default: ""
"""

EXAMPLES = r"""
- ansible.builtin.set_fact:
    hashed: "{{ jupyter_stack_password | condaswarm.cluster.jupyter_password_hash(current_hash) }}"
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


def jupyter_password_hash(password, current=""):
    if not HAS_ARGON2:
        raise AnsibleFilterError("jupyter_password_hash needs argon2-cffi on the controller (pip install argon2-cffi)")
    if not isinstance(password, str) or not password:
        raise AnsibleFilterError("jupyter_password_hash: the password must be a non-empty string")
    current = (current or "").strip()
    if matches(password, current):
        return current
    return PREFIX + _hasher().hash(password)


class FilterModule:
    def filters(self):
        return {"jupyter_password_hash": jupyter_password_hash}
