/** Shared test helpers: fresh fixtures, snapshots from objects, domain assertions. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as assert from 'uvu/assert';
import type { Test } from 'uvu';
import type { KubeObject } from '../src/admission/types.ts';
import type { Result } from '../src/catalogue/result.ts';
import { snapshotFromObjects } from '../src/cluster/indexes.ts';
import type { ClusterCidrs, ClusterSnapshot } from '../src/cluster/snapshot.ts';
import { parseCidr } from '../src/net/cidr.ts';

/** A fresh copy of a JSON fixture under test/fixtures. */
export const fixture = <T = KubeObject>(name: string): T => JSON.parse(readFileSync(resolve('test/fixtures', name), 'utf8')) as T;

export function cidrsOf(pod: readonly string[], service: readonly string[], origin = 'test'): ClusterCidrs {
  const ranges = (list: readonly string[]) =>
    list.map((t) => {
      const cidr = parseCidr(t);
      if (!cidr) throw new Error(`bad test CIDR ${t}`);
      return { cidr, origin };
    });
  return { pod: ranges(pod), service: ranges(service) };
}

/** A snapshot holding `objects`, with kubeadm's default CIDRs unless told otherwise. */
export const snapshotWith = (
  objects: readonly KubeObject[] = [],
  cidrs: ClusterCidrs = cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12']),
): ClusterSnapshot => snapshotFromObjects(objects, cidrs);

const list = (r: Result, which: 'errors' | 'warnings') => JSON.stringify(r[which].map((i) => `[${i.code}] ${i.path}: ${i.message}`));

/** The result has an error with this code (and at this path, when given). */
export function denies(r: Result, code: string, path?: string): void {
  assert.ok(
    r.errors.some((e) => e.code === code && (path === undefined || e.path === path)),
    `expected error ${code}${path ? ` at ${path}` : ''}, got ${list(r, 'errors')}`,
  );
}

/** The result has a warning with this code (and at this path, when given). */
export function warns(r: Result, code: string, path?: string): void {
  assert.ok(
    r.warnings.some((e) => e.code === code && (path === undefined || e.path === path)),
    `expected warning ${code}${path ? ` at ${path}` : ''}, got ${list(r, 'warnings')}`,
  );
}

/** No errors at all (warnings allowed). */
export function accepts(r: Result): void {
  assert.equal(r.errors.length, 0, `expected no errors, got ${list(r, 'errors')}`);
}

/** No errors and no warnings. */
export function clean(r: Result): void {
  assert.equal(r.errors.length + r.warnings.length, 0, `expected no findings, got ${list(r, 'errors')} ${list(r, 'warnings')}`);
}

/** Neither an error nor a warning with this code. */
export function without(r: Result, code: string): void {
  const hits = [...r.errors, ...r.warnings].filter((i) => i.code === code);
  assert.equal(hits.length, 0, `expected no ${code}, got ${JSON.stringify(hits)}`);
}

/** The message of the first finding with this code, or "". */
export const messageOf = (r: Result, code: string): string => [...r.errors, ...r.warnings].find((i) => i.code === code)?.message ?? '';

/** One row of a rule's table-driven tests. */
export type RuleCase = {
  readonly it: string;
  readonly obj: () => KubeObject;
  readonly code: string;
  /** 'denies' / 'warns' assert the finding; 'passes' asserts the code is absent */
  readonly verdict: 'denies' | 'warns' | 'passes';
  readonly path?: string;
  readonly message?: string;
};

/** Registers one test per row: the object, judged by `run`, gets (or does not get) the row's finding. */
export function ruleCases(test: Test, cases: readonly RuleCase[], run: (o: KubeObject) => Result): void {
  for (const c of cases) {
    test(c.it, () => {
      const r = run(c.obj());
      if (c.verdict === 'denies') denies(r, c.code, c.path);
      else if (c.verdict === 'warns') warns(r, c.code, c.path);
      else without(r, c.code);
      if (c.message !== undefined) assert.is(messageOf(r, c.code), c.message);
    });
  }
}
