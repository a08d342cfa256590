#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# promcheck.py: a strict checker of the Prometheus text exposition format (0.0.4), as node_exporter's textfile collector reads it.
#
# Usage: promcheck.py FILE...  (exit 0 when every file is valid, else 1 with one line per error)
#        promcheck.py --self-test (the checker must reject known-bad input)
import math
import re
import sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*\Z')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*\Z')
TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')
SUFFIXES = {'histogram': ('_bucket', '_sum', '_count'), 'summary': ('_sum', '_count', '')}


def unescape(s, allowed):
    """Undo backslash escapes; only those in allowed are legal."""
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == '\\':
            if i + 1 >= len(s) or s[i + 1] not in allowed:
                raise ValueError('bad escape %r' % s[i:i + 2])
            out.append({'\\': '\\', 'n': '\n', '"': '"'}[s[i + 1]])
            i += 2
            continue
        out.append(c)
        i += 1
    return ''.join(out)


def parse_labels(s, i):
    """Parse {a="x",b="y"} starting at s[i] == '{'; return (dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if s[i:i + 1] == '}':
            return labels, i + 1
        m = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*').match(s, i)
        if not m:
            raise ValueError('bad label name at column %d' % (i + 1))
        name = m.group(0)
        if name.startswith('__'):
            raise ValueError('reserved label name %s' % name)
        if name in labels:
            raise ValueError('duplicate label %s' % name)
        i = m.end()
        if s[i:i + 2] != '="':
            raise ValueError('label %s: expected ="' % name)
        i += 2
        j = i
        while j < len(s) and s[j] != '"':
            j += 2 if s[j] == '\\' else 1
        if j >= len(s):
            raise ValueError('label %s: unterminated value' % name)
        raw = s[i:j]
        if '\n' in raw:
            raise ValueError('label %s: raw newline' % name)
        labels[name] = unescape(raw, '\\"n')
        i = j + 1
        if s[i:i + 1] == ',':
            i += 1
            if s[i:i + 1] == '}':
                return labels, i + 1
        elif s[i:i + 1] != '}':
            raise ValueError('label %s: expected , or }' % name)


def parse_value(v):
    if v in ('NaN', '+Inf', '-Inf', 'Inf'):
        return float(v.replace('Inf', 'inf'))
    if not re.match(r'[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\Z', v):
        raise ValueError('value %r is not a float' % v)
    return float(v)


def family_of(name, types):
    for fam, t in types.items():
        for suf in SUFFIXES.get(t, ()):
            if name == fam + suf:
                return fam
    return name


def check(text):
    """Return (errors, samples); samples are (name, labels, value)."""
    errors, samples = [], []
    helps, types, seen_series = {}, {}, set()
    done, current = set(), None     # families already finished; the one being written
    if text and not text.endswith('\n'):
        errors.append('the last line has no newline')
    for no, line in enumerate(text.split('\n')[:-1] if text.endswith('\n') else text.split('\n'), 1):
        def err(msg):
            errors.append('line %d: %s: %r' % (no, msg, line))
        if line == '':
            err('empty line')
            continue
        if line != line.strip(' \t') and not line.startswith('#'):
            err('leading or trailing blank')
            continue
        if line.startswith('#'):
            parts = line.split(' ', 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                kind, name = parts[1], parts[2]
                rest = parts[3] if len(parts) > 3 else ''
                if not NAME.match(name):
                    err('bad metric name')
                    continue
                if name in done:
                    err('%s for a family whose samples are already written' % kind)
                if current and current != name:
                    done.add(current)
                current = name
                if kind == 'HELP':
                    if name in helps:
                        err('second HELP')
                    try:
                        helps[name] = unescape(rest, '\\n')
                    except ValueError as e:
                        err(str(e))
                else:
                    if name in types:
                        err('second TYPE')
                    if rest not in TYPES:
                        err('unknown type')
                    if any(s[0] == name for s in samples):
                        err('TYPE after samples')
                    types[name] = rest
            continue
        m = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*').match(line)
        if not m:
            err('bad metric name')
            continue
        name, i, labels = m.group(0), m.end(), {}
        try:
            if line[i:i + 1] == '{':
                labels, i = parse_labels(line, i)
            if line[i:i + 1] != ' ':
                raise ValueError('expected one blank before the value')
            fields = line[i + 1:].split(' ')
            if len(fields) not in (1, 2) or '' in fields:
                raise ValueError('expected a value and an optional timestamp')
            value = parse_value(fields[0])
            if len(fields) == 2 and not re.match(r'-?\d+\Z', fields[1]):
                raise ValueError('bad timestamp')
        except ValueError as e:
            err(str(e))
            continue
        fam = family_of(name, types)
        if fam in done:
            err('sample of family %s after another family' % fam)
        if current and current != fam:
            done.add(current)
        current = fam
        if fam not in types:
            err('sample before its TYPE line')
        if fam not in helps:
            err('family %s has no HELP' % fam)
        key = (name, tuple(sorted(labels.items())))
        if key in seen_series:
            err('duplicate series')
        seen_series.add(key)
        if types.get(fam) == 'counter' and value < 0:
            err('negative counter')
        if types.get(fam) == 'counter' and math.isnan(value):
            err('NaN counter')
        samples.append((name, labels, value))
    return errors, samples


BAD = [
    ('no TYPE', '# HELP a x\na 1\n'),
    ('no HELP', '# TYPE a gauge\na 1\n'),
    ('two TYPE', '# HELP a x\n# TYPE a gauge\n# TYPE a gauge\na 1\n'),
    ('bad escape', '# HELP a x\n# TYPE a gauge\na{l="\\x"} 1\n'),
    ('raw quote', '# HELP a x\n# TYPE a gauge\na{l="a"b"} 1\n'),
    ('not a float', '# HELP a x\n# TYPE a gauge\na 1,5\n'),
    ('interleaved', '# HELP a x\n# TYPE a gauge\na 1\n# HELP b x\n# TYPE b gauge\nb 1\na{x="1"} 2\n'),
    ('duplicate', '# HELP a x\n# TYPE a gauge\na{l="1"} 1\na{l="1"} 2\n'),
    ('no newline', '# HELP a x\n# TYPE a gauge\na 1'),
    ('bad name', '# HELP a x\n# TYPE a gauge\n1a 1\n'),
    ('bad label', '# HELP a x\n# TYPE a gauge\na{1l="1"} 1\n'),
    ('unterminated', '# HELP a x\n# TYPE a gauge\na{l="1} 1\n'),
    ('two blanks', '# HELP a x\n# TYPE a gauge\na  1\n'),
]
GOOD = '# HELP a x \\\\ y\\n\n# TYPE a gauge\na{l="q\\"\\\\\\n",m="2"} 1.5e3\na +Inf\n# HELP b x\n# TYPE b counter\nb 0 1700000000000\n'


def main(argv):
    if argv[1:] == ['--self-test']:
        bad = 0
        errors, samples = check(GOOD)
        if errors or samples[0][1]['l'] != 'q"\\\n':
            print('self-test: good input rejected: %s' % errors)
            bad += 1
        for what, text in BAD:
            if not check(text)[0]:
                print('self-test: accepted %s: %r' % (what, text))
                bad += 1
        return 1 if bad else 0
    status = 0
    for path in argv[1:]:
        with open(path, 'rb') as f:
            raw = f.read()
        try:
            text = raw.decode('utf-8')
        except UnicodeDecodeError as e:
            print('%s: not UTF-8: %s' % (path, e))
            status = 1
            continue
        errors, _ = check(text)
        for e in errors:
            print('%s: %s' % (path, e))
            status = 1
    return status


if __name__ == '__main__':
    sys.exit(main(sys.argv))
