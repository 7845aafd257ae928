import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { sidecarRecord } from '../../src/rules/egress-records.ts';
import { egressHostProblems, sidecarsOfNamespace, validateSidecar, validateSidecarParity } from '../../src/rules/sidecar.ts';
import { clean, denies, messageOf, ruleCases, snapshotWith, warns, without } from '../support.ts';

const Sidecar = suite("rules/sidecar: istiod's ValidateSidecar (egress side) and the Sidecars of a namespace");

const sidecar = (spec: Record<string, unknown>, name = 'default', extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'Sidecar',
  metadata: { name, namespace: 'shop', ...extra },
  spec,
});
const parity = (o: KubeObject) => validateSidecarParity(o, 'shop');

Sidecar(
  'admits the usual namespace Sidecar: its own namespace, istio-system and one external host, under REGISTRY_ONLY (ValidateSidecar)',
  () => {
    clean(
      parity(
        sidecar({
          egress: [{ hosts: ['./*', 'istio-system/*', 'egress/api.example.com', '*/*.googleapis.com', '~/*'] }],
          outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
        }),
      ),
    );
  },
);

ruleCases(
  Sidecar,
  [
    {
      it: 'denies an empty Sidecar: "sidecar: empty configuration provided" (ValidateSidecar)',
      obj: () => sidecar({}),
      code: 'EW601',
      verdict: 'denies',
      message: 'sidecar: empty configuration provided',
    },
    {
      it: 'denies a host without a namespace: "host must be of form namespace/dnsName" (ValidateNamespaceSlashWildcardHostname)',
      obj: () => sidecar({ egress: [{ hosts: ['api.example.com'] }] }),
      code: 'EW605',
      verdict: 'denies',
      path: 'spec.egress[0].hosts[0]',
      message: 'host must be of form namespace/dnsName',
    },
    {
      it: 'denies a short name: "short names (non FQDN) are not allowed" (validateSidecarOrGatewayHostnamePart)',
      obj: () => sidecar({ egress: [{ hosts: ['shop/reviews'] }] }),
      code: 'EW605',
      verdict: 'denies',
      message: 'short names (non FQDN) are not allowed',
    },
    {
      it: 'denies a partial wildcard: istiod refuses "*foo.com" in a Sidecar (ValidatePartialWildCard)',
      obj: () => sidecar({ egress: [{ hosts: ['*/*foo.com'] }] }),
      code: 'EW605',
      verdict: 'denies',
      message: 'partial wildcard "*foo.com" not allowed',
    },
    {
      it: 'denies a namespace that is not a DNS label (ValidateNamespaceSlashWildcardHostname)',
      obj: () => sidecar({ egress: [{ hosts: ['my_ns/api.example.com'] }] }),
      code: 'EW605',
      verdict: 'denies',
      message: 'invalid namespace value "my_ns" in sidecar',
    },
    {
      it: 'denies an egress listener without hosts (ValidateSidecar)',
      obj: () => sidecar({ egress: [{ port: { number: 443, protocol: 'TLS', name: 'tls' } }] }),
      code: 'EW604',
      verdict: 'denies',
      path: 'spec.egress[0].hosts',
    },
    {
      it: 'denies a catch-all listener that is not the last one (ValidateSidecar)',
      obj: () => sidecar({ egress: [{ hosts: ['./*'] }, { port: { number: 443, protocol: 'TLS', name: 'tls' }, hosts: ['./*'] }] }),
      code: 'EW606',
      verdict: 'denies',
      path: 'spec.egress[0]',
    },
    {
      it: 'denies two listeners on one port (validateSidecarEgressPortBindAndCaptureMode)',
      obj: () =>
        sidecar({
          egress: [
            { port: { number: 443, protocol: 'TLS', name: 'a' }, hosts: ['./*'] },
            { port: { number: 443, protocol: 'TLS', name: 'b' }, hosts: ['./*'] },
          ],
        }),
      code: 'EW607',
      verdict: 'denies',
      path: 'spec.egress[1].port.number',
    },
    {
      it: 'denies port 0 without a unix socket bind (validateSidecarEgressPortBindAndCaptureMode)',
      obj: () => sidecar({ egress: [{ port: { number: 0, protocol: 'HTTP', name: 'uds' }, hosts: ['./*'] }] }),
      code: 'EW607',
      verdict: 'denies',
      path: 'spec.egress[0].bind',
    },
    {
      it: 'denies an unsupported port protocol (ValidateProtocol)',
      obj: () => sidecar({ egress: [{ port: { number: 8080, protocol: 'SPDY', name: 'x' }, hosts: ['./*'] }] }),
      code: 'EW607',
      verdict: 'denies',
      message: 'unsupported protocol: SPDY',
    },
    {
      it: 'warns on a duplicated egress host, as istiod does (ValidateSidecar)',
      obj: () => sidecar({ egress: [{ hosts: ['egress/*', 'egress/api.example.com'] }] }),
      code: 'EW608',
      verdict: 'warns',
      path: 'spec.egress[0].hosts[1]',
      message: 'duplicated egress host: egress/api.example.com',
    },
    {
      it: 'reads "." as the Sidecar\'s own namespace when looking for duplicates (ValidateSidecar)',
      obj: () => sidecar({ egress: [{ hosts: ['./api.example.com', 'shop/api.example.com'] }] }),
      code: 'EW608',
      verdict: 'warns',
    },
    {
      it: 'warns on */* with other hosts, which then scope nothing (ValidateSidecar)',
      obj: () => sidecar({ egress: [{ hosts: ['*/*', 'egress/api.example.com'] }] }),
      code: 'EW609',
      verdict: 'warns',
      path: 'spec.egress[0].hosts',
    },
    {
      it: 'denies ALLOW_ANY_DYNAMIC_DNS in a Sidecar: MeshConfig only (validateSidecarOutboundTrafficPolicy)',
      obj: () => sidecar({ outboundTrafficPolicy: { mode: 'ALLOW_ANY_DYNAMIC_DNS' } }),
      code: 'EW610',
      verdict: 'denies',
      message: 'sidecar: ALLOW_ANY_DYNAMIC_DNS mode is only supported in MeshConfig, not in Sidecar resource',
    },
    {
      it: 'denies an egressProxy under REGISTRY_ONLY (validateSidecarOutboundTrafficPolicy)',
      obj: () =>
        sidecar({ outboundTrafficPolicy: { mode: 'REGISTRY_ONLY', egressProxy: { host: 'proxy.corp.example', port: { number: 3128 } } } }),
      code: 'EW610',
      verdict: 'denies',
      path: 'spec.outboundTrafficPolicy.egressProxy',
    },
    {
      it: 'denies a workloadSelector label with a wildcard, before anything else (ValidateAlphaWorkloadSelector)',
      obj: () => sidecar({ workloadSelector: { labels: { app: 'web*' } } }),
      code: 'EW602',
      verdict: 'denies',
    },
    {
      it: 'warns on a workloadSelector without labels: it applies to the whole namespace (ValidateSidecar)',
      obj: () => sidecar({ workloadSelector: {}, egress: [{ hosts: ['./*'] }] }),
      code: 'EW603',
      verdict: 'warns',
    },
  ],
  parity,
);

Sidecar('accepts the namespace forms istiod accepts: ".", "*", "~" and "~ns" (ValidateNamespaceSlashWildcardHostname)', () => {
  for (const h of ['./*', '*/api.example.com', '~/*', '~shop/*.example.com', 'shop/*']) assert.equal(egressHostProblems(h), [], h);
});

const entry = (namespace: string, name: string, host: string, exportTo?: string[]): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace },
  spec: { hosts: [host], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], resolution: 'DNS', ...(exportTo ? { exportTo } : {}) },
});
const ctx = (objects: KubeObject[]) => ({ snapshot: snapshotWith(objects), namespace: 'shop' });

Sidecar(
  "warns when the host's ServiceEntry lives in another namespace than the one written: the namespace is the config's (istio#13319)",
  () => {
    const r = validateSidecar(sidecar({ egress: [{ hosts: ['shop/api.example.com'] }] }), ctx([entry('egress', 'api', 'api.example.com')]));
    warns(r, 'EW613', 'spec.egress[0].hosts[0]');
    assert.is(
      messageOf(r, 'EW613'),
      'api.example.com is registered by ServiceEntry egress/api, not in shop: write egress/api.example.com or */api.example.com',
    );
  },
);

Sidecar(
  "warns when the ServiceEntry in the namespace written is not exported to the Sidecar's namespace (selectServices after exportTo)",
  () => {
    const r = validateSidecar(
      sidecar({ egress: [{ hosts: ['egress/api.example.com'] }] }),
      ctx([entry('egress', 'api', 'api.example.com', ['.'])]),
    );
    warns(r, 'EW613');
    assert.match(messageOf(r, 'EW613'), /ServiceEntry egress\/api is not exported to shop/);
  },
);

Sidecar(
  'says nothing for hosts no ServiceEntry declares, a wildcard namespace, or an entry found through a covering wildcard in the namespace',
  () => {
    const objects = [entry('egress', 'wild', '*.example.com')];
    clean(
      validateSidecar(
        sidecar({ egress: [{ hosts: ['egress/api.example.com', 'shop/reviews.shop.svc.cluster.local', '*/x.example.com'] }] }),
        ctx(objects),
      ),
    );
  },
);

Sidecar('warns on a second Sidecar without workloadSelector: istiod honours only the oldest (getSidecarScope, IST0111)', () => {
  const older = sidecarRecord(sidecar({ egress: [{ hosts: ['./*'] }] }, 'first', { creationTimestamp: '2026-01-02T03:04:05Z' }));
  const r = validateSidecar(sidecar({ egress: [{ hosts: ['*/*'] }] }, 'second'), ctx([]), [older]);
  warns(r, 'EW611', 'spec');
  assert.is(
    messageOf(r, 'EW611'),
    'Sidecar shop/first has no workloadSelector either (older: created 2026-01-02T03:04:05Z): istiod uses only the oldest of the two',
  );
  // the object itself, as the lookup holds its previous version on UPDATE, is no conflict
  without(validateSidecar(sidecar({ egress: [{ hosts: ['*/*'] }] }, 'first'), ctx([]), [older]), 'EW611');
});

Sidecar('warns when one workloadSelector contains the other: a pod gets one of them (getSidecarScope, IST0110)', () => {
  const web = sidecarRecord(sidecar({ workloadSelector: { labels: { app: 'web' } }, egress: [{ hosts: ['./*'] }] }, 'web'));
  const canary = sidecar({ workloadSelector: { labels: { app: 'web', track: 'canary' } }, egress: [{ hosts: ['./*'] }] }, 'web-canary');
  warns(sidecarsOfNamespace(canary, [web]), 'EW612', 'spec.workloadSelector');
  const api = sidecar({ workloadSelector: { labels: { app: 'api' } }, egress: [{ hosts: ['./*'] }] }, 'api');
  clean(sidecarsOfNamespace(api, [web]));
});

Sidecar('does not compare with other Sidecars when none are known (getSidecarScope needs them)', () => {
  clean(validateSidecar(sidecar({ egress: [{ hosts: ['*/*'] }] }, 'second'), ctx([])));
});

Sidecar("reports istiod's errors alone, without the cross-object warnings (ValidateSidecar first)", () => {
  const r = validateSidecar(sidecar({ egress: [{ hosts: ['shop/api'] }] }), ctx([entry('egress', 'api', 'api.example.com')]));
  denies(r, 'EW605');
  assert.is(r.warnings.length, 0);
});

Sidecar.run();

const Imports = suite('rules/sidecar: hosts imported through a VirtualService of the namespace written');

Imports(
  'says nothing when a VirtualService of that namespace routes the host: istiod infers its destination from any namespace (convertToSidecarScope)',
  () => {
    const vs: KubeObject = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'api', namespace: 'shop' },
      spec: {
        hosts: ['api.example.com'],
        tls: [{ match: [{ port: 443, sniHosts: ['api.example.com'] }], route: [{ destination: { host: 'api.example.com' } }] }],
      },
    };
    const objects = [entry('egress', 'api', 'api.example.com'), vs];
    without(validateSidecar(sidecar({ egress: [{ hosts: ['shop/api.example.com'] }] }), ctx(objects)), 'EW613');
  },
);

Imports.run();
