import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { sidecarRecord } from '../../src/rules/egress-records.ts';
import { decidingSidecar, outboundPolicyFor, sidecarImport } from '../../src/rules/sidecar-scope.ts';

const Scope = suite("rules/sidecar-scope: the Sidecar that decides a pod's egress (getSidecarScope)");

const sidecar = (name: string, created: string, spec: Record<string, unknown>, namespace = 'shop') =>
  sidecarRecord({
    apiVersion: 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: { name, namespace, creationTimestamp: created },
    spec,
  } as KubeObject);
const mesh = { value: 'ALLOW_ANY' as const, from: 'ConfigMap istio-system/istio mesh.outboundTrafficPolicy.mode' };

const namespaceDefault = sidecar('default', '2026-01-01T00:00:00Z', {
  outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
  egress: [{ hosts: ['./*'] }],
});
const web = sidecar('web', '2026-02-01T00:00:00Z', { workloadSelector: { labels: { app: 'web' } }, egress: [{ hosts: ['*/*'] }] });
const webOlder = sidecar('web-old', '2025-12-01T00:00:00Z', {
  workloadSelector: { labels: { app: 'web' } },
  outboundTrafficPolicy: { mode: 'ALLOW_ANY' },
});

Scope('a Sidecar whose selector matches the pod wins over the namespace default; the oldest of those that match (getSidecarScope)', () => {
  assert.is(decidingSidecar({ app: 'web', version: 'v1' }, [namespaceDefault, web])?.name, 'web');
  assert.is(decidingSidecar({ app: 'web' }, [web, namespaceDefault, webOlder])?.name, 'web-old');
  assert.is(decidingSidecar({ app: 'api' }, [web, namespaceDefault])?.name, 'default');
});

Scope("the mesh root namespace's default Sidecar applies where the namespace has none (meshRootSidecarConfig)", () => {
  const root = sidecar('default', '2026-01-01T00:00:00Z', { egress: [{ hosts: ['./*', 'istio-system/*'] }] }, 'istio-system');
  assert.is(decidingSidecar({ app: 'api' }, [web], [root])?.namespace, 'istio-system');
  assert.is(decidingSidecar({ app: 'api' }, [], []), undefined);
});

Scope("the Sidecar's outboundTrafficPolicy overrides the mesh config, and says which Sidecar decided (convertToSidecarScope)", () => {
  assert.equal(outboundPolicyFor(namespaceDefault, mesh), {
    value: 'REGISTRY_ONLY',
    from: 'Sidecar shop/default spec.outboundTrafficPolicy.mode',
  });
  // a Sidecar without a policy leaves the mesh config's
  assert.equal(outboundPolicyFor(web, mesh), mesh);
  assert.equal(outboundPolicyFor(undefined, mesh), mesh);
  // an outboundTrafficPolicy without mode is the proto's zero value, REGISTRY_ONLY
  assert.is(outboundPolicyFor(sidecar('x', '', { outboundTrafficPolicy: {} }), mesh)?.value, 'REGISTRY_ONLY');
});

Scope.run();

const Import = suite('rules/sidecar-scope: what the deciding Sidecar imports for a destination (SidecarScope egress listeners)');

Import(
  "imports a host by the ServiceEntry's namespace, on the port's listener or else the catch-all, and names the host to add (selectServices)",
  () => {
    const s = sidecar('default', '', {
      egress: [
        { port: { number: 443, name: 'tls', protocol: 'TLS' }, hosts: ['egress/api.example.com'] },
        { hosts: ['./*', 'istio-system/*'] },
      ],
    });
    assert.equal(sidecarImport(s, 'egress', 'api.example.com', 443), { listener: 0, imported: true, fix: 'egress/api.example.com' });
    // the namespace in the host is the config's: the same host declared in partners is not imported on 443
    assert.equal(sidecarImport(s, 'partners', 'api.example.com', 443), { listener: 0, imported: false, fix: 'partners/api.example.com' });
    // port 80 falls to the catch-all, which imports the Sidecar's own namespace only
    assert.is(sidecarImport(s, 'shop', 'web.example.com', 80).imported, true);
    assert.equal(sidecarImport(s, 'egress', 'web.example.com', 80), { listener: 1, imported: false, fix: 'egress/web.example.com' });
  },
);

Import(
  '*/ and wildcard names import across namespaces; ~ imports nothing; no listener for the port imports nothing (selectServices)',
  () => {
    const wild = sidecar('w', '', { egress: [{ hosts: ['*/*.example.com'] }] });
    assert.is(sidecarImport(wild, 'egress', 'api.example.com', 443).imported, true);
    assert.is(sidecarImport(wild, 'egress', 'api.example.org', 443).imported, false);
    assert.is(sidecarImport(sidecar('n', '', { egress: [{ hosts: ['~/*'] }] }), 'shop', 'api.example.com', 443).imported, false);
    assert.equal(
      sidecarImport(sidecar('p', '', { egress: [{ port: { number: 80 }, hosts: ['*/*'] }] }), 'egress', 'api.example.com', 443),
      {
        listener: undefined,
        imported: false,
        fix: 'egress/api.example.com',
      },
    );
  },
);

Import.run();
