/**
 * The size gate (src/rules/budget.ts) in front of the rules, through the whole review: it refuses
 * what no mesh accepts with one EW001 finding, and lets through everything the mesh accepts, so
 * that the rule gives istiod's own verdict (validateHTTPDirectResponse for large direct responses).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AdmissionRequest, KubeObject } from '../../src/admission/types.ts';
import { DIRECT_RESPONSE_BODY_BYTES_MAX, DIRECT_RESPONSE_BODY_CHARS_MAX, STRING_CHARS_MAX } from '../../src/catalogue/budget.ts';
import { overBudget } from '../../src/rules/budget.ts';
import { judge } from '../../src/review/validate.ts';
import { fixture, snapshotWith } from '../support.ts';

const Budget = suite('rules/budget');

const KB = 1024;
const MB = 1024 * KB;

const vs = (spec: Record<string, unknown>): KubeObject => {
  const o = fixture('objects/virtual-service.valid.json');
  return { ...o, spec: { ...(o.spec as object), tls: undefined, ...spec } };
};
const directResponse = (dr: Record<string, unknown>): KubeObject => vs({ http: [{ directResponse: dr }] });
const review = (object: KubeObject): AdmissionRequest => ({
  uid: 'u',
  kind: { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' },
  operation: 'CREATE',
  namespace: 'shop',
  name: 'httpbin-ext',
  object,
});
const judged = (object: KubeObject) => judge(review(object), snapshotWith());
const base64 = (bytes: number): string => Buffer.alloc(bytes, 'a').toString('base64');

Budget("validateHTTPDirectResponse: agrees with every row of Istio's TestValidateHTTPDirectResponse through the whole review", () => {
  const rows: Array<{ name: string; object: KubeObject; valid: boolean; warning: boolean }> = [
    { name: 'nil redirect', object: vs({ http: [{ route: [{ destination: { host: 'httpbin.org' } }] }] }), valid: true, warning: false },
    { name: 'status 200', object: directResponse({ status: 200 }), valid: true, warning: false },
    { name: 'status 100', object: directResponse({ status: 199 }), valid: false, warning: false },
    { name: 'status 600', object: directResponse({ status: 601 }), valid: false, warning: false },
    { name: 'with string body', object: directResponse({ status: 200, body: { string: 'hello' } }), valid: true, warning: false },
    {
      name: 'with string body over 100kb',
      object: directResponse({ status: 200, body: { string: 'a'.repeat(101 * KB) } }),
      valid: true,
      warning: true,
    },
    {
      name: 'with string body over 1mb',
      object: directResponse({ status: 200, body: { string: 'a'.repeat(2 * MB) } }),
      valid: false,
      warning: false,
    },
    {
      name: 'with bytes body',
      object: directResponse({ status: 200, body: { bytes: Buffer.from('hello').toString('base64') } }),
      valid: true,
      warning: false,
    },
    {
      name: 'with bytes body over 100kb',
      object: directResponse({ status: 200, body: { bytes: base64(100 * KB + 1) } }),
      valid: true,
      warning: true,
    },
    {
      name: 'with bytes body over 1mb',
      object: directResponse({ status: 200, body: { bytes: base64(MB + 1) } }),
      valid: false,
      warning: false,
    },
  ];
  for (const row of rows) {
    const d = judged(row.object);
    assert.is(d.allowed, row.valid, `${row.name}: ${d.message}`);
    assert.is(
      d.findings.warnings.some((w) => w.code === 'EW238'),
      row.warning,
      `${row.name}: ${JSON.stringify(d.findings.warnings)}`,
    );
  }
});

Budget(
  'validateHTTPDirectResponse: the largest bodies istiod accepts, 1 MiB of text or of base64 bytes, reach the rule and only warn',
  () => {
    for (const body of [{ string: 'a'.repeat(DIRECT_RESPONSE_BODY_BYTES_MAX) }, { bytes: base64(DIRECT_RESPONSE_BODY_BYTES_MAX) }]) {
      const d = judged(directResponse({ status: 200, body }));
      assert.ok(d.allowed, d.message);
      assert.equal(
        d.findings.warnings.map((w) => w.code),
        ['EW238'],
      );
    }
    assert.is(base64(DIRECT_RESPONSE_BODY_BYTES_MAX).length, DIRECT_RESPONSE_BODY_CHARS_MAX);
  },
);

Budget("validateHTTPDirectResponse: a body just over 1 MiB gets istiod's own refusal (EW237), not the size gate", () => {
  const d = judged(directResponse({ status: 200, body: { string: '\u20ac'.repeat(MB / 2) } }));
  assert.not.ok(d.allowed);
  assert.equal(
    d.findings.errors.map((e) => `${e.code} ${e.path}`),
    ['EW237 spec.http[0].directResponse.body'],
  );
});

Budget('EW001: still refuses a direct response body longer than any validateHTTPDirectResponse accepts, naming the field', () => {
  const d = judged(directResponse({ status: 200, body: { string: 'a'.repeat(DIRECT_RESPONSE_BODY_CHARS_MAX + 1) } }));
  assert.not.ok(d.allowed);
  assert.equal(
    d.findings.errors.map((e) => `${e.code} ${e.path}: ${e.message}`),
    [
      'EW001 spec.http[0].directResponse.body.string: a string of 1,398,105 characters is longer than any the mesh accepts (at most 1,398,104 are reviewed)',
    ],
  );
});

Budget('EW001: every other string keeps the 64 KiB limit, even one shaped like a direct response body elsewhere', () => {
  const long = 'a'.repeat(STRING_CHARS_MAX + 1);
  const cases: Array<[KubeObject, string]> = [
    [vs({ http: [{ route: [{ destination: { host: 'httpbin.org' } }], rewrite: { uri: long } }] }), 'spec.http[0].rewrite.uri'],
    [directResponse({ status: 200, body: { text: long } }), 'spec.http[0].directResponse.body.text'],
    [vs({ tcp: [{ directResponse: { body: { string: long } } }] }), 'spec.tcp[0].directResponse.body.string'],
    [vs({ http: { x: { directResponse: { body: { string: long } } } } }), 'spec.http.x.directResponse.body.string'],
    [vs({ nested: { http: [{ directResponse: { body: { bytes: long } } }] } }), 'spec.nested.http[0].directResponse.body.bytes'],
  ];
  for (const [object, path] of cases) {
    const r = overBudget(object);
    assert.is(r?.errors[0]?.code, 'EW001', path);
    assert.is(r?.errors[0]?.path, path);
  }
});

Budget('EW001: refuses a 64 MiB direct response body at once, without the rule reading it', () => {
  const body = 'a'.repeat(64 * MB);
  const started = performance.now();
  const d = judged(directResponse({ status: 200, body: { string: body } }));
  const ms = performance.now() - started;
  assert.not.ok(d.allowed);
  assert.match(d.message ?? '', /^\[EW001\] spec\.http\[0\]\.directResponse\.body\.string: a string of 67,108,864 characters/);
  assert.ok(ms < 1_000, `took ${ms.toFixed(0)} ms`);
});

Budget.run();
