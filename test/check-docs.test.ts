/**
 * The state-dump commands the docs give for `check --state` name every kind the rules read: a dump
 * that leaves one out makes the check report false findings (an Egress told its HTTPRouteGroup is
 * not found).
 */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resourceName, WATCHED } from '../src/cluster/resources.ts';

const Docs = suite('check: docs');

/** Resources named by the `kubectl … get A,B,C …> state/…` lines of a markdown file. */
function dumped(file: string): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^kubectl (?:-n \S+ )?get (\S+)(?: (\S+))?.*> state\//.exec(line);
    if (!m) continue;
    const names = m[1] === 'configmap' ? [`configmaps/${m[2]}`] : m[1]!.split(',');
    for (const n of names) out.add(n);
  }
  return out;
}

const read = WATCHED.filter((w) => w.role === 'index').map(resourceName);

Docs("README's state dump names every kind the rules read", () => {
  const names = dumped('README.md');
  assert.equal(
    read.filter((r) => !names.has(r)),
    [],
  );
});

Docs("docs/check.md's state dump names every kind the rules read and every source of the cluster ranges", () => {
  const names = dumped('docs/check.md');
  assert.equal(
    // kinds watched only to be audited where they are stored are read by no rule
    WATCHED.filter((w) => w.role !== 'audit')
      .map(resourceName)
      .filter((r) => !names.has(r)),
    [],
  );
  assert.ok(names.has('configmaps/kubeadm-config'), [...names].join(' '));
});

Docs.run();
