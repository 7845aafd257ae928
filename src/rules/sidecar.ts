/**
 * Istio Sidecar: the egress side of istiod's ValidateSidecar (workloadSelector, egress listeners,
 * their hosts and ports, outboundTrafficPolicy), with its verdicts and close to its messages. Ingress
 * listeners are left to istiod's own webhook: they do not scope egress.
 *
 * Then what no mesh checks: an egress host whose namespace holds no ServiceEntry for it (the
 * namespace is the config's, istio/istio#13319), and the Sidecars of one namespace read together.
 */
import type { KubeObject } from '../admission/types.ts';
import { parseProtocol } from '../catalogue/protocols.ts';
import { finding, mergeAll, ok, type Result } from '../catalogue/result.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { asArr, asObj, asStr, isObj, q } from '../json.ts';
import type { SidecarRecord } from './egress-records.ts';
import {
  coveringHosts,
  fqdnProblem,
  got,
  isDns1123Label,
  isIpAddress,
  partialWildcardProblem,
  portNumberProblem,
  visibleFrom,
  wildcardDomainProblem,
} from './fields.ts';
import type { RuleContext } from './rule.ts';

const UNIX = 'unix://';
const OUTBOUND_MODES: readonly string[] = ['REGISTRY_ONLY', 'ALLOW_ANY'];

/** `ValidateAlphaWorkloadSelector`: an error stops istiod before anything else is checked. */
function selectorErrors(spec: Readonly<Record<string, unknown>>): Result {
  if (!isObj(spec.workloadSelector)) return ok;
  const out: Result[] = [];
  for (const [k, v] of Object.entries(asObj(spec.workloadSelector.labels))) {
    const at = `spec.workloadSelector.labels[${k}]`;
    if (typeof v !== 'string') out.push(finding('EW602', at, `selector label ${q(k)} must have a string value, got ${got(v)}`));
    else if (k === '') out.push(finding('EW602', at, `empty key is not supported in selector: ${q(`${k}=${v}`)}`));
    else if (k.includes('*') || v.includes('*')) out.push(finding('EW602', at, `wildcard is not supported in selector: ${q(`${k}=${v}`)}`));
  }
  return mergeAll(out);
}

/** `ValidateNamespaceSlashWildcardHostname(host, false, false)`: the problems, first ones first. */
export function egressHostProblems(host: string): string[] {
  const slash = host.indexOf('/');
  if (slash < 0) return ['host must be of form namespace/dnsName'];
  const ns = host.slice(0, slash);
  const name = host.slice(slash + 1);
  const out: string[] = [];
  if (!ns || !name) out.push('config namespace and dnsName in host entry cannot be empty');
  const bare = ns.startsWith('~') ? ns.slice(1) : ns;
  if (bare !== '' && bare !== '*' && bare !== '.' && !isDns1123Label(bare, { allowUpper: true })) {
    out.push(`invalid namespace value ${q(ns)} in sidecar`);
  }
  if (name !== '*' && !name.includes('.')) out.push('short names (non FQDN) are not allowed');
  const domain = wildcardDomainProblem(name);
  if (domain) out.push(domain);
  const partial = partialWildcardProblem(name);
  if (partial) out.push(partial);
  return out;
}

/** `validateSidecarEgressPortBindAndCaptureMode` plus the listener's own port checks. */
function checkPort(listener: Readonly<Record<string, unknown>>, at: string, seen: Set<unknown>): Result {
  const port = asObj(listener.port);
  const bind = asStr(listener.bind);
  const out: Result[] = [];
  const bad = (path: string, message: string) => out.push(finding('EW607', path, message));
  if (typeof port.targetPort === 'number' && port.targetPort > 0) bad(`${at}.port.targetPort`, 'targetPort has no impact on Sidecars');
  if (typeof port.name === 'string' && port.name && !isDns1123Label(port.name, { allowUpper: true })) {
    bad(`${at}.port.name`, `invalid port name: ${port.name}`);
  }
  if (port.protocol !== undefined && port.protocol !== '' && !parseProtocol(port.protocol)) {
    bad(`${at}.port.protocol`, `unsupported protocol: ${typeof port.protocol === 'string' ? port.protocol : got(port.protocol)}`);
  }
  const number = port.number ?? 0;
  if (number === 0) {
    if (!bind.startsWith(UNIX)) bad(`${at}.bind`, 'sidecar: ports with 0 value must have a unix domain socket bind address');
    else {
      const path = bind.slice(UNIX.length);
      if (!path) bad(`${at}.bind`, 'unix address must not be empty');
      else if (!path.startsWith('@') && (!path.startsWith('/') || path.endsWith('/')))
        bad(`${at}.bind`, `${path} is not an absolute path to a file`);
    }
    const mode = listener.captureMode ?? 'DEFAULT';
    if (mode !== 'DEFAULT' && mode !== 'NONE')
      bad(`${at}.captureMode`, 'sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners');
    if (seen.has(bind)) bad(`${at}.bind`, 'sidecar: unix domain socket values for listeners must be unique');
    seen.add(bind);
  } else {
    const p = portNumberProblem(number);
    if (p) bad(`${at}.port.number`, p);
    if (bind && !isIpAddress(bind)) bad(`${at}.bind`, `${bind} is not a valid IP`);
    if (seen.has(number)) bad(`${at}.port.number`, 'sidecar: ports on IP bound listeners must be unique');
    seen.add(number);
  }
  return mergeAll(out);
}

/** The hosts of one listener: syntax, then istiod's duplicate and `*∕*` warnings. */
function checkHosts(hosts: readonly unknown[], at: string, namespace: string): Result {
  const out: Result[] = [];
  const imported = new Map<string, Set<string>>();
  hosts.forEach((raw, j) => {
    const where = `${at}.hosts[${j}]`;
    if (typeof raw !== 'string') {
      out.push(finding('EW605', where, `host must be a string, got ${got(raw)}`));
      return;
    }
    for (const p of egressHostProblems(raw)) out.push(finding('EW605', where, p));
    const slash = raw.indexOf('/');
    if (slash < 0 || raw.startsWith('~')) return;
    const ns = raw.slice(0, slash) === '.' ? namespace : raw.slice(0, slash);
    const name = raw.slice(slash + 1);
    let names = imported.get(ns);
    if (!names) imported.set(ns, (names = new Set()));
    const duplicate = name === '*' ? names.size > 0 : names.has(name) || names.has('*');
    if (duplicate) out.push(finding('EW608', where, `duplicated egress host: ${raw}`));
    names.add(name);
  });
  if (imported.get('*')?.has('*') && imported.size !== 1) {
    out.push(finding('EW609', `${at}.hosts`, '`*/*` host select all resources, no other hosts can be added'));
  }
  return mergeAll(out);
}

/** `validateSidecarOutboundTrafficPolicy`. */
function checkOutboundPolicy(spec: Readonly<Record<string, unknown>>): Result {
  if (!isObj(spec.outboundTrafficPolicy)) return ok;
  const otp = spec.outboundTrafficPolicy;
  const at = 'spec.outboundTrafficPolicy';
  const mode = otp.mode ?? 'REGISTRY_ONLY';
  if (mode === 'ALLOW_ANY_DYNAMIC_DNS') {
    return finding('EW610', `${at}.mode`, 'sidecar: ALLOW_ANY_DYNAMIC_DNS mode is only supported in MeshConfig, not in Sidecar resource');
  }
  if (typeof mode !== 'string' || !OUTBOUND_MODES.includes(mode)) {
    return finding('EW610', `${at}.mode`, `mode must be REGISTRY_ONLY or ALLOW_ANY, got ${got(mode)}`);
  }
  if (otp.egressProxy === undefined || otp.egressProxy === null) return ok;
  if (mode !== 'ALLOW_ANY')
    return finding('EW610', `${at}.egressProxy`, 'sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode');
  const proxy = asObj(otp.egressProxy);
  const host = fqdnProblem(asStr(proxy.host));
  if (host) return finding('EW610', `${at}.egressProxy.host`, host);
  return isObj(proxy.port) ? ok : finding('EW610', `${at}.egressProxy.port`, 'sidecar: egress_proxy port must be non-nil');
}

/** What istiod's ValidateSidecar says of the egress side, and nothing more. */
export function validateSidecarParity(obj: KubeObject, contextNamespace: string): Result {
  const spec = asObj(obj.spec);
  const namespace = asStr(obj.metadata?.namespace) || contextNamespace;
  const selector = selectorErrors(spec);
  if (selector.errors.length) return selector;
  const out: Result[] = [];
  if (isObj(spec.workloadSelector) && Object.keys(asObj(spec.workloadSelector.labels)).length === 0) {
    out.push(
      finding(
        'EW603',
        'spec.workloadSelector',
        'sidecar: workload selector specified without labels, will be applied to all services in namespace',
      ),
    );
  }
  const egress = asArr(spec.egress);
  if (!egress.length && !asArr(spec.ingress).length && !isObj(spec.outboundTrafficPolicy) && !isObj(spec.inboundConnectionPool)) {
    return mergeAll([...out, finding('EW601', 'spec', 'sidecar: empty configuration provided')]);
  }
  const ports = new Set<unknown>();
  let catchAll = false;
  egress.forEach((raw, i) => {
    const at = `spec.egress[${i}]`;
    if (!isObj(raw)) {
      out.push(finding('EW604', at, 'egress listener may not be null'));
      return;
    }
    if (!isObj(raw.port)) {
      if (catchAll) {
        out.push(finding('EW606', at, 'sidecar: egress can have only one listener with empty port'));
        return;
      }
      if (i === egress.length - 1) catchAll = true;
      else out.push(finding('EW606', at, 'sidecar: the egress listener with empty port should be the last listener in the list'));
    } else {
      out.push(checkPort(raw, at, ports));
    }
    const hosts = asArr(raw.hosts);
    out.push(
      hosts.length
        ? checkHosts(hosts, at, namespace)
        : finding('EW604', `${at}.hosts`, 'sidecar: egress listener must contain at least one host'),
    );
  });
  out.push(checkOutboundPolicy(spec));
  return mergeAll(out);
}

/**
 * Egress hosts `ns/host` for which the cluster holds ServiceEntries, none of them in `ns` and visible
 * from the Sidecar's namespace: the listener imports nothing for the host. Hosts no ServiceEntry
 * declares (Kubernetes Services, hosts not yet registered) are left alone.
 */
export function egressHostsWithoutEntry(obj: KubeObject, snapshot: ClusterSnapshot, contextNamespace: string): Result {
  const namespace = asStr(obj.metadata?.namespace) || contextNamespace;
  const out: Result[] = [];
  asArr(asObj(obj.spec).egress).forEach((listener, i) =>
    asArr(asObj(listener).hosts).forEach((raw, j) => {
      if (typeof raw !== 'string' || egressHostProblems(raw).length) return;
      const slash = raw.indexOf('/');
      const written = raw.slice(0, slash);
      const name = raw.slice(slash + 1);
      if (written === '*' || written.startsWith('~') || name.includes('*')) return;
      const ns = written === '.' ? namespace : written;
      const entries = coveringHosts(name).flatMap((k) => snapshot.serviceEntriesByHost.get(k) ?? []);
      if (!entries.length) return;
      const here = entries.filter((p) => p.entry.namespace === ns);
      // A VirtualService of `ns` for the host is imported instead, and istiod infers its
      // destinations from any namespace that declares them (SidecarScope, "infer more possible destinations").
      const routed = coveringHosts(name).some((k) => (snapshot.virtualServicesByHost.get(k) ?? []).some((r) => r.service.namespace === ns));
      if (routed) return;
      const at = `spec.egress[${i}].hosts[${j}]`;
      if (here.length) {
        const hidden = here.find((p) => !visibleFrom(p.entry.exportTo, p.entry.namespace, namespace));
        if (hidden && here.every((p) => !visibleFrom(p.entry.exportTo, p.entry.namespace, namespace))) {
          out.push(
            finding(
              'EW613',
              at,
              `ServiceEntry ${ns}/${hidden.entry.name} is not exported to ${namespace} (exportTo ${hidden.entry.exportTo.join(',')}): ${raw} imports nothing`,
            ),
          );
        }
        return;
      }
      const other = entries.find((p) => visibleFrom(p.entry.exportTo, p.entry.namespace, namespace)) ?? entries[0]!;
      out.push(
        finding(
          'EW613',
          at,
          `${name} is registered by ServiceEntry ${other.entry.namespace}/${other.entry.name}, not in ${ns}: write ${other.entry.namespace}/${name} or */${name}`,
        ),
      );
    }),
  );
  return mergeAll(out);
}

/** Every label of `inner` is in `outer`: every pod `outer` selects, `inner` selects too. */
const within = (inner: Readonly<Record<string, string>>, outer: Readonly<Record<string, string>>): boolean =>
  Object.entries(inner).every(([k, v]) => outer[k] === v);

/**
 * The Sidecars of one namespace read together (istioctl analyze IST0110, IST0111): a second Sidecar
 * without selector, or selectors one of which contains the other. `others` are the namespace's
 * Sidecars as the lookup holds them; the object itself (same name) is skipped.
 */
export function sidecarsOfNamespace(obj: KubeObject, others: readonly SidecarRecord[]): Result {
  const spec = asObj(obj.spec);
  const name = asStr(obj.metadata?.name);
  const mine = isObj(spec.workloadSelector) ? (asObj(spec.workloadSelector.labels) as Readonly<Record<string, string>>) : undefined;
  const rest = others.filter((s) => s.name !== name);
  if (mine === undefined || Object.keys(mine).length === 0) {
    if (mine !== undefined) return ok;
    const other = rest.find((s) => s.selector === undefined);
    if (!other) return ok;
    const when = other.created ? ` (older: created ${other.created})` : '';
    return finding(
      'EW611',
      'spec',
      `Sidecar ${other.namespace}/${other.name} has no workloadSelector either${when}: istiod uses only the oldest of the two`,
    );
  }
  const out: Result[] = [];
  for (const s of rest) {
    if (!s.selector || Object.keys(s.selector).length === 0) continue;
    if (within(mine, s.selector) || within(s.selector, mine)) {
      out.push(
        finding('EW612', 'spec.workloadSelector', `selects the same pods as Sidecar ${s.namespace}/${s.name}: a pod gets only one of them`),
      );
    }
  }
  return mergeAll(out);
}

/** The Sidecar rule: istiod's verdicts, then the ServiceEntries its hosts import, then its namespace's other Sidecars. */
export function validateSidecar(
  obj: KubeObject,
  ctx: Pick<RuleContext, 'snapshot' | 'namespace'>,
  others?: readonly SidecarRecord[],
): Result {
  const parity = validateSidecarParity(obj, ctx.namespace);
  if (parity.errors.length) return parity;
  return mergeAll([parity, egressHostsWithoutEntry(obj, ctx.snapshot, ctx.namespace), others ? sidecarsOfNamespace(obj, others) : ok]);
}
