"""Rolling updates of the Jupyter image through playbooks/update_service.yml while clients keep
asking the proxy: a good image replaces every replica without failed requests; a broken one rolls
back and the platform keeps answering."""

import threading
import time

import pytest
from stack_helpers import BASE, MANAGER, ROOT, SERVICE, api, run_playbook, session

testinfra_hosts = [f"ansible://{MANAGER}"]

PLAYBOOK = ROOT / "playbooks" / "update_service.yml"


class Poller(threading.Thread):
    """Asks the proxy every 0.2 s, as a new visitor (round robin) and as the logged-in user (sticky)."""

    def __init__(self, cafile, user):
        super().__init__(daemon=True)
        self.cafile, self.user = cafile, user
        self.stop, self.ok, self.failed, self.errors = threading.Event(), 0, 0, []

    def asks(self):
        """One round of requests, each a callable returning the HTTP status (subclasses ask elsewhere)."""
        return (
            lambda: session(self.cafile).get(BASE + "api", timeout=10).status_code,
            lambda: api(self.user, "GET", "api/contents").status_code,
        )

    def run(self):
        while not self.stop.is_set():
            for ask in self.asks():
                try:
                    status = ask()
                except Exception as e:
                    status = repr(e)
                if status == 200:
                    self.ok += 1
                else:
                    self.failed += 1
                    self.errors.append(status)
            time.sleep(0.2)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        time.sleep(2)  # requests just after the update count too
        self.stop.set()
        self.join(30)


def current_image(manager):
    return manager.check_output(
        f"docker service inspect {SERVICE} -f '{{{{.Spec.TaskTemplate.ContainerSpec.Image}}}}'"
    ).strip()


def running_images(manager):
    out = manager.check_output(
        f"docker service ps {SERVICE} --filter desired-state=running --no-trunc"
        " --format '{{.Image}} {{.CurrentState}}'"
    )
    return [line.split()[0] for line in out.splitlines() if line.split()[1] == "Running"]


@pytest.fixture(scope="module")
def images(manager):
    """Two derived tags of the deployed image, pushed: one with a changed label, one that exits at once."""
    ref = current_image(manager).split("@")[0]
    repo = ref.rsplit(":", 1)[0]
    good, broken = f"{repo}:rolling", f"{repo}:broken"
    for tag, extra in ((good, "LABEL io.condaswarm.test=rolling"), (broken, 'ENTRYPOINT ["sh", "-c", "exit 1"]')):
        manager.check_output(f"printf 'FROM {ref}\\n{extra}\\n' | docker build -q -t {tag} - && docker push -q {tag}")
    return ref, good, broken


def test_rolling_update_without_failed_requests(cafile, user, manager, images, report):
    _, good, _ = images
    with Poller(cafile, user) as poller:
        started = time.time()
        run = run_playbook(PLAYBOOK, extra_vars={"service": SERVICE, "image": good})
        elapsed = time.time() - started
    assert run.rc == 0, run.output
    assert current_image(manager).split("@")[0] == good
    assert [i.split("@")[0] for i in running_images(manager)] == [good] * 2
    report(
        f"rolling update {SERVICE} -> {good.rsplit(':', 1)[1]}: {elapsed:.0f} s,"
        f" {poller.failed} failed of {poller.ok + poller.failed} requests {poller.errors[:5]}"
    )
    assert poller.ok > 0
    assert poller.failed == 0, poller.errors


def test_broken_image_rolls_back_and_the_platform_answers(cafile, user, manager, images, report):
    _, good, broken = images
    with Poller(cafile, user) as poller:
        started = time.time()
        run = run_playbook(PLAYBOOK, extra_vars={"service": SERVICE, "image": broken})
        elapsed = time.time() - started
    assert run.rc != 0, run.output
    assert "roll" in run.output.lower()
    assert current_image(manager).split("@")[0] == good
    assert [i.split("@")[0] for i in running_images(manager)] == [good] * 2
    report(
        f"update to a broken image rolled back: {elapsed:.0f} s,"
        f" {poller.failed} failed of {poller.ok + poller.failed} requests {poller.errors[:5]}"
    )
    assert poller.failed == 0, poller.errors
