/**
 * Cluster CIDR detection as a pure function over what was gathered from the cluster (or nothing):
 * each source is asked in order, and the first that answers wins per kind (pod, service) and per
 * family (IPv4, IPv6). Every range keeps where it came from, so `egress-warden cidrs` and the
 * pod's `applied` annotation can say why a range is there.
 */
import { objectKey, type KubeObject } from '../admission/types.ts';
import { asArr, asObj, asStr, onlyStrs, type Obj } from '../json.ts';
import { containsAddress, mergeCidrs, parseCidr, parseIpOrCidr, type Cidr, type Family } from '../net/cidr.ts';
import { parseDocuments } from '../yaml.ts';
import { CIDR_CONFIGMAPS } from './resources.ts';
import type { ClusterCidrs, DetectedRange } from './snapshot.ts';

export type CidrKind = 'pod' | 'service';

/** Sources in the order they are asked. */
export const CIDR_SOURCES = ['config', 'ServiceCIDR', 'kubeadm-config', 'kube-proxy', 'dry-run', 'nodes', 'default'] as const;
export type CidrSource = (typeof CIDR_SOURCES)[number];

/** Ranges given by the operator, and where (flag or variable), e.g. "--pod-cidrs". */
export type ConfiguredCidrs = { readonly values: readonly string[]; readonly origin: string };

export type CidrInputs = {
  readonly podConfig?: ConfiguredCidrs;
  readonly serviceConfig?: ConfiguredCidrs;
  /** ServiceCIDR objects (networking.k8s.io v1 or v1beta1) */
  readonly serviceCidrs?: readonly KubeObject[];
  /** the ConfigMap kube-system/kubeadm-config */
  readonly kubeadmConfig?: KubeObject;
  /** the ConfigMap kube-system/kube-proxy */
  readonly kubeProxy?: KubeObject;
  /** messages of rejected dry-run Service creates with an out-of-range clusterIP */
  readonly dryRun?: readonly string[];
  readonly nodes?: readonly KubeObject[];
};

/** What one source said about one kind and family. */
export type Answer = {
  readonly kind: CidrKind;
  readonly family: Family;
  readonly source: CidrSource;
  readonly ranges: readonly DetectedRange[];
  /** the ranges cover only part of the real one (per-node pod slices) */
  readonly partial: boolean;
};

export type CidrDetection = {
  readonly cidrs: ClusterCidrs;
  /** the winning answer per kind and family, pod before service, IPv4 before IPv6 */
  readonly answers: readonly Answer[];
  /** what a source said that could not be used, and defaults taken */
  readonly notes: readonly string[];
};

/** kubeadm's defaults, used when no source answers for a kind. */
export const DEFAULT_CIDRS: Readonly<Record<CidrKind, string>> = { pod: '10.244.0.0/16', service: '10.96.0.0/12' };
export const DEFAULT_ORIGIN = 'default (kubeadm)';

/** Splits a list the way Kubernetes settings write it: commas (kubeadm, kube-proxy) or spaces (Cilium). */
export const splitList = (text: string): string[] =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** Strict CIDRs from a list; each value that is not one is named. Bare IPs are not ranges and are refused. */
export function parseCidrList(values: readonly string[], origin: string): { readonly cidrs: Cidr[]; readonly problems: string[] } {
  const cidrs: Cidr[] = [];
  const problems: string[] = [];
  for (const v of values) {
    const c = parseCidr(v);
    if (c) cidrs.push(c);
    else problems.push(`${origin}: "${v}" is not a CIDR`);
  }
  return { cidrs, problems };
}

type Candidate = {
  readonly kind: CidrKind;
  readonly source: CidrSource;
  readonly ranges: readonly DetectedRange[];
  readonly partial?: boolean;
};

const ranges = (cidrs: readonly Cidr[], origin: string): DetectedRange[] => cidrs.map((cidr) => ({ cidr, origin }));

function fromConfig(kind: CidrKind, config: ConfiguredCidrs | undefined, notes: string[]): Candidate[] {
  if (!config || config.values.length === 0) return [];
  const { cidrs, problems } = parseCidrList(config.values, config.origin);
  notes.push(...problems);
  return [{ kind, source: 'config', ranges: ranges(cidrs, config.origin) }];
}

function fromServiceCidrs(objects: readonly KubeObject[] | undefined, notes: string[]): Candidate[] {
  const out: DetectedRange[] = [];
  const nameOf = (o: KubeObject) => o.metadata?.name ?? '';
  // byte order: the same ranges in the same order on every machine, whatever its locale
  for (const o of [...(objects ?? [])].sort((x, y) => (nameOf(x) < nameOf(y) ? -1 : nameOf(x) > nameOf(y) ? 1 : 0))) {
    const name = nameOf(o);
    const origin = `ServiceCIDR/${name}`;
    const { cidrs, problems } = parseCidrList(onlyStrs(asObj(o.spec).cidrs), `${origin} spec.cidrs`);
    notes.push(...problems);
    for (const c of cidrs) if (!out.some((r) => r.cidr.text === c.text)) out.push({ cidr: c, origin });
  }
  return [{ kind: 'service', source: 'ServiceCIDR', ranges: out }];
}

/** The first YAML document of a ConfigMap key, or a note saying why there is none. */
function configMapYaml(cm: KubeObject | undefined, key: string, notes: string[]): Obj | undefined {
  if (!cm) return undefined;
  const where = `${CIDR_CONFIGMAPS.namespace}/${cm.metadata?.name ?? ''} data.${key}`;
  const text = asStr(asObj(cm.data)[key]);
  if (!text) {
    notes.push(`${where}: missing`);
    return undefined;
  }
  const parsed = parseDocuments(text);
  if ('error' in parsed) {
    notes.push(`${where}: line ${parsed.error.line}: ${parsed.error.message}`);
    return undefined;
  }
  return asObj(parsed.docs[0]?.value);
}

function listSetting(kind: CidrKind, source: CidrSource, value: unknown, origin: string, notes: string[]): Candidate[] {
  const { cidrs, problems } = parseCidrList(splitList(asStr(value)), origin);
  notes.push(...problems);
  return cidrs.length ? [{ kind, source, ranges: ranges(cidrs, origin) }] : [];
}

function fromKubeadm(cm: KubeObject | undefined, notes: string[]): Candidate[] {
  const networking = asObj(configMapYaml(cm, 'ClusterConfiguration', notes)?.networking);
  const at = `${CIDR_CONFIGMAPS.namespace}/${CIDR_CONFIGMAPS.kubeadm}`;
  return [
    ...listSetting('pod', 'kubeadm-config', networking.podSubnet, `${at} networking.podSubnet`, notes),
    ...listSetting('service', 'kubeadm-config', networking.serviceSubnet, `${at} networking.serviceSubnet`, notes),
  ];
}

function fromKubeProxy(cm: KubeObject | undefined, notes: string[]): Candidate[] {
  const config = configMapYaml(cm, 'config.conf', notes);
  return listSetting(
    'pod',
    'kube-proxy',
    config?.clusterCIDR,
    `${CIDR_CONFIGMAPS.namespace}/${CIDR_CONFIGMAPS.kubeProxy} clusterCIDR`,
    notes,
  );
}

const VALID_RANGE = /valid IPs is ([0-9A-Fa-f.:]+\/\d{1,3})/g;

/** Reads the range out of the API server's answer to an out-of-range clusterIP. */
export function dryRunRanges(message: string): Cidr[] {
  return [...message.matchAll(VALID_RANGE)].map((m) => parseCidr(m[1] ?? '')).filter((c): c is Cidr => c !== undefined);
}

function fromDryRun(messages: readonly string[] | undefined, notes: string[]): Candidate[] {
  const out: Cidr[] = [];
  for (const m of messages ?? []) {
    const found = dryRunRanges(m);
    if (found.length) out.push(...found);
    else if (m.includes('does not match the current range'))
      notes.push('dry-run Service create: the API server does not name its service range (Kubernetes 1.33+ allocator)');
    else if (m.includes('not in the valid range')) notes.push('dry-run Service create: the API server does not name its service range');
    else if (m.includes('not configured on this cluster'))
      notes.push(`dry-run Service create: ${/IPv[46]/.exec(m)?.[0] ?? 'that family'} is not configured on this cluster`);
    else notes.push(`dry-run Service create: unexpected answer: ${m.slice(0, 200)}`);
  }
  return out.length
    ? [{ kind: 'service', source: 'dry-run', ranges: ranges(mergeCidrs(out), 'dry-run Service create (API server error message)') }]
    : [];
}

function fromNodes(nodes: readonly KubeObject[] | undefined, notes: string[]): Candidate[] {
  const all: Cidr[] = [];
  let withRanges = 0;
  for (const n of nodes ?? []) {
    const spec = asObj(n.spec);
    const texts = onlyStrs(spec.podCIDRs).length ? onlyStrs(spec.podCIDRs) : onlyStrs([spec.podCIDR]).filter(Boolean);
    const { cidrs, problems } = parseCidrList(texts, `Node/${n.metadata?.name ?? ''} spec.podCIDRs`);
    notes.push(...problems);
    if (cidrs.length) withRanges++;
    all.push(...cidrs);
  }
  if (!all.length) return [];
  const total = nodes?.length ?? 0;
  const origin = `Node.spec.podCIDRs (${withRanges} of ${total} node${total === 1 ? '' : 's'}, partial)`;
  return [{ kind: 'pod', source: 'nodes', ranges: ranges(mergeCidrs(all), origin).map((r) => ({ ...r, partial: true })), partial: true }];
}

const FAMILIES: readonly Family[] = [4, 6];

export function detectCidrs(inputs: CidrInputs): CidrDetection {
  const notes: string[] = [];
  const candidates: Candidate[] = [
    ...fromConfig('pod', inputs.podConfig, notes),
    ...fromConfig('service', inputs.serviceConfig, notes),
    ...fromServiceCidrs(inputs.serviceCidrs, notes),
    ...fromKubeadm(inputs.kubeadmConfig, notes),
    ...fromKubeProxy(inputs.kubeProxy, notes),
    ...fromDryRun(inputs.dryRun, notes),
    ...fromNodes(inputs.nodes, notes),
  ];
  const answers: Answer[] = [];
  const cidrs: Record<CidrKind, DetectedRange[]> = { pod: [], service: [] };
  for (const kind of ['pod', 'service'] as const) {
    for (const family of FAMILIES) {
      for (const c of candidates) {
        if (c.kind !== kind) continue;
        const mine = c.ranges.filter((r) => r.cidr.family === family);
        if (!mine.length) continue;
        answers.push({ kind, family, source: c.source, ranges: mine, partial: c.partial ?? false });
        cidrs[kind].push(...mine);
        break;
      }
    }
    if (!cidrs[kind].length) {
      const range: DetectedRange = { cidr: parseCidr(DEFAULT_CIDRS[kind])!, origin: DEFAULT_ORIGIN };
      notes.push(`no source named the ${kind} CIDRs; using kubeadm's default ${DEFAULT_CIDRS[kind]}`);
      answers.push({ kind, family: 4, source: 'default', ranges: [range], partial: false });
      cidrs[kind].push(range);
    }
  }
  return { cidrs, answers, notes };
}

/** Whether any kind fell back to the documented defaults. */
export const usesDefaults = (d: CidrDetection): boolean => d.answers.some((a) => a.source === 'default');

/** Same ranges, regardless of provenance: decides whether a re-detection changed anything. */
export const sameCidrs = (a: ClusterCidrs, b: ClusterCidrs): boolean => {
  const text = (c: ClusterCidrs) => `${c.pod.map((r) => r.cidr.text).join(',')}|${c.service.map((r) => r.cidr.text).join(',')}`;
  return text(a) === text(b);
};

/** A pod or Service and its addresses ("namespace/name"). */
export type Addressed = { readonly name: string; readonly ips: readonly string[] };

export type Outside = { readonly name: string; readonly ip: string };

export type Verification = {
  /** pods behind Services, with the IPs their EndpointSlices list */
  readonly pods: { readonly checked: number; readonly outside: readonly Outside[] };
  readonly services: { readonly checked: number; readonly outside: readonly Outside[] };
  /**
   * What there was nothing of to check, e.g. NO_PODS_TO_CHECK: zero checked is then no evidence that
   * the ranges are right (a control plane without kubelets runs no pods, and the only endpoint of
   * the `kubernetes` Service is the API server), and no failure either.
   */
  readonly unchecked: readonly string[];
};

export const NO_PODS_TO_CHECK = 'no pod IPs from EndpointSlices to check';
export const NO_SERVICES_TO_CHECK = 'no Services with cluster IPs to check';

/** One text per address, so "fd00::1" and "fd00:0::1" compare equal; a value that is no address stays as it is. */
const addressKey = (ip: string): string => parseIpOrCidr(ip)?.cidr.text ?? ip;

/** Address types kubelet takes a host-network pod's IPs from: the InternalIP of each family, else the ExternalIP. */
export const HOST_ADDRESS_TYPES: ReadonlySet<string> = new Set(['InternalIP', 'ExternalIP']);

/** The Nodes' InternalIP and ExternalIP addresses, as addressKey writes them. */
export function nodeAddresses(nodes: Iterable<KubeObject>): Set<string> {
  const out = new Set<string>();
  for (const n of nodes) {
    for (const a of asArr(asObj(n.status).addresses)) {
      const { type, address } = asObj(a);
      if (HOST_ADDRESS_TYPES.has(asStr(type)) && asStr(address)) out.add(addressKey(asStr(address)));
    }
  }
  return out;
}

/** The pod an endpoint stands for ("namespace/name"), or undefined when its target is not a Pod. */
function endpointPod(endpoint: unknown, slice: KubeObject): string | undefined {
  const ref = asObj(asObj(endpoint).targetRef);
  if (asStr(ref.kind) !== 'Pod' || !asStr(ref.name)) return undefined;
  return `${asStr(ref.namespace) || slice.metadata?.namespace || ''}/${asStr(ref.name)}`;
}

/**
 * Pod IPs from EndpointSlices, one entry per pod however many Services (and, dual-stack, slices
 * of either family) list it. Only endpoints whose targetRef is a Pod count: the API server's own
 * endpoints (the `kubernetes` Service) and hand-made ones point at no pod, and FQDN slices hold
 * names. EndpointSlices do not say whether a pod runs on the host network, where its IPs are its
 * node's: addresses equal to a Node's InternalIP or ExternalIP are dropped (`nodes`), as hostNetwork
 * pods were skipped when pods were read. Pods behind no Service are not seen.
 */
export function podAddresses(slices: Iterable<KubeObject>, nodes: Iterable<KubeObject>): Addressed[] {
  const onNodes = nodeAddresses(nodes);
  const byPod = new Map<string, string[]>();
  for (const slice of slices) {
    const type = asStr(slice.addressType);
    if (type !== 'IPv4' && type !== 'IPv6') continue;
    for (const endpoint of asArr(slice.endpoints)) {
      const pod = endpointPod(endpoint, slice);
      if (!pod) continue;
      const ips = onlyStrs(asObj(endpoint).addresses).filter((ip) => ip && !onNodes.has(addressKey(ip)));
      if (!ips.length) continue;
      const known = byPod.get(pod) ?? [];
      for (const ip of ips) if (!known.includes(ip)) known.push(ip);
      byPod.set(pod, known);
    }
  }
  return [...byPod].map(([name, ips]) => ({ name, ips }));
}

/** Cluster IPs of Services that have them (headless and ExternalName Services have none). */
export function serviceAddresses(services: Iterable<KubeObject>): Addressed[] {
  const out: Addressed[] = [];
  for (const s of services) {
    const spec = asObj(s.spec);
    const listed = onlyStrs(spec.clusterIPs).length ? onlyStrs(spec.clusterIPs) : onlyStrs([spec.clusterIP]);
    const ips = listed.filter((ip) => ip && ip !== 'None');
    if (ips.length) out.push({ name: objectKey(s), ips });
  }
  return out;
}

/** Pod IPs and Service cluster IPs that fall outside the detected ranges (Linkerd's `linkerd check` test). */
export function verifyCidrs(cidrs: ClusterCidrs, pods: Iterable<Addressed>, services: Iterable<Addressed>): Verification {
  const check = (items: Iterable<Addressed>, ranges: readonly Cidr[]) => {
    let checked = 0;
    const outside: Outside[] = [];
    for (const it of items) {
      checked++;
      for (const ip of it.ips) if (!containsAddress(ranges, ip)) outside.push({ name: it.name, ip });
    }
    return { checked, outside };
  };
  const checkedPods = check(
    pods,
    cidrs.pod.map((r) => r.cidr),
  );
  const checkedServices = check(
    services,
    cidrs.service.map((r) => r.cidr),
  );
  return {
    pods: checkedPods,
    services: checkedServices,
    unchecked: [...(checkedPods.checked ? [] : [NO_PODS_TO_CHECK]), ...(checkedServices.checked ? [] : [NO_SERVICES_TO_CHECK])],
  };
}

/** One detected range per row, for status pages, logs and `egress-warden cidrs`. */
export type RangeRow = {
  readonly kind: CidrKind;
  readonly family: Family;
  readonly cidr: string;
  readonly source: CidrSource;
  readonly origin: string;
  readonly partial: boolean;
};

export const rangeRows = (d: CidrDetection): RangeRow[] =>
  d.answers.flatMap((a) =>
    a.ranges.map((r) => ({ kind: a.kind, family: a.family, cidr: r.cidr.text, source: a.source, origin: r.origin, partial: a.partial })),
  );
