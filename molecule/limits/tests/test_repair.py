"""A hand edit of what the role manages is found by its one read and put back by the next run, and only that."""

import re

import pytest

PAM_LIMITS = re.compile(r"^\s*-?session\s+(\[[^\]]*\]|\S+)\s+(\S*/)?pam_limits\.so(\s|$)", re.M)
DROPIN = "/etc/security/limits.d/condaswarm.conf"
SYSTEMD_DROPIN = "/etc/systemd/system.conf.d/condaswarm-limits.conf"
RUNNER = "/usr/local/bin/condaswarm-ulimit"
# A sed command that takes pam_limits' session line out of a stack (comment lines stay).
NO_PAM_LIMITS = r"/^\s*-\?session\s\+\S\+\s\+\(\S*\/\)\?pam_limits\.so/d"

EDITS = {
    "limits-conf-edited": (f"printf '*\\tsoft\\tcore\\t0\\n' >> {DROPIN}", DROPIN),
    "runner-mode-loosened": (f"chmod 0777 {RUNNER}", RUNNER),
    "systemd-dropin-edited": (f"printf 'DefaultLimitCORE=0\\n' >> {SYSTEMD_DROPIN}", SYSTEMD_DROPIN),
}


def _state(host, path):
    f = host.file(path)
    return f.sha256sum, f.mode, f.user, f.group


def _pam_limits_lines(host, service):
    return len(PAM_LIMITS.findall(host.file(f"/etc/pam.d/{service}").content_string))


@pytest.mark.parametrize("edit", list(EDITS))
def test_hand_edit_is_put_back_by_the_next_run(host, converge, edit):
    command, path = EDITS[edit]
    before = _state(host, path)
    host.check_output(command)
    assert _state(host, path) != before  # the edit took
    run = converge()
    assert run.rc == 0, run.output
    assert run.changed == 1, run.output  # that file alone
    assert _state(host, path) == before


@pytest.mark.parametrize("service", ["login", "su"])
def test_pam_limits_taken_out_of_a_stack_comes_back_once(host, converge, service):
    # login has Debian's own line, su the one the role appended (prepare.yml took Debian's out).
    host.check_output(f"sed -i '{NO_PAM_LIMITS}' /etc/pam.d/{service}")
    assert _pam_limits_lines(host, service) == 0
    run = converge()
    assert run.rc == 0, run.output
    assert run.changed == 1, run.output
    assert _pam_limits_lines(host, service) == 1


def test_a_stack_that_gets_pam_limits_through_an_include_is_left_alone(host, converge):
    # su loses its own line and pulls pam_limits in through common-session instead (Debian's su includes it).
    assert "@include common-session" in host.file("/etc/pam.d/su").content_string
    host.check_output("cp -a /etc/pam.d/su /root/su.saved && cp -a /etc/pam.d/common-session /root/cs.saved")
    try:
        host.check_output(f"sed -i '{NO_PAM_LIMITS}' /etc/pam.d/su")
        host.check_output("printf 'session required pam_limits.so\\n' >> /etc/pam.d/common-session")
        edited = host.file("/etc/pam.d/su").sha256sum
        run = converge()
        assert run.rc == 0, run.output
        assert run.changed == 0, run.output
        assert host.file("/etc/pam.d/su").sha256sum == edited
        # The limits still reach a login through the included file.
        assert host.run("su -l alice -c 'ulimit -Hn'").stdout.strip() == "8192"
    finally:
        host.check_output("mv /root/su.saved /etc/pam.d/su && mv /root/cs.saved /etc/pam.d/common-session")
