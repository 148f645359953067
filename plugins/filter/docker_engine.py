# Copyright: condaswarm.cluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the docker_engine role's rolling phase: which manager to talk through, whether a node's engine may
restart without losing the Raft quorum, and whether it is back in the Swarm.

``nodes`` is the ``nodes`` list of community.docker.docker_node_info (``docker node inspect`` of every node);
``answers`` the ``results`` of community.docker.docker_host_info looped over the managers of the inventory.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def _node(nodes, node_id):
    if not isinstance(nodes, list):
        raise AnsibleFilterError(f"expects the nodes list of docker_node_info, got {type(nodes).__name__}")
    for node in nodes:
        if isinstance(node, Mapping) and node.get("ID") == node_id:
            return node
    return None


def _role(node):
    return (node.get("Spec") or {}).get("Role")


def _reachable(node):
    return ((node.get("ManagerStatus") or {}).get("Reachability")) == "reachable"


def _hostname(node):
    return (node.get("Description") or {}).get("Hostname") or node.get("ID")


def engine_manager_via(answers, host):
    """The inventory host of a manager that answers for the Swarm, another than ``host`` when there is one.

    Returns '' when no manager answers. ``host`` itself is returned only when it is the only manager that answers
    (a single-manager Swarm): its own API is then the only one there is.
    """
    live = [
        a.get("item")
        for a in answers or []
        if isinstance(a, Mapping) and ((a.get("host_info") or {}).get("Swarm") or {}).get("ControlAvailable")
    ]
    others = [m for m in live if m != host]
    if others:
        return others[0]
    return live[0] if live else ""


def engine_restart_check(nodes, node_id):
    """Whether the node's engine may restart now, and why not.

    Returns {node, role, availability, managers, reachable, safe, msg}. A manager may restart only when the
    managers reachable without it still form a majority of all managers (Raft's quorum); a Swarm with a single
    manager has no quorum to keep (its control plane pauses during the restart), which ``msg`` says. A worker
    may always restart.
    """
    node = _node(nodes, node_id)
    if node is None:
        return {
            "node": node_id,
            "role": "",
            "availability": "",
            "managers": 0,
            "reachable": 0,
            "safe": False,
            "msg": f"node {node_id!r} is not in the Swarm's node list: it cannot be drained before its engine restarts",
        }
    managers = [n for n in nodes if isinstance(n, Mapping) and _role(n) == "manager"]
    reachable = [n for n in managers if _reachable(n)]
    result = {
        "node": _hostname(node),
        "role": _role(node),
        "availability": (node.get("Spec") or {}).get("Availability") or "active",
        "managers": len(managers),
        "reachable": len(reachable),
        "safe": True,
        "msg": "",
    }
    if _role(node) != "manager":
        return result
    if len(managers) == 1:
        result["msg"] = (
            f"{result['node']} is the Swarm's only manager: the Swarm cannot be changed while its engine restarts "
            "(running tasks keep running)"
        )
        return result
    left = len([n for n in reachable if n.get("ID") != node_id])
    if left <= len(managers) // 2:
        unreachable = sorted(_hostname(n) for n in managers if not _reachable(n))
        result["safe"] = False
        result["msg"] = (
            f"refusing to restart the engine of manager {result['node']}: {len(reachable)} of {len(managers)} managers "
            f"are reachable ({', '.join(unreachable) or 'none'} not), and without it {left} would be left where Raft "
            f"needs {len(managers) // 2 + 1}. Bring the other managers back first, then run again."
        )
    return result


def engine_node_ready(nodes, node_id):
    """True once the node is Ready in the Swarm and, for a manager, reachable in the Raft quorum."""
    node = _node(nodes, node_id)
    if node is None or (node.get("Status") or {}).get("State") != "ready":
        return False
    return _role(node) != "manager" or _reachable(node)


def engine_services_short(lines):
    """Names of the replicated services below their full count, from ``docker service ls --filter mode=replicated
    --format '{{.Name}} {{.Replicas}}'`` lines ('web 1/2', 'hub 1/1 (max 1 per node)')."""
    short = []
    for line in lines or []:
        parts = str(line).split()
        if len(parts) < 2 or "/" not in parts[1]:
            continue
        running, _, wanted = parts[1].partition("/")
        if running.isdigit() and wanted.isdigit() and int(running) < int(wanted):
            short.append(parts[0])
    return short


class FilterModule:
    def filters(self):
        return {
            "engine_manager_via": engine_manager_via,
            "engine_restart_check": engine_restart_check,
            "engine_node_ready": engine_node_ready,
            "engine_services_short": engine_services_short,
        }
