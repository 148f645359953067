#!/usr/bin/python
# Copyright: condaswarm.cluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_state
short_description: Read a host's files, packages, accounts, PAM stacks, sshd settings and services in one call
version_added: 0.1.0
description:
  - Returns, as structured data, the state of the files, Debian packages, groups, users, PAM stacks,
    OpenSSH server settings and systemd units named in its options. Read-only; C(changed) is always false
    and check mode runs the same.
  - Runs only the system's own tools (C(dpkg-query), C(getent), C(id), C(systemctl), C(sshd -T), C(ssh -V),
    C(ssh -Q), C(ssh-keygen -l)), with argument lists and the C locale; files, directories and PAM stacks
    are read in Python.
  - Every option is optional. A result section is returned only when its option is given.
  - Never ask for the C(contents) of a secret in O(files); compare its checksum instead (the text would travel
    to the controller and into logs).
author:
  - condaswarm.cluster developers (@condaswarm)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Read-only; check mode reads the same.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  files:
    description:
      - Paths to look at, each a string or a dict with C(path) (absolute, required) and C(contents)
        (bool, default false; true returns the file's UTF-8 text too).
      - Symlinks are followed like C(stat -L). A path that exists but cannot be read fails the module
        (it is never reported as missing), so does C(contents=true) on a file that is not UTF-8.
    type: list
    elements: raw
  packages:
    description:
      - Debian package names (optionally C(name:arch)), read with one C(dpkg-query --show).
    type: list
    elements: str
  groups:
    description: Group names, read with one C(getent group). A number is not taken for a GID.
    type: list
    elements: str
  users:
    description: User names, read with one C(getent passwd) and C(id -Gn) for each user that exists.
    type: list
    elements: str
  pam:
    description: PAM services whose stacks are searched for a module.
    type: dict
    suboptions:
      dir:
        description: Directory of the PAM service files; relative includes are looked up here too.
        type: str
        default: /etc/pam.d
      services:
        description: Service names (file names in O(pam.dir)).
        type: list
        elements: str
        default: []
      module:
        description: The PAM module looked for, with or without a directory.
        type: str
        default: pam_limits.so
      type:
        description: The PAM rule type that counts.
        type: str
        choices: [account, auth, password, session]
        default: session
  sshd:
    description: The OpenSSH server's build, supported algorithms and effective settings, globally and for users.
    type: dict
    suboptions:
      binary:
        description: Path of the sshd binary.
        type: str
        default: /usr/sbin/sshd
      users:
        description:
          - Users whose effective settings (C(sshd -T -C user=NAME,host=localhost,addr=127.0.0.1)),
            key files and valid keys are read.
        type: list
        elements: str
        default: []
      options:
        description:
          - Settings passed to every C(sshd -T) as C(-o keyword=value), for example the C(AuthorizedKeysFile)
            of a drop-in that is not in place yet. A list value is joined with spaces, a boolean becomes yes/no.
        type: dict
        default: {}
      queries:
        description: C(ssh -Q) queries whose answers are returned under RV(sshd.supported).
        type: list
        elements: str
        default: [kex, cipher, mac]
      host_keys:
        description: Host key files (private or public) whose type, size and fingerprint C(ssh-keygen -l) reads.
        type: list
        elements: path
        default: []
  services:
    description: systemd unit names, read with one C(systemctl show).
    type: list
    elements: str
notes:
  - Run it with C(become) when it must read files only root can read, and for O(sshd) (C(sshd -T) reads the host keys).
seealso:
  - module: ansible.builtin.stat
  - module: ansible.builtin.package_facts
  - module: ansible.builtin.getent
  - module: ansible.builtin.service_facts
"""

EXAMPLES = r"""
- name: Read the PAM stacks, the groups and the files the limits role owns
  condaswarm.cluster.host_state:
    files:
      - /etc/security/limits.d/condaswarm.conf
      - /etc/systemd/system.conf.d
    groups: [jupyter]
    pam:
      services: [login, sshd, su]
      module: pam_limits.so
      type: session
  register: _limits_state

- name: Tell whether the limits file differs from the template
  ansible.builtin.debug:
    msg: >-
      {{ _limits_state.files['/etc/security/limits.d/condaswarm.conf']
         | condaswarm.cluster.file_differs(checksum=lookup('ansible.builtin.template', 'limits.conf.j2') | sha1,
                                           mode='0644', owner='root', group='root') }}

- name: Read the OpenSSH build and where sshd looks for the admin's keys once the drop-in is in place
  condaswarm.cluster.host_state:
    sshd:
      users: [admin]
      options:
        AuthorizedKeysFile: .ssh/authorized_keys /etc/ssh/authorized_keys/%u
    packages: [openssh-server]
    services: [ssh.service]
    files:
      - path: /etc/ssh/sshd_config
        contents: true
  become: true
  register: _sshd_state
"""

RETURN = r"""
files:
  description:
    - >-
      Path as given -> C({"exists": false}) when nothing is there, else C(exists), C(type) (C(file), C(directory)
      or C(other)), C(mode) (four octal digits), C(uid), C(gid), C(owner), C(group) (the name, or the number
      as a string), and for a regular file C(checksum) (SHA-1) and, with C(contents=true), C(text).
  returned: when O(files) is given
  type: dict
  sample:
    /etc/ssh/sshd_config: {exists: true, type: file, mode: "0644", uid: 0, gid: 0, owner: root, group: root,
                           checksum: 2d8a6f1e7c0c4a4b1c1bde9e4f4a8b9f5d6b7a10}
    /etc/ssh/sshd_config.d: {exists: true, type: directory, mode: "0755", uid: 0, gid: 0, owner: root, group: root}
    /etc/nothing: {exists: false}
packages:
  description:
    - Name as given -> C(installed) (dpkg's status is C(installed)), C(version) (the version dpkg knows, also for
      a package removed but not purged; empty when none), C(selection) (C(install), C(hold), C(deinstall),
      C(purge) or C(unknown)) and C(status) (C(installed), C(not-installed), C(config-files), C(half-configured)...).
    - >-
      A package dpkg has never seen is
      C({"installed": false, "version": "", "selection": "unknown", "status": "not-installed"}).
  returned: when O(packages) is given
  type: dict
  sample:
    openssh-server: {installed: true, version: "1:9.2p1-2+deb12u3", selection: install, status: installed}
    docker-ce: {installed: false, version: "", selection: unknown, status: not-installed}
groups:
  description: Name -> C(exists), and for a group that exists C(gid) and C(members) (the group's own member list).
  returned: when O(groups) is given
  type: dict
  sample:
    jupyter: {exists: true, gid: 1001, members: [alice]}
    nosuch: {exists: false}
users:
  description:
    - Name -> C(exists), and for a user that exists C(uid), C(gid), C(home), C(shell) and C(groups) (names,
      the primary group first).
  returned: when O(users) is given
  type: dict
  sample:
    root: {exists: true, uid: 0, gid: 0, home: /root, shell: /bin/bash, groups: [root]}
pam:
  description:
    - Service -> C(exists) (the service file is there) and C(has_module) (the stack or a file it pulls in through
      C(@include) or C(<type> include|substack), followed recursively, has a C(<type>) rule loading the module;
      comments do not count).
  returned: when O(pam) is given
  type: dict
  sample:
    sshd: {exists: true, has_module: true}
    login: {exists: true, has_module: false}
sshd:
  description:
    - >-
      C({"present": false}) when the sshd binary is not executable or C(ssh) or C(ssh-keygen) is not on the PATH;
      else all the keys below.
  returned: when O(sshd) is given
  type: dict
  contains:
    present:
      description: Whether the OpenSSH server and client tools are there.
      returned: always
      type: bool
      sample: true
    version:
      description: OpenSSH's version from C(ssh -V) (the part after C(OpenSSH_)); empty if not recognised.
      returned: when present
      type: str
      sample: 9.2p1
    supported:
      description: Query of O(sshd.queries) -> the names C(ssh -Q) lists for it.
      returned: when present
      type: dict
      sample: {kex: [curve25519-sha256, sntrup761x25519-sha512@openssh.com], cipher: [aes256-gcm@openssh.com],
               mac: [hmac-sha2-256-etm@openssh.com]}
    effective:
      description:
        - Keyword -> value from the global C(sshd -T) with O(sshd.options); keywords in lower case, as sshd prints them.
        - C(port), C(listenaddress), C(hostkey), C(hostcertificate), C(allowusers), C(denyusers), C(allowgroups),
          C(denygroups), C(acceptenv), C(setenv), C(subsystem) and C(authorizedkeysfile) (one item per file) are
          always lists, so is any other keyword sshd prints more than once; the rest are strings.
      returned: when present
      type: dict
      sample: {port: ["22"], listenaddress: ["0.0.0.0:22"], passwordauthentication: "no",
               authorizedkeysfile: [.ssh/authorized_keys, .ssh/authorized_keys2]}
    users:
      description:
        - >-
          User of O(sshd.users) -> C({"exists": false}), or C(exists), C(uid), C(home), C(groups) (names, the
          primary group first), C(effective) (like RV(sshd.effective), from
          C(sshd -T -C user=NAME,host=localhost,addr=127.0.0.1) with O(sshd.options)), C(keyfiles) and C(valid_keys).
        - C(keyfiles) are the absolute paths of the user's AuthorizedKeysFile entries, C(none) left out, the tokens
          C(%%), C(%h), C(%u) and C(%U) expanded, relative paths under the home directory, each once.
        - C(valid_keys) counts the keys C(ssh-keygen -l) lists over the key files that exist.
      returned: when present
      type: dict
      sample:
        admin: {exists: true, uid: 1000, home: /home/admin, groups: [admin, sudo], effective: {},
                keyfiles: [/home/admin/.ssh/authorized_keys, /home/admin/.ssh/authorized_keys2], valid_keys: 1}
        nobody-here: {exists: false}
    host_keys:
      description:
        - >-
          Path of O(sshd.host_keys) -> C({"exists": false}), or C(exists), C(bits), C(fingerprint) and C(type) as
          C(ssh-keygen -l) prints them (only C(exists) for a file that holds no key).
      returned: when present
      type: dict
      sample:
        /etc/ssh/ssh_host_ed25519_key:
          exists: true
          bits: 256
          fingerprint: SHA256:R4vtfSvuQbMpj/guqSDB/OdML4NtiNZuuXxLgp7BSp4
          type: ED25519
        /etc/ssh/ssh_host_rsa_key: {exists: false}
services:
  description:
    - Unit name as given -> C(exists) (LoadState is not C(not-found)), C(active) (ActiveState), C(sub) (SubState)
      and C(enabled) (UnitFileState, empty for a unit without a unit file).
  returned: when O(services) is given
  type: dict
  sample:
    ssh.service: {exists: true, active: active, sub: running, enabled: enabled}
    nosuch.service: {exists: false, active: inactive, sub: dead, enabled: ""}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.condaswarm.cluster.plugins.module_utils.host_state import (
    LOCALE_C,
    HostState,
    HostStateError,
)

ARGUMENT_SPEC = {
    "files": {"type": "list", "elements": "raw"},
    "packages": {"type": "list", "elements": "str"},
    "groups": {"type": "list", "elements": "str"},
    "users": {"type": "list", "elements": "str"},
    "pam": {
        "type": "dict",
        "options": {
            "dir": {"type": "str", "default": "/etc/pam.d"},
            "services": {"type": "list", "elements": "str", "default": []},
            "module": {"type": "str", "default": "pam_limits.so"},
            "type": {"type": "str", "choices": ["account", "auth", "password", "session"], "default": "session"},
        },
    },
    "sshd": {
        "type": "dict",
        "options": {
            "binary": {"type": "str", "default": "/usr/sbin/sshd"},
            "users": {"type": "list", "elements": "str", "default": []},
            "options": {"type": "dict", "default": {}},
            "queries": {"type": "list", "elements": "str", "default": ["kex", "cipher", "mac"]},
            "host_keys": {"type": "list", "elements": "path", "default": [], "no_log": False},
        },
    },
    "services": {"type": "list", "elements": "str"},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)

    def run(argv):
        return module.run_command(argv, environ_update=LOCALE_C)

    try:
        result = HostState(run=run, which=module.get_bin_path).collect(module.params)
    except HostStateError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
