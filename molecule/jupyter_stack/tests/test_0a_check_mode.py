"""--check --diff of the whole converge (registry, jupyter_image, jupyter_stack) on the converged platform: every
role runs through and reports nothing to change. Before the update tests (test_3), which leave the stack on
images of their own that a converge would put back."""

from stack_helpers import MANAGER

testinfra_hosts = [f"ansible://{MANAGER}"]


def test_check_mode_reports_no_change(converge):
    run = converge(check=True)
    assert run.rc == 0, run.output
    assert run.failed == 0
    assert run.changed == 0, run.output
