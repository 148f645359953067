"""The Jupyter password hashed with a given salt: the same password and salt give the same hash on every run.

jupyter_stack keeps a random salt on the manager (public, like every salt) and hashes the vaulted password
with it on the controller. The hash is then a function of its inputs: a re-run computes the same one and the
Docker secret carrying it stays as it is, a new password gives a new one and rolls the replicas, and the hash
never has to be read back from the manager. The format and cost parameters are those of
plugins/filter/jupyter_password.py (jupyter_server's), taken from there.
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.condaswarm.cluster.plugins.filter.jupyter_password import PREFIX, _hasher

try:
    from argon2.low_level import hash_secret

    HAS_ARGON2 = True
except ImportError:
    HAS_ARGON2 = False


def jupyter_password_hash_salted(password, salt):
    """`argon2:$argon2id$...` of `password` with `salt` (hex text, surrounding whitespace ignored; at least
    8 bytes, argon2's minimum), with jupyter_server's parameters."""
    if not HAS_ARGON2:
        raise AnsibleFilterError(
            "jupyter_password_hash_salted needs argon2-cffi on the controller (pip install argon2-cffi)"
        )
    if not isinstance(password, str) or not password:
        raise AnsibleFilterError("jupyter_password_hash_salted: the password must be a non-empty string")
    try:
        salt_bytes = bytes.fromhex(str(salt).strip())
    except ValueError:
        salt_bytes = b""
    if len(salt_bytes) < 8:
        raise AnsibleFilterError(
            "jupyter_password_hash_salted: the salt must be hex text of at least 8 bytes (openssl rand -hex 16)"
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
        return {"jupyter_password_hash_salted": jupyter_password_hash_salted}
