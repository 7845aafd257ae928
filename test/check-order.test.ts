/**
 * The verdict on a set of manifests does not depend on the order of its files or documents: the
 * whole set is built first, then each object is judged against all the others.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCheck } from '../src/commands/check.ts';
import { captureIo } from '../src/commands/io.ts';

const Order = suite('check: order-free judgement');

/** Named documents whose findings depend on one another. */
const DOCUMENTS: Readonly<Record<string, string>> = {
  namespace: 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio-injection: enabled\n',
  pod: `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  annotations:
    egress-warden.io/bypass-ip-ranges: "10.0.0.0/33"
spec:
  containers:
  - name: app
    image: nginx
`,
  'se-http': `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: first
  namespace: shop
spec:
  hosts: [api.example.com]
  resolution: DNS
  ports:
  - {number: 443, name: http, protocol: HTTP}
`,
  'se-tls': `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: second
  namespace: shop
spec:
  hosts: [api.example.com]
  resolution: DNS
  ports:
  - {number: 443, name: tls, protocol: TLS}
`,
  hrg: `apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata:
  name: routes
  namespace: ci
spec:
  matches:
  - name: all
    pathRegex: ".*"
`,
  'egress-hrg': `apiVersion: policy.openservicemesh.io/v1alpha1
kind: Egress
metadata:
  name: with-routes
  namespace: ci
spec:
  sources:
  - {kind: ServiceAccount, name: runner, namespace: ci}
  hosts: [example.com]
  ports:
  - {number: 80, protocol: http}
  matches:
  - {apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: routes}
  - {apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: missing}
`,
};

type Finding = {
  file: string;
  line: number;
  kind: string;
  namespace: string;
  name: string;
  severity: string;
  code: string;
  path: string;
  message: string;
};

/** Findings in a canonical order, without the file (whose name carries the permutation). */
const canonical = (findings: readonly Finding[]): string[] =>
  findings.map((f) => `${f.kind} ${f.namespace}/${f.name} ${f.severity} [${f.code}] ${f.path}: ${f.message}`).sort();

/** A fixed sequence of permutations (seeded), so a failure can be reproduced. */
function permutations<T>(items: readonly T[], count: number): T[][] {
  let seed = 22;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const out: T[][] = [[...items], [...items].reverse()];
  while (out.length < count) {
    const p = [...items];
    for (let i = p.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    out.push(p);
  }
  return out;
}

async function findings(args: readonly string[], stdin = ''): Promise<Finding[]> {
  const io = captureIo(stdin);
  await runCheck([...args, '-o', 'json'], io);
  return (JSON.parse(io.stdout()) as { findings: Finding[] }).findings;
}

const names = Object.keys(DOCUMENTS);

Order('the expected cross-object findings are there, and no false "HTTPRouteGroup not found" for one defined later', async () => {
  const all = canonical(await findings(['-'], names.map((n) => DOCUMENTS[n]).join('---\n')));
  assert.ok(
    all.some((f) => f.startsWith('ServiceEntry shop/first warning [EW404]')),
    all.join('\n'),
  );
  assert.ok(
    all.some((f) => f.startsWith('ServiceEntry shop/second warning [EW404]')),
    all.join('\n'),
  );
  assert.ok(
    all.some((f) => f.startsWith('Pod shop/web error')),
    all.join('\n'),
  );
  assert.equal(
    all.filter((f) => f.includes('[EW344]')).map((f) => f.includes('ci/missing')),
    [true],
  );
});

Order('documents of one stream in any order give identical findings', async () => {
  const runs = [];
  for (const order of permutations(names, 8)) runs.push(canonical(await findings(['-'], order.map((n) => DOCUMENTS[n]).join('---\n'))));
  for (const r of runs.slice(1)) assert.equal(r, runs[0]);
});

Order('files of a directory in any order give identical findings, lines included', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ew-order-'));
  try {
    const runs = [];
    permutations(names, 8).forEach((order, run) => {
      const dir = join(root, String(run));
      mkdirSync(dir);
      order.forEach((n, i) => writeFileSync(join(dir, `${i}-${n}.yaml`), DOCUMENTS[n]!));
    });
    for (let run = 0; run < 8; run++) {
      const found = await findings([join(root, String(run))]);
      runs.push(found.map((f) => `line ${f.line}: ${canonical([f])[0]}`).sort());
    }
    for (const r of runs.slice(1)) assert.equal(r, runs[0]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

Order.run();
