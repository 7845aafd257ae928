import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { sidecarRecord } from '../../src/rules/egress-records.ts';
import { decidingSidecar, outboundPolicyFor } from '../../src/rules/sidecar-scope.ts';

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

Scope('a Sidecar whose selector matches the pod wins over the namespace default; the oldest of those that match', () => {
  assert.is(decidingSidecar({ app: 'web', version: 'v1' }, [namespaceDefault, web])?.name, 'web');
  assert.is(decidingSidecar({ app: 'web' }, [web, namespaceDefault, webOlder])?.name, 'web-old');
  assert.is(decidingSidecar({ app: 'api' }, [web, namespaceDefault])?.name, 'default');
});

Scope("the mesh root namespace's default Sidecar applies where the namespace has none", () => {
  const root = sidecar('default', '2026-01-01T00:00:00Z', { egress: [{ hosts: ['./*', 'istio-system/*'] }] }, 'istio-system');
  assert.is(decidingSidecar({ app: 'api' }, [web], [root])?.namespace, 'istio-system');
  assert.is(decidingSidecar({ app: 'api' }, [], []), undefined);
});

Scope("the Sidecar's outboundTrafficPolicy overrides the mesh config, and says which Sidecar decided", () => {
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
