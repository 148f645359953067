"""--check --diff on the converged cluster: both roles run through and report nothing to change."""

from ji_helpers import MANAGER

testinfra_hosts = [f"ansible://{MANAGER}"]


def test_check_mode_reports_no_change(converge):
    run = converge(check=True)
    assert run.rc == 0, run.output
    assert run.failed == 0
    assert run.changed == 0, run.output
