/**
 * `egress-warden check` on 10,000 objects, end to end in-process: walks a directory of generated
 * manifests, parses, validates each object against the ones before it, formats the report.
 * Target: under 2 seconds. Run: node bench/check.ts [objects]
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCheck } from '../src/commands/check.ts';
import { captureIo } from '../src/commands/io.ts';

const TOTAL = Number(process.argv[2] ?? 10_000);
const PER_FILE = 5;
const TEAMS = 40;

/** One app's manifests: what a team keeps in a repo next to its egress objects. */
function app(i: number): string[] {
  const ns = `team-${i % TEAMS}`;
  const host = `api-${i}.partner${i % 97}.example.com`;
  const broken = i % 50 === 0;
  return [
    `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ext-${i}
  namespace: ${ns}
  labels:
    app.kubernetes.io/name: app-${i}
    app.kubernetes.io/part-of: shop
spec:
  hosts:
  - ${host}
  location: MESH_EXTERNAL
  resolution: DNS
  exportTo:
  - "."
  ports:
  - number: 443
    name: tls
    protocol: TLS
  - number: 80
    name: ${broken ? 'tls' : 'http'}
    protocol: HTTP
`,
    `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ext-${i}
  namespace: ${ns}
spec:
  hosts:
  - ${host}
  exportTo:
  - "."
  tls:
  - match:
    - port: 443
      sniHosts:
      - ${host}
    route:
    - destination:
        host: ${host}
        port:
          number: 443
  http:
  - match:
    - port: 80
    timeout: 5s
    retries:
      attempts: 3
      perTryTimeout: 2s
    route:
    - destination:
        host: ${host}
        port:
          number: 80
`,
    `apiVersion: policy.openservicemesh.io/v1alpha1
kind: Egress
metadata:
  name: ext-${i}
  namespace: ${ns}
spec:
  sources:
  - kind: ServiceAccount
    name: app-${i}
    namespace: ${ns}
  hosts:
  - ${host}
  ports:
  - number: 443
    protocol: ${broken ? 'HTTPS' : 'https'}
`,
    `apiVersion: v1
kind: Service
metadata:
  name: app-${i}
  namespace: ${ns}
  labels:
    app.kubernetes.io/name: app-${i}
spec:
  selector:
    app.kubernetes.io/name: app-${i}
  ports:
  - name: http
    port: 8080
    targetPort: http
`,
    `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-${i}
  namespace: ${ns}
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: app-${i}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app-${i}
      annotations:
        egress-warden.io/outbound-capture: cluster
    spec:
      serviceAccountName: app-${i}
      containers:
      - name: app
        image: registry.example.com/app-${i}:1.${i % 10}.0
        ports:
        - name: http
          containerPort: 8080
        resources:
          requests:
            cpu: 100m
            memory: 128Mi
`,
  ];
}

const dir = mkdtempSync(join(tmpdir(), 'egress-warden-check-'));
try {
  for (let t = 0; t < TEAMS; t++) {
    mkdirSync(join(dir, `team-${t}`));
    writeFileSync(
      join(dir, `team-${t}`, 'namespace.yaml'),
      `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-${t}\n  labels:\n    egress-warden.io/mode: enforce\n`,
    );
  }
  let objects = TEAMS;
  for (let i = 0; objects < TOTAL; i++) {
    const docs = app(i).slice(0, Math.min(PER_FILE, TOTAL - objects));
    writeFileSync(join(dir, `team-${i % TEAMS}`, `app-${i}.yaml`), docs.join('---\n'));
    objects += docs.length;
  }
  const runs: number[] = [];
  let report = '';
  for (let r = 0; r < 3; r++) {
    const io = captureIo();
    const start = performance.now();
    const code = await runCheck([dir, '--output', 'json'], io);
    runs.push(performance.now() - start);
    if (code === 2) throw new Error(io.stderr());
    report = io.stdout();
  }
  const { summary } = JSON.parse(report) as { summary: Record<string, number> };
  const ms = (n: number) => `${n.toFixed(0)} ms`;
  console.log(`check: ${objects} objects in ${Math.ceil(objects / PER_FILE) + TEAMS} files`);
  console.log(`summary: ${JSON.stringify(summary)}`);
  console.log(`first run ${ms(runs[0]!)}, best of ${runs.length} ${ms(Math.min(...runs))} (target: under 2000 ms)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
