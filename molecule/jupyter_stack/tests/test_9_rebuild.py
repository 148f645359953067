"""One rebuild decision for every image: the content hash of its build context, carried as a label (and, for
the Jupyter image, as its tag). A configuration change builds a new tag on top of the cached environment layer."""

import re
import time

from stack_helpers import MANAGER, SCENARIO, image_ref, run_playbook

testinfra_hosts = [f"ansible://{MANAGER}"]

CHANGE = {"jupyter_image_server_options": {"ServerApp.shutdown_no_activity_timeout": 0}}


def env_layer(host, ref):
    """ID of the image layer that installed the environment."""
    history = host.check_output(f"docker history --no-trunc --format '{{{{.ID}}}} {{{{.CreatedBy}}}}' {ref}")
    return next(line.split()[0] for line in history.splitlines() if "pip install -r" in line)


def context_label(host, image):
    return host.check_output(
        f"docker image inspect -f '{{{{index .Config.Labels \"io.condaswarm.context\"}}}}' {image}"
    )


def test_every_image_carries_the_hash_of_its_build_context(host, ref):
    assert context_label(host, ref).strip() == ref.rsplit(":", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{16}", context_label(host, "condaswarm/registry:debian12").strip())


def test_config_change_reuses_the_environment_layer(host, ref, report):
    started = time.time()
    run = run_playbook(SCENARIO / "converge.yml", limit=MANAGER, extra_vars=CHANGE)
    elapsed = time.time() - started
    assert run.rc == 0, run.output
    assert run.changed > 0
    new = image_ref(CHANGE)
    assert new != ref
    assert env_layer(host, new) == env_layer(host, ref)
    size = host.check_output(f"docker image inspect -f '{{{{.Size}}}}' {new}")
    report(f"config-only rebuild (env layer cached): converge {elapsed:.0f} s, image {int(size) / 1e6:.0f} MB")
