#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# -*- coding: utf-8 -*-
# profile.py: Ansible module driving tcptune's JSON (plan, apply, audit, rollback) on one host.
#
# tcptune stays a single-host program; this module only runs it and maps its
# JSON and exit status onto Ansible's changed/failed/diff conventions. It is
# tcptune.tcptune.profile in the collection, and library/tcptune.py (a link)
# for playbooks that use the bare name.

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: profile
short_description: Apply, audit or roll back Linux TCP sysctl profiles with tcptune
description:
  - Runs C(tcptune -o json) on the target host and reports its result.
  - C(state=applied) runs C(tcptune apply) (C(tcptune plan) in check mode); the
    profile is persisted in a sysctl.d fragment and set live, all or nothing.
  - C(state=audited) runs C(tcptune audit); it never changes anything.
  - C(state=rolled_back) runs C(tcptune rollback) (C(rollback --dry-run) in check mode).
  - C(changed) is tcptune's own C("changed") field; in diff mode the diff shows
    every key that moves, as C(key = before) and C(key = after) lines.
  - On failure the result carries tcptune's message (stderr or the JSON
    C(errors)) and its exit status in C(rc) (2 bad input, nothing touched;
    3 failed and restored; 4 failed and not fully restored).
version_added: "0.1.0"
options:
  profiles:
    description:
      - Profile names (looked up on the profile path) or files; several merge
        left to right, the later one winning per key.
      - Required for C(state=applied). For C(state=audited) an empty list means
        the profiles recorded by the last apply.
    type: list
    elements: str
    default: []
  state:
    description: What to do.
    type: str
    choices: [applied, audited, rolled_back]
    default: applied
  profile_dirs:
    description: Directories searched for profiles before the default path (C(--profile-dir), in order).
    type: list
    elements: path
    default: []
  fragment:
    description: The sysctl.d fragment apply writes (C(--fragment)); tcptune's default is /etc/sysctl.d/90-tcptune.conf.
    type: path
  root:
    description: Work below this directory instead of / (C(--root)), e.g. to prepare an image.
    type: path
  netns:
    description: Work inside this network namespace (C(--netns) NAME, PATH or PID).
    type: str
  binary:
    description: Path of the tcptune program; by default it is searched on PATH, /usr/sbin and /usr/local/sbin.
    type: path
  fail_on_drift:
    description: With C(state=audited), fail when the host does not comply with the profiles.
    type: bool
    default: true
  lock_wait:
    description: Seconds apply and rollback wait for another tcptune holding the lock (C(--wait)).
    type: int
author:
  - tcptune authors
notes:
  - Needs root on the target (use C(become)), like tcptune apply itself.
  - Supports check mode and diff mode.
'''

EXAMPLES = r'''
- name: Tune the crawler hosts, two at a time
  hosts: crawlers
  become: true
  serial: 2
  max_fail_percentage: 50
  tasks:
    - name: Apply the crawler profile
      tcptune.tcptune.profile:
        profiles: [crawler]

    - name: Fail when a host drifted from what was applied
      tcptune.tcptune.profile:
        state: audited

    - name: Undo the last apply
      tcptune.tcptune.profile:
        state: rolled_back
'''

RETURN = r'''
changed:
  description: tcptune's own "changed"; in check mode, whether apply would change something.
  type: bool
  returned: always
rc:
  description: tcptune's exit status.
  type: int
  returned: always
cmd:
  description: The command that ran.
  type: list
  returned: always
keys:
  description: Keys that moved (or would move in check mode), each with key, before and after.
  type: list
  returned: when state is applied or rolled_back
fragment:
  description: The sysctl.d fragment tcptune manages.
  type: str
  returned: when state is applied or rolled_back
compliant:
  description: Whether the host complies with the profiles.
  type: bool
  returned: when state is audited
drift:
  description: The audit findings whose status is not ok (or an optional missing key).
  type: list
  returned: when state is audited
result:
  description: tcptune's whole JSON document.
  type: dict
  returned: when tcptune printed one
'''

import json

from ansible.module_utils.basic import AnsibleModule

# tcptune's exit statuses (tcptune(8)).
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2

NOTHING_TO_ROLL_BACK = 'nothing to roll back'


def find_binary(module):
    path = module.params['binary']
    if path:
        return path
    return module.get_bin_path('tcptune', required=True,
                               opt_dirs=['/usr/sbin', '/usr/local/sbin', '/sbin'])


def base_command(module):
    p = module.params
    cmd = [find_binary(module), '-o', 'json']
    if p['root']:
        cmd += ['--root', p['root']]
    if p['netns']:
        cmd += ['--netns', p['netns']]
    if p['fragment']:
        cmd += ['--fragment', p['fragment']]
    for d in p['profile_dirs']:
        cmd += ['--profile-dir', d]
    return cmd


def run(module, cmd):
    # No shell: profile names and paths reach tcptune as they are.
    rc, out, err = module.run_command(cmd, environ_update={'NO_COLOR': '1', 'LC_ALL': 'C'})
    doc = None
    if out.strip():
        try:
            doc = json.loads(out)
        except ValueError:
            doc = None
    return rc, out, err, doc


def message(err, doc, fallback):
    """tcptune's own words: the JSON errors, else its stderr (the first error line)."""
    if doc and doc.get('errors'):
        return '; '.join(doc['errors'])
    lines = [l for l in err.splitlines() if l.strip() and ': note:' not in l]
    if lines:
        msg = '; '.join(lines)
        return msg[len('tcptune: '):] if msg.startswith('tcptune: ') else msg
    return fallback


def fail(module, cmd, rc, out, err, doc, fallback):
    extra = {}
    if doc is not None:
        extra['result'] = doc
    module.fail_json(msg=message(err, doc, fallback), rc=rc, cmd=cmd,
                     stdout=out, stderr=err, **extra)


def diff_of(doc, header):
    before = ''.join('%s = %s\n' % (k['key'], k['before'] if k['before'] is not None else '')
                     for k in doc.get('keys', []))
    after = ''.join('%s = %s\n' % (k['key'], k['after'] if k['after'] is not None else '')
                    for k in doc.get('keys', []))
    return {'before_header': header, 'after_header': header,
            'before': before, 'after': after}


def warn_all(module, doc):
    for w in (doc or {}).get('warnings', []):
        module.warn('tcptune: %s' % w)


def transaction(module, verb):
    """apply or rollback, or their dry runs in check mode."""
    p = module.params
    cmd = base_command(module)
    if verb == 'apply' and module.check_mode:
        cmd.append('plan')
    else:
        cmd.append(verb)
        if module.check_mode:
            cmd.append('--dry-run')
        if p['lock_wait'] is not None:
            cmd += ['--wait', str(p['lock_wait'])]
    if verb == 'apply':
        cmd.append('--')
        cmd += p['profiles']
    rc, out, err, doc = run(module, cmd)

    if verb == 'rollback' and rc == EXIT_USAGE and doc is not None and \
            any(e.startswith(NOTHING_TO_ROLL_BACK) for e in doc.get('errors', [])):
        # Rolled back is the wanted state and nothing was ever applied:
        # that is already it, not an error.
        module.exit_json(changed=False, failed=False, rc=rc, cmd=cmd, keys=[], fragment=doc.get('fragment'),
                         result=doc, msg=doc['errors'][0])
    # plan and --dry-run exit 1 when changes are pending: that is their answer.
    ok = rc == EXIT_OK or (module.check_mode and rc == EXIT_FINDINGS)
    if not ok or doc is None:
        fail(module, cmd, rc, out, err, doc, 'tcptune %s failed with exit status %d' % (verb, rc))
    warn_all(module, doc)
    # failed=False: Ansible takes a nonzero rc for a failure unless told otherwise.
    res = dict(changed=bool(doc.get('changed')), failed=False, rc=rc, cmd=cmd, keys=doc.get('keys', []),
               fragment=doc.get('fragment'), result=doc)
    if module._diff:
        res['diff'] = diff_of(doc, 'sysctl, live and in %s' % (doc.get('fragment') or 'sysctl.d'))
    module.exit_json(**res)


def audit(module):
    p = module.params
    # No profiles: audit takes the ones recorded by the last apply.
    cmd = base_command(module) + ['audit'] + p['profiles']
    rc, out, err, doc = run(module, cmd)
    if rc not in (EXIT_OK, EXIT_FINDINGS) or doc is None:
        fail(module, cmd, rc, out, err, doc, 'tcptune audit failed with exit status %d' % rc)
    drift = [k for k in doc.get('keys', []) if k.get('status') not in ('ok', 'not-in-netns') and
             not (k.get('status') == 'missing' and k.get('optional'))]
    compliant = bool(doc.get('compliant'))
    res = dict(changed=False, failed=False, rc=rc, cmd=cmd, compliant=compliant, drift=drift, result=doc)
    if not compliant and p['fail_on_drift']:
        keys = ', '.join('%s (%s: live %s, boot %s, expected %s)' %
                         (k['key'], k['status'], k.get('live'), k.get('boot'), k.get('expected'))
                         for k in drift)
        res.pop('failed')
        module.fail_json(msg='drift from %s: %s' % (','.join(doc.get('profiles', [])), keys), **res)
    module.exit_json(**res)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            profiles=dict(type='list', elements='str', default=[]),
            state=dict(type='str', default='applied', choices=['applied', 'audited', 'rolled_back']),
            profile_dirs=dict(type='list', elements='path', default=[]),
            fragment=dict(type='path'),
            root=dict(type='path'),
            netns=dict(type='str'),
            binary=dict(type='path'),
            fail_on_drift=dict(type='bool', default=True),
            lock_wait=dict(type='int'),
        ),
        supports_check_mode=True,
    )
    state = module.params['state']
    if state == 'applied' and not module.params['profiles']:
        module.fail_json(msg='state=applied needs profiles')
    if state == 'rolled_back' and module.params['profiles']:
        module.fail_json(msg='state=rolled_back takes no profiles: it undoes the last apply')
    if state == 'applied':
        transaction(module, 'apply')
    elif state == 'rolled_back':
        transaction(module, 'rollback')
    else:
        audit(module)


if __name__ == '__main__':
    main()
