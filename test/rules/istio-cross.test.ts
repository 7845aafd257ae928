import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject, ObjectMeta, Operation } from '../../src/admission/types.ts';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.ts';
import { validateServiceEntry } from '../../src/rules/service-entry.ts';
import { validateVirtualService } from '../../src/rules/virtual-service.ts';
import { cidrsOf, clean, fixture, snapshotWith, warns, messageOf, without } from '../support.ts';

const Cross = suite('rules/istio-cross');

type Variant = { readonly spec?: Record<string, unknown>; readonly meta?: Partial<ObjectMeta> };
function variant(name: string, { spec = {}, meta = {} }: Variant): KubeObject {
  const o = fixture(name);
  return { ...o, metadata: { ...o.metadata, ...meta }, spec: { ...(o.spec as object), ...spec } };
}
const se = (v: Variant = {}) => variant('objects/service-entry.valid.json', v);
const vs = (v: Variant = {}) => variant('objects/virtual-service.valid.json', v);

const ctx = (snapshot: ClusterSnapshot, operation: Operation = 'CREATE') => ({ snapshot, namespace: 'shop', operation });
const checkSE = (o: KubeObject, cluster: readonly KubeObject[] = [], op?: Operation) =>
  validateServiceEntry(o, ctx(snapshotWith(cluster), op));
const checkVS = (o: KubeObject, cluster: readonly KubeObject[] = []) => validateVirtualService(o, ctx(snapshotWith(cluster)));

const message = messageOf;

const port = (name: string, number: number, protocol?: string) => ({ name, number, ...(protocol ? { protocol } : {}) });
/** httpbin.org declared with port 443 as plain HTTP: the classic mistake. */
const httpOn443 = () => se({ meta: { name: 'httpbin-plain' }, spec: { ports: [port('http', 80, 'HTTP'), port('http-443', 443, 'HTTP')] } });

// EW401: tls route vs HTTP port
Cross('warns when a tls route targets a port a ServiceEntry declares HTTP', () => {
  const r = checkVS(vs(), [httpOn443()]);
  warns(r, 'EW401', 'spec.tls[0].match[0].port');
  assert.is(message(r, 'EW401'), 'ServiceEntry shop/httpbin-plain declares httpbin.org:443 HTTP; tls route ignored');
});

Cross('does not warn when the tls route targets an HTTPS port', () => {
  clean(checkVS(vs(), [se()]));
});

Cross('warns when a tls route without port meets a host with only HTTP ports', () => {
  const r = checkVS(
    vs({ spec: { http: undefined, tls: [{ match: [{ sniHosts: ['httpbin.org'] }], route: [{ destination: { host: 'httpbin.org' } }] }] } }),
    [se({ spec: { ports: [port('http', 80, 'HTTP')] } })],
  );
  warns(r, 'EW401', 'spec.tls[0].match[0]');
});

Cross('ignores tls matches bound to a gateway only', () => {
  const r = checkVS(
    vs({
      spec: {
        tls: [
          {
            match: [{ gateways: ['istio-system/egress'], port: 443, sniHosts: ['httpbin.org'] }],
            route: [{ destination: { host: 'httpbin.org' } }],
          },
        ],
      },
    }),
    [httpOn443()],
  );
  without(r, 'EW401');
});

Cross('finds ServiceEntries through a covering wildcard host', () => {
  const wildcard = se({
    meta: { name: 'all-httpbin' },
    spec: { hosts: ['*.httpbin.org'], resolution: 'NONE', ports: [port('http', 443, 'HTTP')] },
  });
  const r = checkVS(
    vs({
      spec: {
        hosts: ['eu.httpbin.org'],
        http: undefined,
        tls: [{ match: [{ port: 443, sniHosts: ['eu.httpbin.org'] }], route: [{ destination: { host: 'eu.httpbin.org' } }] }],
      },
    }),
    [wildcard],
  );
  warns(r, 'EW401');
});

Cross('ignores ServiceEntries that no namespace sees together with the VirtualService', () => {
  const elsewhere = se({
    meta: { name: 'httpbin-plain', namespace: 'billing' },
    spec: { exportTo: ['.'], ports: [port('http-443', 443, 'HTTP')] },
  });
  without(checkVS(vs({ spec: { exportTo: ['.'] } }), [elsewhere]), 'EW401');
});

Cross('warns from the ServiceEntry side when an existing VirtualService has a tls route on its HTTP port', () => {
  const r = checkSE(httpOn443(), [vs()]);
  warns(r, 'EW401', 'spec.ports[1].protocol');
  assert.is(message(r, 'EW401'), 'tls route of VirtualService shop/httpbin-ext on this HTTP port is ignored');
});

Cross('does not warn from the ServiceEntry side when the port matches the route', () => {
  clean(checkSE(se(), [vs()]));
});

// EW402: http route vs HTTPS/TLS port
Cross('warns when an http route targets a port a ServiceEntry declares HTTPS', () => {
  const r = checkVS(vs({ spec: { http: [{ match: [{ port: 443 }], route: [{ destination: { host: 'httpbin.org' } }] }] } }), [se()]);
  warns(r, 'EW402', 'spec.http[0].match[0].port');
});

Cross('warns when an http route without port meets a host with only TLS ports', () => {
  const tlsOnly = se({ spec: { ports: [port('tls', 443, 'TLS')] } });
  warns(
    checkVS(vs({ spec: { http: [{ route: [{ destination: { host: 'httpbin.org' } }] }], tls: undefined } }), [tlsOnly]),
    'EW402',
    'spec.http[0]',
  );
});

Cross('does not warn when an http route without port meets a host with an HTTP port', () => {
  without(checkVS(vs({ spec: { http: [{ route: [{ destination: { host: 'httpbin.org' } }] }], tls: undefined } }), [se()]), 'EW402');
});

Cross('warns from the ServiceEntry side when an existing http route targets its TLS port', () => {
  const route = vs({ spec: { http: [{ match: [{ port: 443 }], route: [{ destination: { host: 'httpbin.org' } }] }], tls: undefined } });
  warns(checkSE(se(), [route]), 'EW402', 'spec.ports[1].protocol');
});

Cross('does not warn from the ServiceEntry side about a VirtualService bound only to a gateway', () => {
  // bookinfo's bookinfo-gateway VirtualService: sidecars never use it, so the entry's ports do not matter to it
  const gatewayOnly = vs({
    meta: { name: 'bookinfo' },
    spec: {
      hosts: ['*'],
      gateways: ['bookinfo-gateway'],
      tls: undefined,
      http: [{ match: [{ uri: { prefix: '/productpage' } }], route: [{ destination: { host: 'productpage', port: { number: 9080 } } }] }],
    },
  });
  const tlsOnly = se({ spec: { hosts: ['api.example.com'], ports: [port('tls', 443, 'TLS')] } });
  without(checkSE(tlsOnly, [gatewayOnly]), 'EW402');
  without(checkVS(gatewayOnly, [tlsOnly]), 'EW402');
});

Cross('from the ServiceEntry side, skips gateway-only matches of a mesh VirtualService and keeps its mesh matches', () => {
  const route = vs({
    spec: {
      gateways: ['mesh', 'istio-system/egress'],
      tls: undefined,
      http: [{ match: [{ port: 443, gateways: ['istio-system/egress'] }], route: [{ destination: { host: 'httpbin.org' } }] }],
    },
  });
  without(checkSE(se(), [route]), 'EW402');
  const meshToo = vs({
    spec: {
      gateways: ['mesh', 'istio-system/egress'],
      tls: undefined,
      http: [{ match: [{ port: 443, gateways: ['mesh'] }], route: [{ destination: { host: 'httpbin.org' } }] }],
    },
  });
  warns(checkSE(se(), [meshToo]), 'EW402', 'spec.ports[1].protocol');
});

// EW403: port name vs protocol
const namingCases: ReadonlyArray<[name: string, protocol: string, contradicts: boolean]> = [
  ['http', 'TLS', true],
  ['https', 'HTTP', true],
  ['http-api', 'TCP', true],
  ['tls', 'TCP', true],
  ['http', 'HTTP', false],
  ['grpc', 'HTTP2', false],
  ['https', 'TLS', false],
  ['tcp-db', 'MONGO', false],
  ['tcp', 'HTTPS', false],
  ['db', 'TCP', false],
];
for (const [name, protocol, contradicts] of namingCases) {
  Cross(`${contradicts ? 'warns' : 'does not warn'} about a port named "${name}" with protocol ${protocol}`, () => {
    const r = checkSE(se({ spec: { resolution: 'NONE', addresses: ['203.0.113.10'], ports: [port(name, 8443, protocol)] } }));
    if (contradicts) warns(r, 'EW403', 'spec.ports[0].name');
    else without(r, 'EW403');
  });
}

// EW404: same host and port, different protocols
const legacy = (v: Variant = {}) =>
  se({ meta: { name: 'httpbin-legacy', ...v.meta }, spec: { ports: [port('tls', 443, 'TLS')], ...v.spec } });

Cross('warns when another ServiceEntry declares the same host and port with another protocol, naming it', () => {
  const r = checkSE(se(), [legacy()]);
  warns(r, 'EW404', 'spec.ports[1].protocol');
  assert.is(message(r, 'EW404'), 'httpbin.org:443 is HTTPS here but shop/httpbin-legacy (TLS); Istio keeps one');
});

Cross('does not warn when the other ServiceEntry declares the same protocol in another case', () => {
  without(checkSE(se(), [legacy({ spec: { ports: [port('https', 443, 'https')] } })]), 'EW404');
});

Cross('does not warn when no namespace sees both ServiceEntries', () => {
  const other = legacy({ meta: { namespace: 'billing' }, spec: { exportTo: ['.'], ports: [port('tls', 443, 'TLS')] } });
  without(checkSE(se({ spec: { exportTo: ['.'] } }), [other]), 'EW404');
});

Cross('does not treat the previous version of the same ServiceEntry as a conflict on UPDATE', () => {
  const previous = se({ spec: { ports: [port('tls', 443, 'TLS')] } });
  without(checkSE(se(), [previous], 'UPDATE'), 'EW404');
});

// EW405: catch-all TCP port
const catchAll = (v: Variant = {}) =>
  se({
    meta: { name: 'tcp-catch-all', ...v.meta },
    spec: { hosts: ['postgres.internal'], resolution: 'NONE', ports: [port('tcp', 5432, 'TCP')], ...v.spec },
  });
const db = (v: Variant = {}) =>
  se({ meta: { name: 'db', ...v.meta }, spec: { hosts: ['db.example.com'], ports: [port('tcp-postgres', 5432, 'TCP')], ...v.spec } });

Cross('warns when a NONE entry without addresses takes a TCP port another entry uses', () => {
  const r = checkSE(catchAll(), [db()]);
  warns(r, 'EW405', 'spec.ports[0]');
  assert.is(message(r, 'EW405'), 'TCP port 5432 with resolution NONE and no addresses captures shop/db');
});

Cross('warns the other way round, naming the entry that captures the port', () => {
  warns(checkSE(db(), [catchAll()]), 'EW405', 'spec.ports[0]');
});

Cross('does not warn when the other entry has its own addresses', () => {
  without(checkSE(catchAll(), [db({ spec: { addresses: ['203.0.113.10'] } })]), 'EW405');
});

Cross('does not warn when the NONE entry has addresses', () => {
  without(checkSE(catchAll({ spec: { addresses: ['203.0.113.0/24'] } }), [db()]), 'EW405');
});

Cross('does not warn about entries told apart by SNI or sniffing on the same port', () => {
  without(
    checkSE(catchAll(), [
      db({ spec: { ports: [port('https', 5432, 'HTTPS')] } }),
      db({ meta: { name: 'web' }, spec: { ports: [port('http', 5432, 'HTTP')] } }),
    ]),
    'EW405',
  );
});

Cross('names at most three captured entries', () => {
  const many = ['a', 'b', 'c', 'd', 'e'].map((n) => db({ meta: { name: n } }));
  assert.is(
    message(checkSE(catchAll(), many), 'EW405'),
    'TCP port 5432 with resolution NONE and no addresses captures shop/a, shop/b, shop/c, …',
  );
});

Cross('finds the one capturing entry among 5,000 entries with addresses on the same port', () => {
  const one = db();
  const addressed = Array.from(
    { length: 5_000 },
    (_, i): KubeObject => ({
      ...one,
      metadata: { ...one.metadata, name: `db-${i}` },
      spec: { ...(one.spec as object), addresses: [`203.0.113.${i % 250}`] },
    }),
  );
  const r = checkSE(db({ meta: { name: 'new' } }), [...addressed, catchAll()]);
  warns(r, 'EW405', 'spec.ports[0]');
  assert.is(message(r, 'EW405'), 'port 5432 traffic is captured by shop/tcp-catch-all (resolution NONE, TCP, no addresses)');
});

Cross('does not warn about an HTTP port under resolution NONE', () => {
  without(checkSE(catchAll({ spec: { ports: [port('http', 5432, 'HTTP')] } }), [db()]), 'EW405');
});

// EW406: addresses inside the cluster
Cross('warns about an address inside the service CIDR, naming the range and its origin', () => {
  const r = validateServiceEntry(
    se({ spec: { resolution: 'STATIC', addresses: ['10.96.0.10'], endpoints: [{ address: '203.0.113.10' }] } }),
    ctx(snapshotWith([], cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12'], 'ServiceCIDR/kubernetes'))),
  );
  warns(r, 'EW406', 'spec.addresses[0]');
  assert.is(message(r, 'EW406'), '10.96.0.10 overlaps the cluster service CIDR 10.96.0.0/12 (ServiceCIDR/kubernetes)');
});

Cross('warns about a CIDR that contains the pod CIDR', () => {
  warns(checkSE(se({ spec: { resolution: 'NONE', addresses: ['10.0.0.0/8'] } })), 'EW406');
});

Cross('does not warn about addresses outside the cluster CIDRs', () => {
  without(checkSE(se({ spec: { resolution: 'NONE', addresses: ['203.0.113.0/24', '2001:db8::/64'] } })), 'EW406');
});

// check: the object itself is part of the cluster
Cross('never reports an object as conflicting with itself', () => {
  const self = catchAll();
  clean(checkSE(se(), [se(), vs()]));
  without(checkSE(self, [self]), 'EW405');
});

Cross('does not confuse a VirtualService and a ServiceEntry that share a name', () => {
  warns(checkSE(httpOn443(), [vs({ meta: { name: 'httpbin-plain' } })]), 'EW401');
});

Cross.run();
