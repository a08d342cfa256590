#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# -*- coding: utf-8 -*-
# facts.py: Ansible module gathering tcptune's audit and doctor JSON as host facts.

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: facts
short_description: Gather tcptune's audit and doctor results as facts
description:
  - Runs C(tcptune -o json audit) and C(tcptune -o json doctor) on the target
    and returns their documents as the fact C(tcptune), for reports and
    conditions (C(tcptune.compliant), C(tcptune.drift)).
  - Changes nothing, so it runs the same in check mode.
  - Drift (audit exit 1) and doctor findings (doctor exit 1) are results, not
    failures. A tcptune failure (exit 2 or more) fails the task with
    tcptune's message and exit status in C(rc); with no I(profiles) and no
    apply recorded on the host, the audit is left out (C(audit) null) and
    C(audit_error) says why.
version_added: "0.1.0"
options:
  profiles:
    description:
      - Profiles to audit against; empty means the ones recorded by the last apply.
    type: list
    elements: str
    default: []
  doctor:
    description: Also run C(tcptune doctor) (sockets and settings turned into findings).
    type: bool
    default: true
  profile_dirs:
    description: Directories searched for profiles first (C(--profile-dir), in order).
    type: list
    elements: path
    default: []
  fragment:
    description: The sysctl.d fragment tcptune manages (C(--fragment)).
    type: path
  root:
    description: Work below this directory instead of / (C(--root)).
    type: path
  netns:
    description: Work inside this network namespace (C(--netns) NAME, PATH or PID).
    type: str
  binary:
    description: Path of the tcptune program; by default it is searched on PATH, /usr/sbin and /usr/local/sbin.
    type: path
author:
  - tcptune authors
notes:
  - Run as root (C(become)) to see every socket's owner; the audit works without.
  - Supports check mode.
'''

EXAMPLES = r'''
- name: Gather tcptune facts
  tcptune.tcptune.facts:
    profiles: [crawler]

- name: Name the hosts that drift
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} drifts on {{ tcptune.drift | map(attribute='key') | join(', ') }}"
  when: not tcptune.compliant
'''

RETURN = r'''
ansible_facts:
  description: Facts to add to the host's variables.
  returned: always
  type: complex
  contains:
    tcptune:
      description: C(audit) and C(doctor) (tcptune's JSON documents, or null), C(compliant) (bool, or null without an audit), C(drift) (the audit rows whose status is not ok), C(audit_error) (why there is no audit, or null).
      type: dict
rc:
  description: The exit status of the audit (0 compliant, 1 drift), or of the command that failed.
  type: int
  returned: always
'''

import json

from ansible.module_utils.basic import AnsibleModule


def base_command(module):
    p = module.params
    path = p['binary'] or module.get_bin_path('tcptune', required=True,
                                              opt_dirs=['/usr/sbin', '/usr/local/sbin', '/sbin'])
    cmd = [path, '-o', 'json']
    for opt in ('root', 'netns', 'fragment'):
        if p[opt]:
            cmd += ['--' + opt, p[opt]]
    for d in p['profile_dirs']:
        cmd += ['--profile-dir', d]
    return cmd


def run(module, cmd):
    rc, out, err = module.run_command(cmd, environ_update={'NO_COLOR': '1', 'LC_ALL': 'C'})
    try:
        doc = json.loads(out) if out.strip() else None
    except ValueError:
        doc = None
    return rc, out, err, doc


def message(err, doc, fallback):
    """tcptune's own words: the JSON error, else its stderr."""
    if doc:
        if isinstance(doc.get('error'), dict) and doc['error'].get('message'):
            return doc['error']['message']
        if doc.get('errors'):
            return '; '.join(doc['errors'])
    lines = [l for l in err.splitlines() if l.strip() and ': note:' not in l]
    msg = '; '.join(lines) or fallback
    return msg[len('tcptune: '):] if msg.startswith('tcptune: ') else msg


def not_ok(k):
    # tcptune judges each key ("compliant"); older versions only gave the status
    if 'compliant' in k:
        return not k['compliant']
    return k.get('status') not in ('ok', 'not-in-netns') and \
        not (k.get('status') == 'missing' and k.get('optional'))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            profiles=dict(type='list', elements='str', default=[]),
            doctor=dict(type='bool', default=True),
            profile_dirs=dict(type='list', elements='path', default=[]),
            fragment=dict(type='path'),
            root=dict(type='path'),
            netns=dict(type='str'),
            binary=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    fact = dict(audit=None, doctor=None, compliant=None, drift=[], audit_error=None)
    cmd = base_command(module) + ['audit'] + (['--'] + p['profiles'] if p['profiles'] else [])
    rc, out, err, doc = run(module, cmd)
    audit_rc = rc
    if rc in (0, 1) and doc is not None:
        fact['audit'] = doc
        fact['compliant'] = bool(doc.get('compliant'))
        fact['drift'] = [k for k in doc.get('keys', []) if not_ok(k)]
    elif rc == 2 and not p['profiles']:
        # Nothing applied here yet and nothing named: no audit, not a failure.
        fact['audit_error'] = message(err, doc, 'tcptune audit exited 2')
    else:
        module.fail_json(msg=message(err, doc, 'tcptune audit failed with exit status %d' % rc),
                         rc=rc, cmd=cmd, stdout=out, stderr=err)
    if p['doctor']:
        dcmd = base_command(module) + ['doctor']
        rc, out, err, doc = run(module, dcmd)
        if rc not in (0, 1) or doc is None:
            module.fail_json(msg=message(err, doc, 'tcptune doctor failed with exit status %d' % rc),
                             rc=rc, cmd=dcmd, stdout=out, stderr=err)
        fact['doctor'] = doc
    # failed=False: Ansible takes a nonzero rc (1, drift) for a failure otherwise.
    module.exit_json(changed=False, failed=False, rc=audit_rc, ansible_facts=dict(tcptune=fact))


if __name__ == '__main__':
    main()
