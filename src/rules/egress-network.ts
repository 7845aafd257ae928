/**
 * Linkerd EgressNetwork (policy.linkerd.io/v1alpha1, Linkerd 2.17+): the checks of Linkerd's own
 * admission (policy-controller/runtime/src/admission.rs, `validate_networks`), plus the overlap with
 * the cluster's networks that Linkerd admits and reports only afterwards, as `Accepted=False`
 * (`EgressReasonNetworkOverlap`), while its outbound index keeps matching the overlapping pod IPs.
 */
import type { KubeObject } from '../admission/types.ts';
import { finding, mergeAll, ok, type Result } from '../catalogue/result.ts';
import { asArr, asObj, isObj, q } from '../json.ts';
import { contains, overlaps, parseIpOrCidr, type Cidr } from '../net/cidr.ts';
import { got } from './fields.ts';
import type { Rule, RuleContext } from './rule.ts';

export const TRAFFIC_POLICIES: readonly string[] = ['Allow', 'Deny'];

/** Linkerd's Cidr: an ipnet network (host bits may be set) or a single address; nothing around it. */
function linkerdCidr(v: unknown): Cidr | undefined {
  if (typeof v !== 'string' || v.trim() !== v) return undefined;
  return parseIpOrCidr(v)?.cidr;
}

/** Linkerd's Network::intersect: the ranges overlap and no exception holds the whole cluster range. */
const intersects = (network: Cidr, excepts: readonly Cidr[], cluster: Cidr): boolean =>
  overlaps(network, cluster) && !excepts.some((e) => contains(e, cluster));

function checkNetwork(raw: unknown, at: string, cluster: readonly { cidr: Cidr; origin: string; kind: string }[]): Result {
  if (!isObj(raw)) return finding('EW662', at, `a network must be an object with cidr, got ${got(raw)}`);
  const cidr = linkerdCidr(raw.cidr);
  if (!cidr) {
    return finding(
      'EW662',
      `${at}.cidr`,
      raw.cidr === undefined
        ? 'cidr is required'
        : `not a valid CIDR or IP address: ${typeof raw.cidr === 'string' ? raw.cidr : got(raw.cidr)}`,
    );
  }
  const out: Result[] = [];
  const excepts: Cidr[] = [];
  asArr(raw.except).forEach((e, j) => {
    const where = `${at}.except[${j}]`;
    const ex = linkerdCidr(e);
    if (!ex) {
      out.push(finding('EW662', where, `not a valid CIDR or IP address: ${typeof e === 'string' ? e : got(e)}`));
      return;
    }
    // the same order as validate_networks: a negation is reported before "not included"
    if (contains(ex, cidr))
      out.push(finding('EW663', where, `cidr ${q(String(raw.cidr))} is completely negated by exception ${q(String(e))}`));
    else if (!contains(cidr, ex))
      out.push(finding('EW663', where, `cidr ${q(String(raw.cidr))} does not include exception ${q(String(e))}`));
    else excepts.push(ex);
  });
  for (const c of cluster) {
    if (!intersects(cidr, excepts, c.cidr)) continue;
    out.push(
      finding(
        'EW665',
        `${at}.cidr`,
        `${cidr.text} overlaps the cluster ${c.kind} range ${c.cidr.text} (${c.origin}): Linkerd sets Accepted=False; add ${c.cidr.text} to except`,
      ),
    );
  }
  return mergeAll(out);
}

export const validateEgressNetwork: Rule = (obj: KubeObject, { snapshot }: Pick<RuleContext, 'snapshot'>) => {
  const spec = asObj(obj.spec);
  const policy = spec.trafficPolicy;
  const policyCheck = TRAFFIC_POLICIES.includes(policy as string)
    ? ok
    : finding(
        'EW664',
        'spec.trafficPolicy',
        policy === undefined ? 'trafficPolicy is required: Allow or Deny' : `trafficPolicy must be Allow or Deny, got ${got(policy)}`,
      );
  if (spec.networks === undefined || spec.networks === null) return policyCheck;
  if (!Array.isArray(spec.networks))
    return mergeAll([policyCheck, finding('EW662', 'spec.networks', `networks must be a list, got ${got(spec.networks)}`)]);
  if (spec.networks.length === 0)
    return mergeAll([policyCheck, finding('EW661', 'spec.networks', 'at least one network must be specified')]);
  const cluster = [
    ...snapshot.cidrs.pod.map((r) => ({ cidr: r.cidr, origin: r.origin, kind: 'pod' })),
    ...snapshot.cidrs.service.map((r) => ({ cidr: r.cidr, origin: r.origin, kind: 'service' })),
  ];
  return mergeAll([policyCheck, ...spec.networks.map((n, i) => checkNetwork(n, `spec.networks[${i}]`, cluster))]);
};
