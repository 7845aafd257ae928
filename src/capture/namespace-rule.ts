/**
 * A Namespace's capture annotations, checked when they are written so that a typo is denied at
 * `kubectl annotate` instead of at the next pod creation. Reads the annotations and plans the
 * ranges with the same code as the pod mutation, so both always agree.
 */
import type { KubeObject } from '../admission/types.ts';
import { BYPASS, CAPTURE_RANGES, ISTIO_INJECTION, ISTIO_REV, MODE_LABEL, POD_ONLY_MESH_KEYS } from '../catalogue/keys.ts';
import { MODES, modeOf } from '../catalogue/modes.ts';
import { finding, merge, mergeAll, ok, type Result } from '../catalogue/result.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { asObj, q, type Obj } from '../json.ts';
import { annotationPath, readCaptureAnnotations, stringValues, type Origin } from './annotations.ts';
import { lockdownBypass } from './lockdown.ts';
import { NAMESPACE_ANNOTATIONS_READ, NAMESPACE_LABELS_READ } from './mesh.ts';
import { planRanges, rangeInput } from './ranges.ts';

/** What the check needs of the request: a validating rule's context, as the review layer passes it. */
export type NamespaceContext = { readonly snapshot: ClusterSnapshot };

function meshKeys(annotations: Obj): Result {
  return mergeAll(
    Object.keys(annotations)
      .filter((k) => POD_ONLY_MESH_KEYS.some((re) => re.test(k)))
      .map((k) => finding('EW515', annotationPath(k), 'the mesh reads this on pods only')),
  );
}

function modeLabel(labels: Readonly<Record<string, string>>): Result {
  const v = labels[MODE_LABEL];
  return v === undefined || modeOf(labels) === v
    ? ok
    : finding('EW516', `metadata.labels[${MODE_LABEL}]`, `${q(v)} is not one of ${MODES.join(', ')}: enforcing`);
}

export function validateNamespace(obj: KubeObject, { snapshot }: NamespaceContext): Result {
  const name = obj.metadata?.name ?? '';
  const origin: Origin = { kind: 'namespace', name };
  const annotations = obj.metadata?.annotations;
  const { settings, findings } = readCaptureAnnotations(annotations, origin);
  const mode = settings.mode.state === 'valid' ? settings.mode.value : 'all';
  const plan =
    mode === 'off'
      ? ok
      : planRanges({
          mode,
          cluster: snapshot.cidrs,
          capture: rangeInput(settings.capture),
          bypass: rangeInput(settings.bypass),
          keys: { include: CAPTURE_RANGES, exclude: BYPASS },
          ipv4Only: false,
        }).findings;
  // The keys that decide which pods are mutated are read from here too: an unreadable one is reported now.
  const labels = stringValues(obj.metadata?.labels, [MODE_LABEL, ...NAMESPACE_LABELS_READ], { field: 'labels', origin });
  const injection = stringValues(annotations, NAMESPACE_ANNOTATIONS_READ, { field: 'annotations', origin });
  // On UPDATE, values that were already there warn instead of blocking: the review layer ratchets.
  const nsLabels = asObj(obj.metadata?.labels);
  const istio =
    labels.values[ISTIO_INJECTION] === 'enabled' || (nsLabels[ISTIO_INJECTION] === undefined && nsLabels[ISTIO_REV] !== undefined);
  const lockdown = istio ? lockdownBypass(mode, `namespace ${name}`, snapshot) : ok;
  return merge(findings, plan, meshKeys(asObj(annotations)), labels.findings, injection.findings, modeLabel(labels.values), lockdown);
}
