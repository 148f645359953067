"""Which manager's copy of a state directory the others take (registry role, tasks/sync_dir.yml).

State that one manager generates (the registry's CA and server pair, the Jupyter stack's secrets and TLS pair)
must be on every manager, so that whichever manager is active next uses the same and makes nothing new. Each
manager lists the directory (ansible.builtin.find with checksums); this filter says whose copy wins (the first
host of `order` that has files: the active manager first) and which hosts differ from it (a file missing, a
different checksum or mode). Files only on a host that differs are left alone.

sync_dir_transfer names what carries the files to the hosts behind without the controller reading them: a Swarm
secret per file (the secret's name follows the directory, the file and its checksum, so that what an interrupted
run left is the same secret), its mount in the copy job (the source's mode, owner root), and one job per host.

Tested in tests/unit/plugins/filter/test_sync_dir.py.
"""

import hashlib
import os

from ansible.errors import AnsibleFilterError


def dir_signature(found):
    """{file name: 'checksum mode'} of one ansible.builtin.find result (get_checksum: true); {} without files."""
    if not isinstance(found, dict) or found.get("failed") or found.get("skipped"):
        return {}
    return {
        os.path.basename(f["path"]): f"{f.get('checksum', '')} {f.get('mode', '')}" for f in found.get("files") or []
    }


def sync_dir_plan(found_by_host, order):
    """{'source': host or '', 'files': [file name], 'behind': [hosts whose copy differs from the source's]}.

    found_by_host: {inventory host: find result}; order: preference (the active manager first, then the
    managers in inventory order); hosts of found_by_host outside `order` come after it."""
    if not isinstance(found_by_host, dict) or not isinstance(order, list):
        raise AnsibleFilterError("sync_dir_plan: expects a dict of inventory host -> find result, and a list of hosts")
    hosts = [h for h in dict.fromkeys(order) if h in found_by_host] + [h for h in found_by_host if h not in order]
    signatures = {host: dir_signature(found_by_host[host]) for host in hosts}
    source = next((host for host in hosts if signatures[host]), "")
    if not source:
        return {"source": "", "files": [], "behind": []}
    wanted = signatures[source]
    behind = [
        host
        for host in hosts
        if host != source and any(signatures[host].get(name) != sig for name, sig in wanted.items())
    ]
    return {"source": source, "files": sorted(wanted), "behind": behind}


def _short_hash(*parts):
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def sync_dir_transfer(plan, found_source, directory):
    """{'files': [{'file', 'secret', 'mount'}], 'jobs': {host: service name}} for sync_dir_plan's `plan`.

    found_source: the source host's ansible.builtin.find result (get_checksum: true); directory: the one synced.
    A mount is a `docker service create --secret` value; the names fit Docker's 64 characters."""
    if not isinstance(plan, dict) or not plan.get("source"):
        raise AnsibleFilterError("sync_dir_transfer: expects a plan of sync_dir_plan that has a source")
    by_name = {os.path.basename(f["path"]): f for f in (found_source or {}).get("files") or []}
    missing = [name for name in plan["files"] if name not in by_name]
    if missing:
        raise AnsibleFilterError(f"sync_dir_transfer: not in the source's listing: {', '.join(missing)}")
    files = []
    for name in plan["files"]:
        found = by_name[name]
        secret = "condaswarm-sync-" + _short_hash(directory, name, found.get("checksum", ""))
        files.append({"file": name, "secret": secret, "mount": f"source={secret},target={name},mode={found['mode']}"})
    jobs = {host: "condaswarm-sync-" + _short_hash(directory, host) for host in plan["behind"]}
    return {"files": files, "jobs": jobs}


class FilterModule:
    def filters(self):
        return {"sync_dir_plan": sync_dir_plan, "sync_dir_transfer": sync_dir_transfer}
