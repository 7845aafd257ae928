/**
 * Realistic cluster state at any size: ServiceEntries and OSM Egresses the way platform teams
 * write them (mostly one external API on 443, some plain HTTP, databases by address, wildcard
 * CDN entries), spread over team namespaces, written as JSON `List` files for `serve --state`.
 *
 * Run: node bench/generate.ts COUNT DIR   (writes DIR/namespaces.yaml and DIR/objects-NNN.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../src/admission/types.ts';
import type { ClusterCidrs } from '../src/cluster/snapshot.ts';
import { parseCidr } from '../src/net/cidr.ts';
import { toYaml } from '../src/yaml.ts';
import { benchNamespace } from './reviews.ts';

export const TEAMS = 200;

/** kubeadm's defaults, which the no-cluster server uses too. */
export const BENCH_CIDRS: ClusterCidrs = {
  pod: [{ cidr: parseCidr('10.244.0.0/16')!, origin: 'default (kubeadm)' }],
  service: [{ cidr: parseCidr('10.96.0.0/12')!, origin: 'default (kubeadm)' }],
};
/** objects per state file: a state folder is usually many files, and small files keep load memory low */
export const PER_FILE = 5_000;

const team = (i: number) => `team-${i % TEAMS}`;
const partnerHost = (i: number) => `api-${i}.partner${i % 997}.example.com`;

const meta = (i: number, name: string) => ({
  name,
  namespace: team(i),
  labels: { 'app.kubernetes.io/name': `app-${i % 50}`, 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/part-of': team(i) },
  annotations: { 'meta.helm.sh/release-name': `app-${i % 50}`, 'meta.helm.sh/release-namespace': team(i) },
  uid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
  resourceVersion: String(100_000 + i),
  generation: 1,
  creationTimestamp: '2026-11-01T09:00:00Z',
});

function serviceEntry(i: number): KubeObject {
  const shape = i % 20;
  const exportTo = i % 3 === 0 ? { exportTo: ['.'] } : {};
  let spec: Record<string, unknown>;
  if (shape === 0) {
    // a managed database reached by address
    const a = `10.${200 + ((i >> 16) % 50)}.${(i >> 8) % 256}.${i % 256}`;
    spec = {
      hosts: [`db-${i}.${team(i)}.internal`],
      addresses: [`${a}/32`],
      location: 'MESH_EXTERNAL',
      resolution: 'STATIC',
      endpoints: [{ address: a }],
      ports: [{ number: 5432, name: 'tcp-postgres', protocol: 'TCP' }],
    };
  } else if (shape === 1) {
    // a CDN: wildcard host, no DNS resolution possible
    spec = {
      hosts: [`*.cdn${i}.example.net`],
      location: 'MESH_EXTERNAL',
      resolution: 'NONE',
      ports: [{ number: 443, name: 'tls', protocol: 'TLS' }],
    };
  } else if (shape < 8) {
    spec = {
      hosts: [partnerHost(i)],
      location: 'MESH_EXTERNAL',
      resolution: 'DNS',
      ports: [
        { number: 443, name: 'https', protocol: 'HTTPS' },
        { number: 80, name: 'http', protocol: 'HTTP' },
      ],
    };
  } else {
    spec = {
      hosts: [partnerHost(i)],
      location: 'MESH_EXTERNAL',
      resolution: 'DNS',
      ports: [{ number: 443, name: 'tls', protocol: 'TLS' }],
    };
  }
  return { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: meta(i, `ext-${i}`), spec: { ...spec, ...exportTo } };
}

function egress(i: number): KubeObject {
  const shape = i % 10;
  const sources = [{ kind: 'ServiceAccount', name: `app-${i % 50}`, namespace: team(i) }];
  let spec: Record<string, unknown>;
  if (shape === 0) {
    const a = `10.${200 + ((i >> 16) % 50)}.${(i >> 8) % 256}.${i % 256}`;
    spec = { sources, ipAddresses: [`${a}/32`], ports: [{ number: 5432, protocol: 'tcp' }] };
  } else if (shape < 3) {
    spec = { sources, hosts: [partnerHost(i)], ports: [{ number: 80, protocol: 'http' }] };
  } else {
    spec = { sources, hosts: [partnerHost(i)], ports: [{ number: 443, protocol: 'https' }] };
  }
  return { apiVersion: 'policy.openservicemesh.io/v1alpha1', kind: 'Egress', metadata: meta(i, `egress-${i}`), spec };
}

/** `count` objects, ServiceEntries and Egresses alternating, deterministic for a given count. */
export function generateObjects(count: number): KubeObject[] {
  return Array.from({ length: count }, (_, i) => (i % 2 === 0 ? serviceEntry(i) : egress(i)));
}

/**
 * Writes admitted moments ago (read-your-writes, src/cluster/overlay.ts): `count` objects of every
 * kind the snapshot indexes, with names no other pending object has. About a quarter are new
 * versions of objects `generateObjects` and `teamNamespaces` made (the overlay hides their stored
 * records), the rest are new.
 * None of them clashes with the bench reviews (other namespaces, other hosts), so the reviews answer
 * as they do without them and what is measured is the cost of the layering alone.
 * `services: false` leaves out Services, which only the informers write (no webhook admits them).
 */
export function pendingObjects(count: number, { services = true }: { services?: boolean } = {}): KubeObject[] {
  const shares: [Kind, number][] = [
    ['ServiceEntry', 0.3],
    ['Egress', 0.3],
    ['VirtualService', 0.16],
    ['Service', services ? 0.12 : 0],
    ['HTTPRouteGroup', 0.08],
    ['Namespace', 0.04],
  ];
  const total = shares.reduce((n, [, w]) => n + w, 0);
  const counts = shares.map(([kind, weight]) => [kind, Math.floor((count * weight) / total)] as const);
  // rounding down leaves a few over; they go to the first kind, so the total is exact
  const left = count - counts.reduce((n, [, c]) => n + c, 0);
  const out: KubeObject[] = [];
  counts.forEach(([kind, n], k) => {
    for (let i = 0; i < n + (k === 0 ? left : 0); i++) out.push(PENDING_MAKERS[kind](i));
  });
  return out;
}

type Kind = 'ServiceEntry' | 'Egress' | 'VirtualService' | 'Service' | 'HTTPRouteGroup' | 'Namespace';

/** A newer version of a stored object: what an update admitted moments ago looks like. */
const bumped = (o: KubeObject): KubeObject => ({
  ...o,
  metadata: { ...o.metadata, resourceVersion: String(Number(o.metadata?.resourceVersion ?? 0) + 1), generation: 2 },
});

const PENDING_MAKERS: Readonly<Record<Kind, (i: number) => KubeObject>> = {
  // even indexes are updates of generated ServiceEntries (generateObjects makes them at even i)
  ServiceEntry: (i) =>
    i % 3 === 0
      ? bumped(serviceEntry(2 * i))
      : { ...serviceEntry(1_000_000 + 2 * i), metadata: { ...meta(i, `pending-se-${i}`), resourceVersion: '' } },
  Egress: (i) =>
    i % 3 === 0
      ? bumped(egress(2 * i + 1))
      : { ...egress(1_000_001 + 2 * i), metadata: { ...meta(i, `pending-egress-${i}`), resourceVersion: '' } },
  VirtualService: (i) => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { ...meta(i, `pending-vs-${i}`), resourceVersion: '' },
    spec: {
      hosts: [partnerHost(2 * i)],
      exportTo: ['.'],
      tls: [
        {
          match: [{ port: 443, sniHosts: [partnerHost(2 * i)] }],
          route: [{ destination: { host: partnerHost(2 * i), port: { number: 443 } } }],
        },
      ],
    },
  }),
  Service: (i) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { ...meta(i, `pending-svc-${i}`), resourceVersion: '' },
    spec: {
      clusterIP: `10.96.${(i >> 8) % 256}.${i % 256}`,
      ports: [{ name: i % 4 ? 'http' : 'tcp-postgres', port: i % 4 ? 8080 : 5432, targetPort: 8080 }],
    },
  }),
  HTTPRouteGroup: (i) => ({
    apiVersion: 'specs.smi-spec.io/v1alpha4',
    kind: 'HTTPRouteGroup',
    metadata: { ...meta(i, `pending-routes-${i}`), resourceVersion: '' },
    spec: { matches: [{ name: 'api', pathRegex: `/v${i % 3}/.*`, methods: ['GET', 'POST'] }] },
  }),
  // the first TEAMS are new versions of the team namespaces (a label added), the rest are new
  Namespace: (i) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: i < TEAMS ? team(i) : `pending-ns-${i}`,
      labels: { 'kubernetes.io/metadata.name': i < TEAMS ? team(i) : `pending-ns-${i}`, 'example.com/cost-centre': `cc-${i % 7}` },
    },
  }),
};

/** The team namespaces the generated objects live in (none for an empty state). */
export function teamNamespaces(count: number): KubeObject[] {
  return Array.from({ length: Math.min(count, TEAMS) }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: team(i), labels: { 'kubernetes.io/metadata.name': team(i) } },
  }));
}

/**
 * A state folder: the bench namespace (always), the team namespaces and `count` generated objects.
 * Returns the number of files written.
 */
export function writeState(dir: string, count: number): number {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'namespaces.yaml'), toYaml([benchNamespace(), ...teamNamespaces(count)]));
  const objects = generateObjects(count);
  let files = 1;
  for (let from = 0; from < objects.length; from += PER_FILE, files++) {
    const list = { apiVersion: 'v1', kind: 'List', items: objects.slice(from, from + PER_FILE) };
    writeFileSync(join(dir, `objects-${String(files).padStart(3, '0')}.json`), JSON.stringify(list));
  }
  return files;
}

if (import.meta.main) {
  const [countText, dir] = process.argv.slice(2);
  const count = Number(countText);
  if (!dir || !Number.isInteger(count) || count < 0) {
    process.stderr.write('usage: node bench/generate.ts COUNT DIR\n');
    process.exit(2);
  }
  const files = writeState(dir, count);
  process.stdout.write(`wrote ${count} objects (+ ${1 + Math.min(count, TEAMS)} namespaces) in ${files} files to ${dir}\n`);
}
