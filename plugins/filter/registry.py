"""The registry certificate's subjectAltName list (registry role, vars/main.yml).

Tested in tests/unit/plugins/filter/test_registry.py.
"""

import ipaddress

from ansible.errors import AnsibleFilterError


def _entry(name):
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return f"DNS:{name}"
    return f"IP:{name}"


def registry_subject_alt_names(names, extra=None):
    """'DNS:'/'IP:' entries for `names` (host names or addresses; empty ones skipped, an 'addr:port' loses its
    port), then `extra` (entries already prefixed), each once, in that order."""
    if not isinstance(names, list) or not isinstance(extra or [], list):
        raise AnsibleFilterError("registry_subject_alt_names: expects a list of names and a list of extra entries")
    entries = []
    for name in names:
        text = str(name or "").strip()
        if text.count(":") == 1:  # host:port as the Swarm records a manager's address (IPv6 has more colons)
            text = text.split(":")[0]
        if text:
            entries.append(_entry(text.strip("[]")))
    entries += [str(e) for e in extra or []]
    return list(dict.fromkeys(entries))


class FilterModule:
    def filters(self):
        return {"registry_subject_alt_names": registry_subject_alt_names}
