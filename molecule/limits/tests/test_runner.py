"""condaswarm-ulimit: default limits, per-call overrides, and a runaway allocation that dies alone."""

RUNNER = "/usr/local/bin/condaswarm-ulimit"
SHOW = "sh -c 'ulimit -v; ulimit -n; ulimit -s; ulimit -Hv'"


def test_defaults_apply_soft_and_hard(host):
    assert host.check_output(f"{RUNNER} {SHOW}").split() == ["4194304", "1024", "8192", "4194304"]


def test_options_and_environment_override(host):
    assert host.check_output(f"{RUNNER} -v 1048576 -n 256 -s 4096 {SHOW}").split() == [
        "1048576",
        "256",
        "4096",
        "1048576",
    ]
    env = "CONDASWARM_ULIMIT_NOFILE=512 CONDASWARM_ULIMIT_AS_KB="
    inherited_as = host.check_output("ulimit -v")
    assert host.check_output(f"env {env} {RUNNER} {SHOW}").split() == [inherited_as, "512", "8192", inherited_as]
    # The option wins over the environment.
    assert host.check_output(f"env {env} {RUNNER} -n 300 sh -c 'ulimit -n'") == "300"


def test_exec_keeps_the_pid(host):
    # cron, systemd and Jupyter watch the PID they started: the runner must become the command.
    pids = host.check_output(f"sh -c 'echo $$; exec {RUNNER} sh -c \"echo \\$\\$\"'").split()
    assert len(pids) == 2
    assert pids[0] == pids[1]


def test_runaway_allocation_raises_memory_error_and_the_shell_survives(host):
    # 6 GiB against the default 4 GiB address space: the allocation is refused before anything is touched.
    out = host.run(f"su -l alice -c '{RUNNER} python3 -c \"b = bytearray(6 * 1024 ** 3)\"; echo shell-alive rc=$?'")
    assert "MemoryError" in out.stderr
    assert out.stdout.split() == ["shell-alive", "rc=1"]
    assert out.rc == 0


def test_the_limit_stays_with_the_command(host):
    # 3 GiB fits the login's 4 GiB but not the 2 GiB given to this call; the shell keeps its own limit.
    out = host.run(
        f"su -l alice -c '{RUNNER} -v 2097152 python3 -c \"b = bytearray(3 * 1024 ** 3)\"; echo rc=$?; ulimit -v'"
    )
    assert "MemoryError" in out.stderr
    assert out.stdout.split() == ["rc=1", "4194304"]


def test_scientific_stack_imports_under_the_runner_defaults(host):
    out = host.run(f"{RUNNER} python3 -c 'import numpy, scipy.linalg; print(numpy.ones(3).sum())'")
    assert out.rc == 0, out.stderr
    assert out.stdout.strip() == "3.0"


def test_a_limit_above_the_hard_limit_fails_loudly(host):
    out = host.run(f"su -l alice -c '{RUNNER} -n 100000 true'")
    assert out.rc != 0
    assert "ulimit" in out.stderr


def test_usage_without_a_command(host):
    out = host.run(RUNNER)
    assert out.rc == 2
    assert "usage: condaswarm-ulimit" in out.stderr
