"""The stable entry (keepalived role): one manager holds keepalived_address, the HTTPS entry answers there,
the address moves to another manager when its holder dies and stays put when the holder comes back.

Runs first in the scenario and leaves it as it found it: the killed manager is started again and is Ready,
reachable in the Raft quorum and serving its own proxy port before the test ends."""

import subprocess
import time

import pytest
import requests
from ha_helpers import IPS, MANAGER, MANAGERS, node, node_field, restart_node, session, wait

testinfra_hosts = [f"ansible://{MANAGER}"]

VIP = "10.208.0.10"
ENTRY = f"https://{VIP}/api"
HANDOVER = "/etc/keepalived/condaswarm_entry_down"


def holders():
    """Managers whose interfaces carry the floating address (read with docker exec: a killed one has none)."""
    found = []
    for name in MANAGERS:
        out = subprocess.run(
            ["docker", "exec", name, "ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=False
        ).stdout
        if f" {VIP}/" in out:
            found.append(name)
    return found


def keepalived_journals():
    """The last lines keepalived logged on each manager (state changes, the check script's verdicts)."""
    return {
        name: subprocess.run(
            ["docker", "exec", name, "journalctl", "-u", "keepalived", "-n", "15", "--no-pager", "-o", "cat"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        for name in MANAGERS
    }


def answers(client, url=ENTRY, timeout=1):
    try:
        return client.get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def first_answer(client, limit):
    """Seconds until the entry answers 200, polled every 0.2 s; None after `limit` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if answers(client):
            return time.monotonic() - started
        time.sleep(0.2)
    return None


@pytest.fixture(scope="module")
def client(cafile):
    # The stack's certificate names the floating address (jupyter_stack_tls_names): verified, not skipped.
    return session(cafile)


def test_one_manager_holds_the_address_and_serves(client):
    wait(lambda: len(holders()) == 1, 30, f"one manager holding {VIP}", step=1)
    assert len(holders()) == 1, holders()
    assert answers(client, timeout=10)


def test_holder_killed_address_moves_then_holder_rejoins(client, report):
    victim = holders()[0]
    subprocess.run(["docker", "kill", victim], check=True, capture_output=True)
    try:
        moved = first_answer(client, 30)
        assert moved is not None, f"{ENTRY} did not answer within 30 s of killing {victim}"
        now = holders()
        assert len(now) == 1 and now[0] != victim, now
        report(f"ha entry address: {victim} killed, {ENTRY} answered again via {now[0]} after {moved:.1f} s")
    finally:
        restart_node(victim)
    # While the killed manager comes back, the entry keeps answering and the address stays where it is
    # (nopreempt): a returning manager costs the clients nothing.
    survivor = holders()
    # Asked on a live manager: the victim's own engine is still starting.
    live = node(survivor[0])
    failed, polled = 0, 0
    started = time.monotonic()
    back = None
    while time.monotonic() - started < 180:
        polled += 1
        failed += not answers(client, timeout=3)
        if back is None and answers(client, f"https://{IPS[victim]}/api", timeout=3):
            if node_field(live, victim, "{{.ManagerStatus.Reachability}}") == "reachable":
                back = time.monotonic() - started
        # A few more polls once it is back: it must not take the address over.
        if back is not None and time.monotonic() - started > back + 5:
            break
        time.sleep(0.5)
    assert back is not None, f"{victim} not reachable and serving its proxy port within 180 s"
    assert failed == 0, f"{failed} of {polled} requests to {ENTRY} failed while {victim} came back"
    assert holders() == survivor, f"{holders()} hold {VIP}, was {survivor}"
    assert node_field(live, victim, "{{.Status.State}}") == "ready"
    report(f"ha entry address: {victim} back after {back:.0f} s, {polled} requests to the address, 0 failed")


def test_handover_file_moves_the_address(client, report):
    """The check script (what makes a manager that cannot serve give the address up) in action."""
    holder = holders()[0]
    node(holder).check_output(f"touch {HANDOVER}")
    try:
        started = time.monotonic()
        try:
            wait(lambda: holders() not in ([holder], []), 20, f"{VIP} off {holder}", step=0.2)
        except pytest.fail.Exception as failed:
            pytest.fail(f"{failed}; holders {holders()}; keepalived's journals: {keepalived_journals()}")
        moved = time.monotonic() - started
        # Polled: the client's kept-alive connection went to the old holder and is reset once the address
        # has moved; the next connection reaches the new holder.
        served = first_answer(client, 15)
        assert served is not None, f"{ENTRY} did not answer within 15 s of the move; holders {holders()}"
        assert len(holders()) == 1, holders()
        report(
            f"ha entry address: handed over by {holder}'s check script in {moved:.1f} s,"
            f" {ENTRY} answered again via {holders()[0]} {served:.1f} s later"
        )
    finally:
        node(holder).check_output(f"rm -f {HANDOVER}")
