/**
 * A Namespace's capture annotations, checked when they are written so that a typo is denied at
 * `kubectl annotate` instead of at the next pod creation. Reads the annotations and plans the
 * ranges with the same code as the pod mutation, so both always agree.
 */
import {
  BYPASS, CAPTURE_RANGES, annotationPath, readCaptureAnnotations, type CaptureSettings,
} from '../mutate/annotations.ts';
import { planRanges, type RangeInput } from '../mutate/ranges.ts';
import { MODE_LABEL, type Rule } from './registry.ts';
import { merge, ok, warn, type Issue, type Result } from './result.ts';

const MODES = ['enforce', 'warn', 'audit'];

// Read by the meshes from the pod only; on a namespace they do nothing.
const POD_ONLY = [/^traffic\.sidecar\.istio\.io\//, /^openservicemesh\.io\/(?:outbound-ip-range-|outbound-port-exclusion-list$|inbound-port-exclusion-list$)/];

const rangeInput = (s: CaptureSettings['bypass']): RangeInput | undefined => (s.state === 'valid' ? { cidrs: s.value, origin: s.origin } : undefined);

function meshKeys(annotations: Readonly<Record<string, string>>): Result {
  return merge(...Object.keys(annotations).filter((k) => POD_ONLY.some((re) => re.test(k))).map((k) =>
    warn('EW515', annotationPath(k), 'the mesh reads this on pods only')));
}

function modeLabel(labels: Readonly<Record<string, string>>): Result {
  const v = labels[MODE_LABEL];
  return v === undefined || MODES.includes(v) ? ok : warn('EW516', `metadata.labels[${MODE_LABEL}]`, `${JSON.stringify(v)} is not one of ${MODES.join(', ')}: enforcing`);
}

/**
 * On UPDATE, an invalid value that was already there before this change does not block the update
 * (adding a label must stay possible); it is still reported, as a warning.
 */
function keepUnchanged(r: Result, now: Readonly<Record<string, string>>, before: Readonly<Record<string, string>> | undefined): Result {
  if (!before || r.errors.length === 0) return r;
  const unchanged = (i: Issue) => Object.keys(now).some((k) => annotationPath(k) === i.path && before[k] === now[k]);
  const kept = r.errors.filter(unchanged).map((i) => ({ ...i, message: `${i.message} (set before this change)` }));
  return kept.length ? { errors: r.errors.filter((i) => !unchanged(i)), warnings: [...kept, ...r.warnings] } : r;
}

export const validateNamespace: Rule = (obj, { snapshot, operation }) => {
  const name = obj.metadata?.name ?? '';
  const annotations = obj.metadata?.annotations ?? {};
  const { settings, findings } = readCaptureAnnotations(annotations, { kind: 'namespace', name });
  const mode = settings.mode.state === 'valid' ? settings.mode.value : 'all';
  const plan = mode === 'off' ? ok : planRanges({
    mode, cluster: snapshot.cidrs, capture: rangeInput(settings.capture), bypass: rangeInput(settings.bypass),
    keys: { include: CAPTURE_RANGES, exclude: BYPASS }, ipv4Only: false,
  }).findings;
  const result = merge(findings, plan, meshKeys(annotations), modeLabel(obj.metadata?.labels ?? {}));
  return operation === 'UPDATE' ? keepUnchanged(result, annotations, snapshot.namespaces.get(name)?.annotations) : result;
};
