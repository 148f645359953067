"""Which manager's copy of a state directory the others take (registry role, tasks/sync_dir.yml).

State that one manager generates (the registry's CA and server pair, the Jupyter stack's secrets and TLS pair)
must be on every manager, so that whichever manager is active next uses the same and makes nothing new. Each
manager lists the directory (ansible.builtin.find with checksums); this filter says whose copy wins (the first
host of `order` that has files: the active manager first) and which hosts differ from it (a file missing, a
different checksum or mode). Files only on a host that differs are left alone.

Tested in tests/unit/plugins/filter/test_sync_dir.py.
"""

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


class FilterModule:
    def filters(self):
        return {"sync_dir_plan": sync_dir_plan}
