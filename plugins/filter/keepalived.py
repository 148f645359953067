"""What the keepalived role derives for one manager's VRRP instance: its own and its peers' addresses, the
interface and prefix of the floating address, and its priority.

The addresses come from the Swarm, not from the peers' facts: a manager that is down during the run still
has its address in the managers' node list (ManagerStatus.Addr), so every config written names every peer.
A config that missed a peer would let that peer, once back, hear no advertisement and take the address too.

Tested in tests/unit/plugins/filter/test_keepalived_filters.py.
"""

import ipaddress

from ansible.errors import AnsibleFilterError


def _host_of(addr):
    """'10.0.0.1:2377' -> '10.0.0.1'; '[fd00::1]:2377' -> 'fd00::1'; a bare address is returned as is."""
    addr = str(addr or "").strip()
    if addr.startswith("["):
        return addr[1:].split("]", 1)[0]
    if addr.count(":") == 1:
        return addr.split(":", 1)[0]
    return addr


def keepalived_swarm_addresses(nodes, node_id):
    """This manager's Swarm address and the other managers', from community.docker.docker_node_info's nodes.

    nodes: the ``nodes`` list of docker_node_info (every node). node_id: this engine's Swarm node ID
    (docker_host_info's ``Swarm.NodeID``). Returns {'address': str, 'peers': [str]}, peers sorted, down
    managers included (their address is what the Swarm recorded)."""
    if not isinstance(nodes, list) or not node_id:
        raise AnsibleFilterError("keepalived_swarm_addresses: expects the nodes list of docker_node_info and a node ID")
    own, peers = "", []
    for node in nodes:
        if not isinstance(node, dict) or (node.get("Spec") or {}).get("Role") != "manager":
            continue
        address = _host_of((node.get("ManagerStatus") or {}).get("Addr"))
        if not address:
            continue
        if node.get("ID") == node_id:
            own = address
        else:
            peers.append(address)
    if not own:
        raise AnsibleFilterError(
            f"keepalived_swarm_addresses: node {node_id} is not a manager with an address in the Swarm's node list"
        )
    return {"address": own, "peers": sorted(set(peers) - {own}, key=ipaddress.ip_address)}


def _ipv4_entries(facts, name):
    """(address, netmask) pairs of one interface's facts: primary first, then secondaries."""
    iface = facts.get(name.replace("-", "_")) or facts.get(name) or {}
    entries = []
    for entry in [iface.get("ipv4") or {}, *(iface.get("ipv4_secondaries") or [])]:
        if isinstance(entry, dict) and entry.get("address"):
            entries.append((entry["address"], entry.get("netmask") or "255.255.255.255"))
    return entries


def keepalived_interface(facts, address, interface="", vip="", prefix=0):
    """The interface that carries ``address`` (or ``interface`` when given) and the floating address's prefix.

    facts: the host's ansible_facts (network subset). address: this host's own address on the VRRP network.
    prefix 0 takes the prefix of that address's network; the floating address ``vip`` must then lie inside it
    (gratuitous ARP moves it only within one layer-2 network) and must not be the host's own address.
    Returns {'interface': name, 'prefix': int}."""
    if not isinstance(facts, dict):
        raise AnsibleFilterError("keepalived_interface: expects the host's ansible_facts")
    names = [interface] if interface else list(facts.get("interfaces") or [])
    if interface and interface.replace("-", "_") not in facts and interface not in (facts.get("interfaces") or []):
        raise AnsibleFilterError(f"keepalived_interface={interface}: no such interface in the host's facts")
    found = None
    for name in names:
        for addr, netmask in _ipv4_entries(facts, name):
            if addr == address:
                found = (name, ipaddress.ip_interface(f"{addr}/{netmask}"))
                break
        if found:
            break
    if found is None:
        where = f"interface {interface}" if interface else "any interface"
        raise AnsibleFilterError(
            f"keepalived: the host's Swarm address {address} is not on {where}; "
            "set keepalived_interface (and check swarm_advertise_addr)"
        )
    name, own = found
    if vip:
        vip_addr = ipaddress.ip_address(vip)
        if vip_addr == own.ip:
            raise AnsibleFilterError(f"keepalived_address={vip} is this host's own address: choose an unused one")
        if not prefix and vip_addr not in own.network:
            raise AnsibleFilterError(
                f"keepalived_address={vip} is outside {name}'s network {own.network}: "
                "choose an address of that network (or set keepalived_prefix and route it yourself)"
            )
    return {"interface": name, "prefix": int(prefix) or own.network.prefixlen}


def keepalived_priority(host, hosts, top=150, step=10):
    """VRRP priority from the host's place in ``hosts``: top, top - step, ... never below 1.

    The order matters only when several managers start at once or the holder fails: the highest priority
    healthy one takes the address. A host outside ``hosts`` gets the lowest priority."""
    hosts = list(hosts or [])
    index = hosts.index(host) if host in hosts else len(hosts)
    return max(1, min(254, int(top) - int(step) * index))


class FilterModule:
    def filters(self):
        return {
            "keepalived_swarm_addresses": keepalived_swarm_addresses,
            "keepalived_interface": keepalived_interface,
            "keepalived_priority": keepalived_priority,
        }
