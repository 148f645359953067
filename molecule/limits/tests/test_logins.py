"""Limits reach users through a real login (su -l runs the su PAM stack), and only the jupyter group's users."""

import re

import pytest

PAM_LIMITS = re.compile(r"^\s*-?session\s+(\[[^\]]*\]|\S+)\s+(\S*/)?pam_limits\.so(\s|$)", re.M)


def _login(host, user, command):
    return host.run(f"su -l {user} -c {command!r}")


def test_group_member_gets_the_configured_limits(host):
    out = _login(host, "alice", "ulimit -Sn; ulimit -Hn; ulimit -Ss; ulimit -Hs; ulimit -Sv; ulimit -Hv; ulimit -c")
    assert out.rc == 0, out.stderr
    assert out.stdout.split() == ["4096", "8192", "8192", "65536", "4194304", "8388608", "0"]


def test_other_users_keep_the_inherited_limits(host):
    # Hard limits and the address space are inherited untouched (su itself resets the soft open-files to 1024).
    inherited = host.check_output("ulimit -Hn; ulimit -Hs; ulimit -Sv; ulimit -Hv").split()
    out = _login(host, "bob", "ulimit -Hn; ulimit -Hs; ulimit -Sv; ulimit -Hv")
    assert out.rc == 0, out.stderr
    assert out.stdout.split() == inherited
    assert inherited[1:] == ["unlimited"] * 3


def test_hard_limit_cannot_be_raised_by_the_user(host):
    out = _login(host, "alice", "ulimit -n 9000")
    assert out.rc != 0
    assert _login(host, "alice", "ulimit -n 8000 && ulimit -n").stdout.strip() == "8000"


@pytest.mark.parametrize("service", ["login", "sshd", "su"])
def test_pam_limits_runs_once_per_stack(host, service):
    text = host.file(f"/etc/pam.d/{service}").content_string
    included = re.findall(r"^\s*@include\s+(\S+)", text, re.M)
    count = len(PAM_LIMITS.findall(text)) + sum(
        len(PAM_LIMITS.findall(host.file(f"/etc/pam.d/{name}").content_string)) for name in included
    )
    assert count == 1


def test_scientific_stack_imports_under_the_login_limits(host):
    # numpy with OpenBLAS (threads started) and SciPy under the address-space limit a notebook user gets.
    script = "import numpy, scipy.linalg; a = numpy.ones((400, 400)); print(int((a @ a).sum()), numpy.__version__)"
    out = _login(host, "alice", f"python3 -c '{script}'")
    assert out.rc == 0, out.stderr
    assert out.stdout.split()[0] == str(400**3)
