"""site.yml in --check --diff on the converged cluster: nothing to change, nothing secret shown."""

from conftest import MANAGER, ROOT, client

testinfra_hosts = [f"ansible://{MANAGER}"]


def test_site_check_mode_reports_no_change(report):
    run = client.run_playbook(ROOT / "site.yml", check=True)
    assert run.rc == 0, run.output[-5000:]
    assert run.failed == 0 and run.changed == 0, run.output[-5000:]
    assert client.PASSWORD not in run.output
    report(f"cluster site.yml --check --diff: changed={run.changed}")
