import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DENIAL_CHARS_MAX, FINDING_MESSAGE_MAX, FINDINGS_SHOWN_MAX } from '../../src/catalogue/budget.ts';
import { urlPointer } from '../../src/catalogue/docs.ts';
import { finding, merge, mergeAll, ok } from '../../src/catalogue/result.ts';
import { enforce, fallback, formatWarnings } from '../../src/review/enforce.ts';

const Enforce = suite('review/enforce: what findings do under each mode');

const findings = merge(finding('EW105', 'spec.hosts', 'no hosts'), finding('EW103', 'spec.workloadSelector', 'selects everything'));

Enforce('enforce denies with 403 on an error and keeps the warnings', () => {
  const d = enforce(findings, 'enforce');
  assert.is(d.allowed, false);
  assert.is(d.code, 403);
  assert.is(d.message, '[EW105] spec.hosts: no hosts (egress-warden help EW105)');
  assert.equal(d.warnings, ['[EW103] spec.workloadSelector: selects everything (egress-warden help EW103)']);
  assert.is(d.findings, findings);
});

Enforce('warn allows and turns the errors into warnings', () => {
  const d = enforce(findings, 'warn');
  assert.is(d.allowed, true);
  assert.equal(d.warnings, [
    '[EW105] spec.hosts: no hosts (egress-warden help EW105)',
    '[EW103] spec.workloadSelector: selects everything (egress-warden help EW103)',
  ]);
});

Enforce('audit allows silently and writes the findings to the audit annotations', () => {
  const d = enforce(findings, 'audit');
  assert.is(d.allowed, true);
  assert.equal(d.warnings, []);
  assert.equal(d.auditAnnotations, { findings: '[EW105] spec.hosts: no hosts; [EW103] spec.workloadSelector: selects everything' });
  assert.is(enforce(ok, 'audit').auditAnnotations, undefined);
});

Enforce("keeps a warning whole within the API server's 256 characters, cuts only past them, and caps all of them at 4096", () => {
  // a REGISTRY_ONLY warning about a 60-character host: whole, with the host and the ConfigMap it names
  const host = `${'a'.repeat(40)}.payments.example.com`;
  const whole = `no ServiceEntry registers ${host} under REGISTRY_ONLY (ConfigMap istio-system/istio mesh.outboundTrafficPolicy.mode)`;
  const [line] = formatWarnings([{ code: 'EW407', path: 'spec.hosts[0]', message: whole }]);
  assert.is(line, `[EW407] spec.hosts[0]: ${whole} (egress-warden help EW407)`);
  assert.ok(line!.length <= 256);
  const long = formatWarnings([{ code: 'EW103', path: 'p', message: 'x'.repeat(300) }]);
  assert.is(long[0]!.length, 256);
  assert.match(long[0]!, / \(egress-warden help EW103\)$/);
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

Enforce('a denial lists a repeated finding once, caps the list and says how many were left out', () => {
  const repeated = mergeAll(
    Array.from({ length: 10_000 }, (_, i) => finding('EW112', `spec.ports[${i}].number`, 'service entry port 443 already defined')),
  );
  const one = enforce(repeated, 'enforce');
  assert.is(
    one.message,
    '[EW112] spec.ports[0].number: service entry port 443 already defined (and at 9,999 more paths) (egress-warden help EW112)',
  );
  assert.is(one.findings.errors.length, 1);
  const distinct = mergeAll(
    Array.from({ length: 5_000 }, (_, i) => finding('EW106', `spec.hosts[${i}]`, `domain name "${'x'.repeat(2_000)}${i}" invalid`)),
  );
  const many = enforce(distinct, 'enforce');
  assert.ok(many.message!.length <= DENIAL_CHARS_MAX, `${many.message!.length} characters`);
  assert.match(many.message!, /\n… and 4,9\d\d more findings$/);
  assert.is(many.findings.errors.length, FINDINGS_SHOWN_MAX);
  assert.ok(many.findings.errors.every((e) => e.message.length <= FINDING_MESSAGE_MAX));
  const audit = enforce(distinct, 'audit');
  assert.ok(audit.auditAnnotations!.findings!.length <= DENIAL_CHARS_MAX);
});

Enforce('points denials and warnings to the docs site when one is configured', () => {
  const d = enforce(findings, 'enforce', urlPointer('https://docs.example.com/egress-warden/codes.md'));
  assert.is(d.message, '[EW105] spec.hosts: no hosts (https://docs.example.com/egress-warden/codes.md#ew105)');
  assert.equal(d.warnings, ['[EW103] spec.workloadSelector: selects everything (https://docs.example.com/egress-warden/codes.md#ew103)']);
});

Enforce.run();
