"""An update to a broken image (its command exits at once) through update_service.yml: the play fails,
Swarm rolls the service back to the image it ran, and the proxy answers throughout."""

import time

import pytest
from ha_helpers import MANAGER, PLAYBOOKS, SERVICE, run_playbook, update

testinfra_hosts = [f"ansible://{MANAGER}"]


@pytest.fixture(scope="module")
def images(manager):
    """The deployed image, and a tag derived from it whose container exits at once, pushed."""
    ref = update.current_image(manager).split("@")[0]
    broken = ref.rsplit(":", 1)[0] + ":ha-broken"
    manager.check_output(
        f'printf \'FROM {ref}\\nENTRYPOINT ["sh", "-c", "exit 1"]\\n\' | docker build -q -t {broken} -'
        f" && docker push -q {broken}"
    )
    return ref, broken


def test_broken_image_rolls_back_and_the_proxy_answers(cafile, user, manager, images, report):
    ref, broken = images
    with update.Poller(cafile, user) as poller:
        started = time.time()
        run = run_playbook(PLAYBOOKS / "update_service.yml", extra_vars={"service": SERVICE, "image": broken})
        elapsed = time.time() - started
    assert run.rc != 0, run.output
    assert "roll" in run.output.lower(), run.output
    assert update.current_image(manager).split("@")[0] == ref
    assert [i.split("@")[0] for i in update.running_images(manager)] == [ref] * 2
    report(
        f"ha broken image: play failed and rolled back in {elapsed:.0f} s,"
        f" {poller.failed} failed of {poller.ok + poller.failed} requests {poller.errors[:5]}"
    )
    assert poller.ok > 0
    assert poller.failed == 0, poller.errors
