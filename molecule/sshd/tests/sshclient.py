"""Helpers: a real ssh client on the controller, talking to the nodes' sshd over the scenario network."""

import os
import subprocess
from pathlib import Path

# Set for alice, bob, carol and root by prepare.yml.
PASSWORD = "Corr3ct-Horse-2026"
NODES = ["sshd-debian12", "sshd-debian13"]
EPHEMERAL = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
KEY = EPHEMERAL / "id_ed25519"
SSH = [
    "ssh",
    "-F",
    "/dev/null",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "ConnectTimeout=10",
    "-o",
    "IdentityAgent=none",
]


def node_ip(name):
    out = subprocess.run(
        ["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()[0]


def key_login(ip, user, *options, command="id -un", port=22):
    """Public-key login with the operator's key and nothing else."""
    cmd = [*SSH, "-i", str(KEY), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "PasswordAuthentication=no"]
    cmd += [*options, "-p", str(port), "-l", user, ip, command]
    return subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)


def password_login(ip, user, password, *, port=22, askpass):
    """Password login (the client reads the password from an askpass helper), verbose."""
    cmd = [*SSH, "-v", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive"]
    cmd += ["-o", "NumberOfPasswordPrompts=1", "-p", str(port), "-l", user, ip, "id -un"]
    env = dict(os.environ, SSH_ASKPASS=str(askpass), SSH_ASKPASS_REQUIRE="force", SSH_TEST_PASSWORD=password)
    return subprocess.run(
        cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, timeout=60, check=False
    )


def sshd_config_state(name, files="/etc/ssh/sshd_config.d/*"):
    """Checksums of the main file and the drop-in directory's files of a node (read with docker exec)."""
    return subprocess.run(
        ["docker", "exec", name, "sh", "-c", f"sha256sum /etc/ssh/sshd_config {files}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def sshd_main_pid(name):
    """The PID of the node's listening sshd: a reload keeps it, a restart does not."""
    return subprocess.run(
        ["docker", "exec", name, "systemctl", "show", "-p", "MainPID", "--value", "ssh"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
