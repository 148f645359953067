"""Which manager runs the one-manager plays (image build, stack deploy) of site.yml.

site.yml asks every manager of the play for its own Swarm node (community.docker.docker_node_info with
self: true, failures ignored) and passes the answers here, by inventory host, with the inventory order of the
managers. A manager qualifies when its engine answered (it is up and its Swarm has a leader: `node inspect`
is refused without one), its node is Ready, and it is a reachable member of the Raft quorum (the leader is
reachable too). The first one that qualifies, in inventory order, runs the plays: while the first manager is
healthy nothing moves, and with it down the next one takes over without an inventory change.

Tested in tests/unit/plugins/filter/test_swarm_managers.py.
"""

from ansible.errors import AnsibleFilterError


def _node(answer):
    """The node document of one docker_node_info (self: true) answer, or None when it has none."""
    if not isinstance(answer, dict) or answer.get("failed") or answer.get("unreachable"):
        return None
    nodes = answer.get("nodes") or []
    return nodes[0] if nodes and isinstance(nodes[0], dict) else None


def manager_problem(answer):
    """Why one answer does not qualify its manager ('' when it does): for the failure message."""
    if not isinstance(answer, dict):
        return "no answer"
    if answer.get("unreachable"):
        return "unreachable"
    node = _node(answer)
    if answer.get("failed") or answer.get("skipped") or node is None:
        return answer.get("msg") or "the engine did not answer for its Swarm node"
    state = (node.get("Status") or {}).get("State")
    reachability = (node.get("ManagerStatus") or {}).get("Reachability")
    checks = [
        ((node.get("Spec") or {}).get("Role") == "manager", "not a manager"),
        (state == "ready", f"node state {state}"),
        (reachability == "reachable", f"manager reachability {reachability}"),
    ]
    return next((why for ok, why in checks if not ok), "")


def swarm_ready_managers(answers, order=None):
    """Hosts whose answer qualifies them, in `order` (default: the dict's order).

    answers: {inventory host: registered docker_node_info (self: true) result}. order: host names; hosts of
    `order` without an answer are left out, answers of hosts outside `order` are ignored."""
    if not isinstance(answers, dict):
        raise AnsibleFilterError("swarm_ready_managers: expects a dict of inventory host -> docker_node_info result")
    hosts = list(answers) if order is None else [h for h in order if h in answers]
    return [host for host in hosts if manager_problem(answers[host]) == ""]


def swarm_manager_problems(answers):
    """{host: why it does not qualify} for every host that does not (for the failure message)."""
    if not isinstance(answers, dict):
        raise AnsibleFilterError("swarm_manager_problems: expects a dict of inventory host -> docker_node_info result")
    problems = {host: manager_problem(answer) for host, answer in answers.items()}
    return {host: why for host, why in problems.items() if why}


class FilterModule:
    def filters(self):
        return {
            "swarm_ready_managers": swarm_ready_managers,
            "swarm_manager_problems": swarm_manager_problems,
        }
