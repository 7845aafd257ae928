/**
 * The cluster CIDRs of a live view: the configured ranges, the kube-system ConfigMaps and the dry-run
 * probe (read after discovery and again now and then), and the ServiceCIDR and Node informers. When
 * any of them changed and all are in, the publisher asks for a new detection; a detection that moved
 * the ranges checks pod and Service addresses against them again. Pod IPs come from a list of
 * EndpointSlices (the pods behind Services), never from pods: a read of pods would hand over every
 * pod's spec and environment to check only their IPs.
 */
import { namespacedName, type KubeObject } from '../admission/types.ts';
import { apiMessage, type ClusterApi } from './api.ts';
import type { ConfiguredPair } from './cidr-settings.ts';
import {
  detectCidrs,
  podAddresses,
  rangeRows,
  sameCidrs,
  usesDefaults,
  verifyCidrs,
  type Addressed,
  type CidrDetection,
  type CidrInputs,
} from './detect.ts';
import { gatherStatic, type StaticInputs } from './gather.ts';
import type { Compact } from './indexes.ts';
import type { Informers } from './informers.ts';
import type { Lifetime } from './lifetime.ts';
import { ENDPOINT_SLICES } from './resources.ts';
import type { ClusterCidrs } from './snapshot.ts';
import type { CidrStatus, Log, Timing, VerificationStatus } from './view-types.ts';

export type CidrSources = {
  /** after each successful discovery: the first one starts reading the ConfigMaps and the dry-run */
  readonly discovered: () => void;
  /** a ServiceCIDR or Node informer changed */
  readonly changed: () => void;
  /** detects again when an input changed since and every input is in; the publisher calls it before each build */
  readonly refresh: () => void;
  /** the detected ranges, or those from configuration and defaults before the first detection */
  readonly cidrs: () => ClusterCidrs;
  readonly detected: () => boolean;
  /** whether the ConfigMaps and the dry-run have been read once */
  readonly read: () => boolean;
  readonly status: () => CidrStatus;
};

export type CidrSourceDeps = {
  readonly api: ClusterApi;
  readonly config: ConfiguredPair;
  readonly timing: Timing;
  readonly log: Log;
  readonly life: Lifetime;
  readonly informers: Pick<Informers, 'has' | 'published'>;
  /** Service cluster IPs as published */
  readonly serviceIps: () => Addressed[];
  /** an input changed: the publisher should build again */
  readonly publish: () => void;
};

/** Cluster IPs of the published Services. */
export function serviceIps(services: Iterable<Compact>): Addressed[] {
  const out: Addressed[] = [];
  for (const c of services) {
    if (c.kind !== 'Service') continue;
    const s = c.ports[0]?.service;
    if (s?.clusterIPs.length) out.push({ name: namespacedName(s.namespace, s.name), ips: s.clusterIPs });
  }
  return out;
}

export const cidrStatus = (
  d: CidrDetection,
  known: boolean,
  notes: readonly string[],
  verification: VerificationStatus | null,
): CidrStatus => ({ known, ranges: rangeRows(d), defaulted: usesDefaults(d), notes: [...d.notes, ...notes], verification });

/** Its informer runs when the cluster serves ServiceCIDRs; detection then waits for it, and the dry-run probe is skipped. */
const SERVICE_CIDRS = 'servicecidrs.networking.k8s.io';

export function cidrSources({ api, config, timing, log, life, informers, serviceIps, publish }: CidrSourceDeps): CidrSources {
  const preliminary = detectCidrs(config);
  let statics: StaticInputs | undefined;
  let gathering = false;
  let detection: CidrDetection | undefined;
  let dirty = true;
  let verification: VerificationStatus | null = null;
  let verifyNote: string | undefined;
  let verifying = false;

  /** Reads the ConfigMaps (and probes with a dry-run where it can still name the range); runs after discovery. */
  async function regather(): Promise<void> {
    if (life.ended()) return;
    gathering = true;
    let s: StaticInputs;
    try {
      s = await gatherStatic(api, { dryRun: !informers.has(SERVICE_CIDRS) });
    } catch (e) {
      s = { dryRun: [], failed: [`CIDR sources: ${apiMessage(e)}`], notes: [], retry: true };
    } finally {
      gathering = false;
    }
    if (life.ended()) return;
    statics = s;
    dirty = true;
    publish();
    life.later(() => void regather(), s.retry ? Math.max(timing.restartMinMs, Math.min(timing.regatherMs, 30_000)) : timing.regatherMs);
  }

  const inputs = (): CidrInputs | undefined => {
    const nodes = informers.published('Node');
    const serviceCidrs = informers.published('ServiceCIDR');
    const watchingServiceCidrs = informers.has(SERVICE_CIDRS);
    if (!statics || !nodes || (watchingServiceCidrs && !serviceCidrs)) return undefined;
    const { failed: _, notes: __, retry: ___, ...found } = statics;
    return {
      ...config,
      ...found,
      nodes: [...nodes.values()] as KubeObject[],
      ...(serviceCidrs ? { serviceCidrs: [...serviceCidrs.values()] as KubeObject[] } : {}),
    };
  };

  async function verify(): Promise<void> {
    if (life.ended() || verifying || !detection) return;
    verifying = true;
    try {
      const slices = await api.list(ENDPOINT_SLICES);
      // the Node informer has synced before the first detection, so host-network pods can be told apart
      const pods = podAddresses(slices, [...(informers.published('Node')?.values() ?? [])] as KubeObject[]);
      if (life.ended()) return;
      const v = verifyCidrs(detection.cidrs, pods, serviceIps());
      const examples = [...v.pods.outside, ...v.services.outside].slice(0, 10).map((o) => `${o.name} ${o.ip}`);
      verification = {
        checkedPods: v.pods.checked,
        checkedServices: v.services.checked,
        podsOutside: v.pods.outside.length,
        servicesOutside: v.services.outside.length,
        examples,
        unchecked: v.unchecked,
        at: new Date().toISOString(),
      };
      verifyNote = undefined;
      if (examples.length) {
        log.warn(
          { podsOutside: verification.podsOutside, servicesOutside: verification.servicesOutside, examples },
          'addresses outside the detected cluster CIDRs; set --pod-cidrs / --service-cidrs',
        );
      }
    } catch (e) {
      if (life.ended()) return;
      verifyNote = `verification: ${apiMessage(e).split('\n')[0]}`;
      log.warn({ err: verifyNote }, 'could not list EndpointSlices to verify the detected CIDRs');
    } finally {
      verifying = false;
    }
  }

  const verifyLoop = () => {
    void verify();
    life.later(verifyLoop, timing.reverifyMs);
  };

  return {
    discovered: () => {
      if (!statics && !gathering) void regather();
      dirty = true;
    },
    changed: () => {
      dirty = true;
    },
    refresh: () => {
      if (!dirty) return;
      const found = inputs();
      if (!found) return;
      const next = detectCidrs(found);
      const first = !detection;
      const moved = !detection || !sameCidrs(detection.cidrs, next.cidrs);
      detection = next;
      dirty = false;
      if (!moved) return;
      log.info(
        { ranges: rangeRows(next).map((r) => `${r.kind} ${r.cidr} (${r.origin})`), notes: next.notes },
        first ? 'cluster CIDRs detected' : 'cluster CIDRs changed',
      );
      if (usesDefaults(next)) log.warn({ notes: next.notes }, 'no cluster source named some CIDRs; using defaults');
      queueMicrotask(first ? verifyLoop : () => void verify());
    },
    cidrs: () => (detection ?? preliminary).cidrs,
    detected: () => detection !== undefined,
    read: () => statics !== undefined,
    status: () =>
      cidrStatus(
        detection ?? preliminary,
        detection !== undefined,
        [...(statics?.failed ?? []), ...(statics?.notes ?? []), ...(verifyNote ? [verifyNote] : [])],
        verification,
      ),
  };
}
