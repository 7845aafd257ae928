/**
 * The fix `explain` offers is one the webhook admits. Each option's objects are judged by the
 * webhook's own engine against the state the question was asked of, all of them added first and
 * each judged against the others, as `check` judges a set: a fix that would be denied (or that the
 * webhook reports as broken, whatever the namespace's enforcement mode) is never offered. The first
 * option without findings wins, else the first with warnings only; when every option has errors,
 * the reasons say why and name the objects in the way.
 */
import type { KubeObject } from '../admission/types.ts';
import { show, type Issue } from '../catalogue/result.ts';
import { incrementalSnapshot } from '../cluster/incremental.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import type { Admission, FixOption, Reason } from './types.ts';

/** Findings shown per rejected option: the first ones name the conflict, the rest repeat it. */
const FINDINGS_SHOWN = 3;

type Finding = { readonly object: string; readonly issue: Issue };

type Judged = { readonly option: FixOption; readonly errors: readonly Finding[]; readonly warnings: readonly Finding[] };

const nameOf = (o: KubeObject): string => `${o.kind ?? 'object'} ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

const about = (objects: readonly string[]): { readonly objects?: readonly string[] } => (objects.length ? { objects } : {});

/** The option's objects judged as creates, each against the state plus all of them (as one `kubectl apply` leaves it). */
function judgeOption(option: FixOption, snapshot: ClusterSnapshot, admission: Admission): Judged {
  const live = incrementalSnapshot(snapshot);
  for (const o of option.objects) live.add(o);
  const state = option.mesh ? { ...live.snapshot, mesh: option.mesh } : live.snapshot;
  const errors: Finding[] = [];
  const warnings: Finding[] = [];
  for (const o of option.objects) {
    const r = admission(o, state);
    for (const issue of r.errors) errors.push({ object: nameOf(o), issue });
    for (const issue of r.warnings) warnings.push({ object: nameOf(o), issue });
  }
  return { option, errors, warnings };
}

const OBJECT_NAMED = /\b(Egress|ServiceEntry|VirtualService|HTTPRouteGroup|Service) ([a-z0-9][a-z0-9.-]*\/[a-z0-9][a-z0-9.-]*)/g;

/** The objects the findings name ("Egress bank/mysql"), other than the option's own. */
function named(findings: readonly Finding[], own: readonly KubeObject[]): string[] {
  const mine = new Set(own.map(nameOf));
  const out = new Set<string>();
  for (const f of findings) for (const m of f.issue.message.matchAll(OBJECT_NAMED)) if (!mine.has(m[0])) out.add(m[0]);
  return [...out];
}

/** "[EW420] spec.ports[0]: …; and 2 more", bounded whatever the number of findings; objects named when the option has several. */
function listed(findings: readonly Finding[], option: FixOption): string {
  const own = option.objects.length > 1;
  const shown = findings.slice(0, FINDINGS_SHOWN).map((f) => `${own ? `${f.object} ` : ''}${show(f.issue)}`);
  const more = findings.length - shown.length;
  return `${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

/** The fix to offer among `options` (best first), with the reasons that say how it was chosen. */
export function chooseFix(
  options: readonly FixOption[],
  snapshot: ClusterSnapshot,
  admission: Admission,
): { readonly fix: readonly KubeObject[]; readonly reasons: readonly Reason[] } {
  if (options.length === 0) return { fix: [], reasons: [] };
  const reasons: Reason[] = [];
  const judged: Judged[] = [];
  let chosen: Judged | undefined;
  for (const option of options) {
    const j = judgeOption(option, snapshot, admission);
    judged.push(j);
    if (j.errors.length === 0 && j.warnings.length === 0) {
      chosen = j;
      break;
    }
  }
  chosen ??= judged.find((j) => j.errors.length === 0);
  for (const j of judged) {
    if (j === chosen) break;
    const failing = j.errors.length > 0;
    const findings = failing ? j.errors : j.warnings;
    reasons.push({
      step: 'fix',
      says: `${j.option.what} would ${failing ? 'fail' : 'draw warnings from'} the webhook's rules: ${listed(findings, j.option)}`,
      ...about(named(findings, j.option.objects)),
    });
  }
  if (!chosen) {
    const blocking = [...new Set(judged.flatMap((j) => named(j.errors, j.option.objects)))];
    reasons.push({
      step: 'fix',
      says: blocking.length
        ? `no fix the webhook admits: change or remove ${blocking.join(', ')}, or use another port, then ask again`
        : 'no fix the webhook admits: see the findings above',
      ...about(blocking),
    });
    return { fix: [], reasons };
  }
  const first = chosen === judged[0];
  const offered = first ? `the fix below (${chosen.option.what})` : `proposed instead: ${chosen.option.what}, which`;
  const note = chosen.option.note ? `; ${chosen.option.note}` : '';
  reasons.push(
    chosen.warnings.length
      ? {
          step: 'fix',
          says: `${offered} ${first ? 'is admitted by the webhook' : 'the webhook admits'} with warnings: ${listed(chosen.warnings, chosen.option)}${note}`,
          ...about(named(chosen.warnings, chosen.option.objects)),
        }
      : { step: 'fix', says: `${offered} passes the webhook's rules against this state${note}` },
  );
  return { fix: chosen.option.objects, reasons };
}
