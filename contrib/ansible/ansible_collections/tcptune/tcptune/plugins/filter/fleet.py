# SPDX-License-Identifier: ISC
# -*- coding: utf-8 -*-
# fleet.py: filters turning every host's tcptune fact into one fleet report (JSON) and one table.

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: fleet_report
short_description: One JSON document from every host's tcptune fact
description:
  - Takes C(hostvars) and the host names, and returns C(hosts) (per host
    C(compliant), C(profiles) and C(drift), each drifting key with its
    C(status), C(expected), C(live), C(boot) and C(boot_source)),
    C(noncompliant) (the host names), C(keys) (every key that drifts
    somewhere) and C(missing) (hosts without an audit, with the reason).
options:
  _input:
    description: hostvars.
    type: dict
    required: true
  hosts:
    description: The hosts to report on, e.g. C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
'''


def fleet_report(hostvars, hosts):
    out = {'hosts': {}, 'noncompliant': [], 'keys': [], 'missing': {}}
    keys = set()
    for h in sorted(hosts):
        fact = (hostvars.get(h) or {}).get('tcptune') or {}
        audit = fact.get('audit')
        if not audit:
            out['missing'][h] = fact.get('audit_error') or 'no tcptune facts (unreachable or failed)'
            continue
        drift = [{'key': k.get('key'), 'status': k.get('status'), 'expected': k.get('expected'),
                  'live': k.get('live'), 'boot': k.get('boot'), 'boot_source': k.get('boot_source')}
                 for k in fact.get('drift') or []]
        out['hosts'][h] = {'compliant': bool(fact.get('compliant')), 'profiles': audit.get('profiles', []),
                           'drift': drift}
        if not fact.get('compliant'):
            out['noncompliant'].append(h)
        keys.update(d['key'] for d in drift)
    out['keys'] = sorted(keys)
    return out


def _cell(d):
    if d is None:
        return 'ok'
    return '%s/%s' % (d['live'] if d['live'] is not None else '-', d['boot'] if d['boot'] is not None else '-')


def fleet_table(report):
    """Hosts down, drifting keys across; each cell live/boot, or ok."""
    head = ['HOST', 'COMPLIANT'] + report['keys']
    rows = []
    for h, r in sorted(report['hosts'].items()):
        by_key = {d['key']: d for d in r['drift']}
        rows.append([h, 'yes' if r['compliant'] else 'no'] + [_cell(by_key.get(k)) for k in report['keys']])
    for h, why in sorted(report['missing'].items()):
        rows.append([h, '?'] + ['' for _ in report['keys']])
    width = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ['  '.join(str(x).ljust(w) for x, w in zip(r, width)).rstrip() for r in [head] + rows]
    lines.append('cells: live/boot value of a key that breaks the profile; ok where it complies')
    for h, why in sorted(report['missing'].items()):
        lines.append('%s: %s' % (h, why))
    return '\n'.join(lines) + '\n'


class FilterModule(object):
    def filters(self):
        return {'fleet_report': fleet_report, 'fleet_table': fleet_table}
