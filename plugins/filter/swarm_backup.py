"""Filter of the backup_swarm playbook: the manager whose engine may stop while its Swarm state is copied.

``nodes | condaswarm.cluster.swarm_backup_manager(node_ids, requested='')`` takes the node list of
``docker_swarm_info`` (``nodes: true, verbose_output: true``) and ``{inventory host: Swarm node ID}`` of the managers
that answered; it returns the inventory host to stop, or fails saying why no manager may stop. Tested in
tests/unit/plugins/filter/test_swarm_backup_filters.py.
"""

from ansible.errors import AnsibleFilterError


def _manager_status(node):
    return node.get("ManagerStatus") or {}


def swarm_backup_manager(nodes, node_ids, requested=""):
    """The inventory host whose engine can stop without losing the Raft quorum.

    Only when every manager is reachable and at least three exist: stopping one then leaves a majority. The leader
    is never chosen (stopping it forces an election); ``requested`` names one host, which must qualify.
    """
    if not isinstance(nodes, list) or not isinstance(node_ids, dict):
        raise AnsibleFilterError("swarm_backup_manager expects the Swarm's node list and {host: node ID}")
    managers = [n for n in nodes if n.get("ManagerStatus")]
    reachable = [n for n in managers if _manager_status(n).get("Reachability") == "reachable"]
    if len(managers) < 3:
        raise AnsibleFilterError(
            f"the Swarm has {len(managers)} manager(s): stopping one would lose the Raft quorum. Back up with the "
            "whole Swarm stopped instead (Docker's procedure), or add managers."
        )
    if len(reachable) < len(managers):
        down = ", ".join(
            n.get("Description", {}).get("Hostname", n.get("ID", "?")) for n in managers if n not in reachable
        )
        raise AnsibleFilterError(
            f"manager(s) {down} not reachable: stopping another one could lose the Raft quorum. Bring them back first."
        )
    by_id = {node_id: host for host, node_id in node_ids.items() if node_id}
    candidates = [
        by_id[n["ID"]] for n in managers if n.get("ID") in by_id and not _manager_status(n).get("Leader", False)
    ]
    if requested:
        if requested not in node_ids:
            raise AnsibleFilterError(f"backup_swarm_manager: {requested} is not a manager that answered")
        if requested not in candidates:
            raise AnsibleFilterError(f"backup_swarm_manager: {requested} is the leader; choose another manager")
        return requested
    if not candidates:
        raise AnsibleFilterError("no manager of the inventory that answered is a reachable non-leader manager")
    return sorted(candidates)[0]


class FilterModule:
    def filters(self):
        return {"swarm_backup_manager": swarm_backup_manager}
