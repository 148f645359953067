"""Filters of the sshd role: they turn what condaswarm.cluster.host_state read into the role's decisions.

Each takes plain data (the module's documented result, the role's variables) and returns plain data,
so the role's tasks only ask and act.
"""

import re

from ansible.errors import AnsibleFilterError

# sshd -T prints PermitRootLogin prohibit-password under its old name.
_ALIASES = {"prohibit-password": "without-password"}
_HEADER = "# Drop-ins first: sshd keeps the first value it reads (condaswarm.cluster.sshd)."


def _words(value):
    """A value of sshd -T (a string, or a list when sshd printed the keyword more than once) as words."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [word for item in items for word in str(item).split()]


def _sshd_value(value):
    """A role setting as sshd -T prints it (booleans as yes/no, everything else as text)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value)


def _has_pattern(names, characters):
    return any(set(name) & set(characters) for name in names)


def sshd_missing_users(users, admins):
    """The admin users that host_state found no account for (users: the module's sshd.users)."""
    users = users or {}
    return [name for name in admins if not users.get(name, {}).get("exists")]


def sshd_lockout_problems(
    users,
    admins,
    *,
    authorized_keys=(),
    permit_root_login="prohibit-password",
    allow_users=(),
    allow_groups=(),
    check_mode=False,
):
    """Why an admin user would be shut out once passwords are off; an empty list when nobody would be.

    users is host_state's sshd.users (exists, groups, keyfiles, valid_keys per user). In check mode the
    keys of authorized_keys are not installed yet, so a key planned for a user counts as one it has.
    AllowUsers/AllowGroups patterns are not evaluated here (the login probe after the reload covers them).
    """
    users = users or {}
    problems = []
    for name in admins:
        facts = users.get(name, {})
        if not facts.get("exists"):
            problems.append(f"admin user {name} does not exist")
            continue
        planned = [
            key for key in authorized_keys if key.get("user") == name and key.get("state", "present") == "present"
        ]
        if not facts.get("valid_keys") and not (check_mode and planned):
            looked = ", ".join(facts.get("keyfiles") or []) or "no file: AuthorizedKeysFile none"
            problems.append(f"admin user {name} has no authorized key (looked in {looked})")
        if name == "root" and permit_root_login == "no":
            problems.append("admin user root may not log in with sshd_permit_root_login: no")
        if allow_users and not _has_pattern(allow_users, "*?!@") and name not in allow_users:
            problems.append(f"admin user {name} is not in sshd_allow_users")
        groups = facts.get("groups") or []
        if allow_groups and not _has_pattern(allow_groups, "*?!") and not set(groups) & set(allow_groups):
            problems.append(f"admin user {name} is in none of sshd_allow_groups (groups: {' '.join(groups)})")
    return problems


def sshd_mismatches(sshd, expected, allow_users=(), allow_groups=()):
    """Where sshd -T disagrees with the role: one message per keyword and scope ('global', 'user <name>').

    sshd is host_state's sshd result (effective, users.<name>.effective); expected the role's settings
    table (keywords in any case). AllowUsers/AllowGroups are compared as sets, only when the role sets them.
    """
    wanted = {keyword.lower(): _sshd_value(value) for keyword, value in expected.items()}
    scopes = [("global", sshd.get("effective", {}))]
    scopes += [(f"user {name}", facts.get("effective", {})) for name, facts in (sshd.get("users") or {}).items()]
    found = []
    for who, seen in scopes:
        for keyword, value in wanted.items():
            actual = " ".join(_words(seen[keyword])) if keyword in seen else "(unset)"
            if _ALIASES.get(actual, actual) != _ALIASES.get(value, value):
                found.append(f"{who}: {keyword} is {actual}, not {value}")
        for keyword, names in (("allowusers", allow_users), ("allowgroups", allow_groups)):
            actual = _words(seen.get(keyword))
            if names and sorted(actual) != sorted(names):
                found.append(f"{who}: {keyword} is {' '.join(actual)}, not {' '.join(names)}")
    return found


def sshd_include_first(text, dropin_dir):
    """The main sshd_config with `Include <dropin_dir>/*.conf` as its first directive.

    Unchanged when it already is; otherwise the Include (after a comment saying why) goes on top and
    every other copy of it, and of that comment, is dropped; the rest stays as it was.
    """
    include = re.compile(rf"^\s*Include\s+{re.escape(dropin_dir.rstrip('/'))}/\*\.conf\s*$", re.IGNORECASE)
    lines = text.splitlines()
    directives = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if directives and include.match(directives[0]):
        return text
    kept = [line for line in lines if not include.match(line) and line != _HEADER]
    return "\n".join([_HEADER, f"Include {dropin_dir.rstrip('/')}/*.conf", *kept]) + "\n"


def sshd_keyfile_options(extra_options):
    """`{AuthorizedKeysFile: ...}` when sshd_extra_options sets it (keyword in any case), else `{}`.

    Passed to host_state's sshd.options: the guard counts keys where sshd will look once the drop-in
    is in place.
    """
    for keyword, value in (extra_options or {}).items():
        if keyword.lower() == "authorizedkeysfile":
            return {"AuthorizedKeysFile": " ".join(_words(value))}
    return {}


def sshd_probe_target(listen):
    """Where the login probe reaches sshd: {host, port} from sshd -T's listenaddress values.

    The first wildcard listener (IPv4 first), reached on loopback, else the first address.
    """
    addresses = _words(listen)
    if not addresses:
        raise AnsibleFilterError("sshd_probe_target: sshd -T shows no listenaddress")
    wildcard = [a for a in addresses if a.startswith("0.0.0.0:")] + [a for a in addresses if a.startswith("[::]:")]
    match = re.fullmatch(r"\[?(.*?)\]?:(\d+)", (wildcard or addresses)[0])
    if not match:
        raise AnsibleFilterError(f"sshd_probe_target: cannot read the listen address {(wildcard or addresses)[0]!r}")
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(match.group(1), match.group(1))
    return {"host": host, "port": int(match.group(2))}


def sshd_host_keys(
    host_keys, types, *, retiring=(), key_dir="/etc/ssh", algorithms=None, supported=None, rsa_bits=3072
):
    """The host keys sshd is to offer, in order, and what it takes to get there.

    host_keys is host_state's sshd.host_keys (path -> exists, bits, type); types the key types kept
    (sshd_host_key_types), retiring the ones still offered after them while clients learn the new keys
    (sshd_host_key_retiring: only those whose file exists). algorithms maps a type to its signature
    algorithms, limited to supported (ssh -Q key-sig) when given. Returns
    {hostkey: [paths], algorithms: [names], generate: [types whose file is missing], problems: [messages]}.
    """
    host_keys = host_keys or {}
    algorithms = algorithms or {}

    def path(kind):
        return f"{key_dir.rstrip('/')}/ssh_host_{kind}_key"

    offered = list(dict.fromkeys(types))
    offered += [
        kind
        for kind in dict.fromkeys(retiring or ())
        if kind not in offered and host_keys.get(path(kind), {}).get("exists")
    ]
    problems = []
    for kind in types:
        facts = host_keys.get(path(kind), {})
        if not facts.get("exists"):
            continue
        if not facts.get("bits"):
            problems.append(f"sshd_host_key_types: {path(kind)} holds no key ssh-keygen can read.")
        elif kind == "rsa" and facts["bits"] < rsa_bits:
            problems.append(
                f"sshd_host_key_types: {path(kind)} has {facts['bits']} bits, fewer than sshd_host_key_rsa_bits"
                f" ({rsa_bits}). The role does not replace a host key (clients would see it change): move the"
                " file away, and the role makes a new one."
            )
    names = [name for kind in offered for name in algorithms.get(kind, [])]
    if supported is not None:
        names = [name for name in names if name in supported]
    return {
        "hostkey": [path(kind) for kind in offered],
        "algorithms": names,
        "generate": [kind for kind in dict.fromkeys(types) if not host_keys.get(path(kind), {}).get("exists")],
        "problems": problems,
    }


class FilterModule:
    def filters(self):
        return {
            "sshd_include_first": sshd_include_first,
            "sshd_keyfile_options": sshd_keyfile_options,
            "sshd_host_keys": sshd_host_keys,
            "sshd_lockout_problems": sshd_lockout_problems,
            "sshd_mismatches": sshd_mismatches,
            "sshd_missing_users": sshd_missing_users,
            "sshd_probe_target": sshd_probe_target,
        }
