import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { finding, merge, ok } from '../../src/catalogue/result.ts';
import { enforce, fallback, formatWarnings } from '../../src/review/enforce.ts';

const Enforce = suite('review/enforce: what findings do under each mode');

const findings = merge(finding('EW105', 'spec.hosts', 'no hosts'), finding('EW103', 'spec.workloadSelector', 'selects everything'));

Enforce('enforce denies with 403 on an error and keeps the warnings', () => {
  const d = enforce(findings, 'enforce');
  assert.is(d.allowed, false);
  assert.is(d.code, 403);
  assert.is(d.message, '[EW105] spec.hosts: no hosts');
  assert.equal(d.warnings, ['[EW103] spec.workloadSelector: selects everything']);
  assert.is(d.findings, findings);
});

Enforce('warn allows and turns the errors into warnings', () => {
  const d = enforce(findings, 'warn');
  assert.is(d.allowed, true);
  assert.equal(d.warnings, ['[EW105] spec.hosts: no hosts', '[EW103] spec.workloadSelector: selects everything']);
});

Enforce('audit allows silently and writes the findings to the audit annotations', () => {
  const d = enforce(findings, 'audit');
  assert.is(d.allowed, true);
  assert.equal(d.warnings, []);
  assert.equal(d.auditAnnotations, { findings: '[EW105] spec.hosts: no hosts; [EW103] spec.workloadSelector: selects everything' });
  assert.is(enforce(ok, 'audit').auditAnnotations, undefined);
});

Enforce('caps each warning at 120 characters and all of them at 4096', () => {
  const long = formatWarnings([{ code: 'EW103', path: 'p', message: 'x'.repeat(300) }]);
  assert.is(long[0]!.length, 120);
  const many = formatWarnings(Array.from({ length: 100 }, () => ({ code: 'EW103' as const, path: 'p', message: 'x'.repeat(100) })));
  assert.ok(many.join('').length <= 4096 && many.length < 100);
});

Enforce('fails validation closed and mutation open when the review cannot finish', () => {
  const closed = fallback(true, 'no time left');
  assert.is(closed.allowed, false);
  assert.is(closed.code, 500);
  assert.match(closed.message ?? '', /could not validate this object: no time left/);
  const open = fallback(false, 'no time left');
  assert.is(open.allowed, true);
  assert.equal(open.patch, []);
  assert.equal(open.warnings, ['egress-warden left this pod unchanged: no time left']);
});

Enforce.run();
