"""Filters of the nfs_server role: its exports with every default filled in, what is wrong with them, the
subnets of the client hosts, and the Docker volume options that mount each export.

The role calls them with their FQCN (condaswarm.cluster.<name>); each is a plain function, tested in
tests/unit/plugins/filter/test_nfs_filters.py.
"""

import hashlib
import ipaddress
import re
from collections import defaultdict

from ansible.errors import AnsibleFilterError

# exports(5) options the role accepts (Ganesha maps the ones that have an equivalent).
OPTION = re.compile(
    r"rw|ro|sync|async|secure|insecure|root_squash|no_root_squash|all_squash|no_all_squash"
    r"|subtree_check|no_subtree_check|wdelay|no_wdelay|hide|nohide|crossmnt"
    r"|(anonuid|anongid)=[0-9]+|fsid=[a-z0-9-]+|sec=(sys|krb5|krb5i|krb5p)(:(sys|krb5|krb5i|krb5p))*"
)
# Both files quote paths: no whitespace, no quote; the exported path is never the root.
PATH = re.compile(r'/[^\s"]+')
PSEUDO = re.compile(r'/[^\s"]*')
MODE = re.compile(r"0?[0-7]{3}|[0-7]{4}")
# What may be an address or a network at all (ipaddress decides whether it is one).
ADDRESS_SYNTAX = re.compile(r"[0-9a-fA-F:.]+(/[0-9]+)?")
EXPORT_ID_RANGE = range(1, 65536)


def _given(value):
    return value is not None and value != ""


def _strip_slashes(path):
    """The path without trailing slashes (/ stays /)."""
    return re.sub(r"(.)/+$", r"\1", str(path))


def _mode(value):
    """The mode as a string of octal digits; an unquoted YAML mode arrives as the number it denotes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:04o}"
    return str(value)


def _export_id(path, pseudo):
    """A stable Ganesha Export_Id from path and pseudo path: a moved export is a new one (a reload adds and
    removes exports but does not move an existing one)."""
    number = int(hashlib.sha1(f"{path} {pseudo}".encode(), usedforsecurity=False).hexdigest()[:4], 16)
    return number or 1


def _identity(export):
    """(name, path, pseudo path, export id) of an export: what no two exports may share."""
    path = _strip_slashes(export["path"])
    pseudo = _strip_slashes(export["pseudo"]) if export.get("pseudo") else path
    name = str(export["name"]) if export.get("name") else path.rsplit("/", 1)[-1]
    export_id = int(export["export_id"]) if export.get("export_id") else _export_id(path, pseudo)
    return name, path, pseudo, export_id


def nfs_exports_normalised(exports, default_clients, default_options, defaults):
    """nfs_server_exports with every default filled in: the one list the templates and the volume options read.

    Each entry gets path and pseudo without trailing slashes, a name (last part of the path), owner, group and
    mode as strings (from `defaults`, a dict with these keys, when not given), an export_id, and its clients:
    the given ones, or one per `default_clients` host, each with its options or `default_options`.
    """
    if not isinstance(exports, list):
        raise AnsibleFilterError(f"nfs_exports_normalised: expected a list of exports, got {type(exports).__name__}")
    result = []
    for export in exports:
        name, path, pseudo, export_id = _identity(export)
        given = export.get("clients") or [{"host": host} for host in default_clients]
        result.append(
            {
                "name": name,
                "path": path,
                "pseudo": pseudo,
                "owner": str(export["owner"]) if _given(export.get("owner")) else str(defaults["owner"]),
                "group": str(export["group"]) if _given(export.get("group")) else str(defaults["group"]),
                "mode": _mode(export["mode"] if _given(export.get("mode")) else defaults["mode"]),
                "export_id": export_id,
                "clients": [
                    {"host": str(client["host"]), "options": list(client.get("options") or default_options)}
                    for client in given
                ],
            }
        )
    return result


def _host_problem(host, allow_world):
    """Why `host` cannot be a client (None when it can): an IP address, or a network with its host bits clear."""
    if host == "*":
        return None if allow_world else "(every host) needs nfs_server_allow_world: true"
    if ADDRESS_SYNTAX.fullmatch(host):
        try:
            if "/" not in host:
                ipaddress.ip_address(host)
                return None
            network = ipaddress.ip_network(host, strict=False)
            if network.network_address == ipaddress.ip_address(host.split("/")[0]):
                return None
            return f"is a network with host bits set (did you mean {network}?)"
        except ValueError:
            pass
    return "is not an IP address or a network in CIDR notation"


def _integer(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _options_problem(options):
    unknown = [str(option) for option in options if not OPTION.fullmatch(str(option))]
    if unknown:
        return f"unknown option(s) {', '.join(unknown)}"
    if "rw" in options and "ro" in options:
        return "both rw and ro"
    return None


def _export_problems(index, export, allow_world):
    label = f"nfs_server_exports[{index}] ({export.get('path', 'no path')})"
    problems = []
    path = _strip_slashes(export.get("path", ""))
    pseudo = _strip_slashes(export["pseudo"]) if export.get("pseudo") else path
    if not PATH.fullmatch(path) or path == "/" or not PSEUDO.fullmatch(pseudo):
        problems.append(
            f"{label}: path '{path}' and pseudo '{pseudo}' must be absolute paths without spaces or quotes,"
            " and the path not /."
        )
    mode = export.get("mode")
    if isinstance(mode, int) and not isinstance(mode, bool) and mode > 0o777:
        # YAML reads an unquoted 0770 as 504 (fine), but an unquoted 770 as the decimal 770 = 0o1402.
        problems.append(
            f"{label}: mode {mode} (unquoted) would be {_mode(mode)}, with special bits: quote it, e.g. '0770'."
        )
    elif _given(mode) and not MODE.fullmatch(_mode(mode)):
        problems.append(f"{label}: mode '{mode}' is not an octal mode such as '0770'.")
    if export.get("export_id") is not None and _integer(export["export_id"]) not in EXPORT_ID_RANGE:
        problems.append(f"{label}: export_id {export['export_id']} is not a number in 1-65535.")
    for number, client in enumerate(export.get("clients") or []):
        host = str(client.get("host", ""))
        where = f"{label}: client {number} ({host})"
        why = _host_problem(host, allow_world)
        if why:
            problems.append(f"{where}: host '{host}' {why}.")
        why = _options_problem(client.get("options") or [])
        if why:
            problems.append(f"{where}: options {','.join(map(str, client['options']))}: {why}.")
    return problems


def nfs_exports_problems(exports, default_clients, default_options, allow_world=False):
    """Messages about the role's variables, empty when all is well; each names its variable and entry.

    Checks what argument specs cannot: paths, client hosts (IP address or network with host bits clear; * only
    with allow_world), exports(5) options, modes, export ids, and names/paths/pseudo paths/ids shared by two
    exports (export ids derived from the same path and pseudo path included).
    """
    problems = []
    for index, export in enumerate(exports):
        problems.extend(_export_problems(index, export, allow_world))
    for index, host in enumerate(default_clients):
        why = _host_problem(str(host), allow_world)
        if why:
            problems.append(f"nfs_server_default_clients[{index}]: host '{host}' {why}.")
    why = _options_problem(default_options)
    if why:
        problems.append(f"nfs_server_default_options: {','.join(map(str, default_options))}: {why}.")
    if all(export.get("path") and _integer(export.get("export_id") or 0) is not None for export in exports):
        identities = [_identity(export) for export in exports]
        for column, key in enumerate(("name", "path", "pseudo", "export_id")):
            seen = defaultdict(list)
            for index, identity in enumerate(identities):
                seen[identity[column]].append(index)
            for value, indexes in seen.items():
                if len(indexes) > 1:
                    hint = (
                        " (ids derive from path and pseudo path: set export_id on one of them)"
                        if key == "export_id"
                        else ""
                    )
                    entries = ", ".join(f"[{i}]" for i in indexes)
                    problems.append(f"nfs_server_exports entries {entries} share the {key} '{value}'{hint}.")
    return problems


def nfs_exports_open_to_world(exports):
    """The paths of the (normalised) exports that a client `*` (every host) may mount."""
    return [export["path"] for export in exports if any(client["host"] == "*" for client in export["clients"])]


def nfs_client_networks(facts):
    """The networks (CIDR, sorted, each once) of hosts' default IPv4 addresses, from their ansible_facts.

    A host whose facts have no default IPv4 address and netmask is left out.
    """
    networks = set()
    for host_facts in facts:
        ipv4 = (host_facts or {}).get("default_ipv4") or {}
        if ipv4.get("address") and ipv4.get("netmask"):
            networks.add(str(ipaddress.ip_network(f"{ipv4['address']}/{ipv4['netmask']}", strict=False)))
    return sorted(networks)


def _address_inside(addresses, hosts):
    """The first of `addresses` inside the client networks/addresses `hosts`, in the clients' order."""
    for host in hosts:
        if host == "*":
            continue
        network = ipaddress.ip_network(host, strict=False)
        for address in addresses:
            if ipaddress.ip_address(address) in network:
                return address
    return None


def nfs_volume_options(
    exports, own_addresses, default_address, *, address="", backend="kernel", nfs_version="4.2", mount_options=()
):
    """Per export name, the options of a Docker `local` volume that mounts it over NFS.

    The address is `address` when given, else the first of this server's `own_addresses` inside the export's
    client networks, else `default_address`. Access is rw when any client may write. The device is the pseudo
    path with Ganesha, the path with the kernel server.
    """
    result = {}
    for export in exports:
        hosts = [client["host"] for client in export["clients"]]
        addr = address or _address_inside(own_addresses, hosts) or default_address
        access = "rw" if any("rw" in client["options"] for client in export["clients"]) else "ro"
        options = [f"addr={addr}", f"nfsvers={nfs_version}", access, *mount_options]
        result[export["name"]] = {
            "type": "nfs",
            "o": ",".join(options),
            "device": ":" + (export["pseudo"] if backend == "ganesha" else export["path"]),
        }
    return result


class FilterModule:
    def filters(self):
        return {
            "nfs_exports_normalised": nfs_exports_normalised,
            "nfs_exports_problems": nfs_exports_problems,
            "nfs_exports_open_to_world": nfs_exports_open_to_world,
            "nfs_client_networks": nfs_client_networks,
            "nfs_volume_options": nfs_volume_options,
        }
