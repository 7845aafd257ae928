/** Gateway references of a VirtualService and of its matches: istiod's validateGatewayNames. */
import { finding, mergeAll, type Result } from '../catalogue/result.ts';
import { q } from '../json.ts';
import { fqdnProblem, got, isDns1123Label } from './fields.ts';

/**
 * Gateway references: "namespace/name", or a legacy short or dotted name. As in Istio, the first
 * entry without a "/" ends the check (so entries after "mesh" are not looked at). Errors are EW203
 * (callers judging matches re-file them), the legacy form is the EW204 warning.
 */
export function gatewayNames(names: readonly unknown[], path: string): Result {
  const out: Result[] = [];
  for (const [i, raw] of names.entries()) {
    const at = `${path}[${i}]`;
    if (typeof raw !== 'string') {
      out.push(finding('EW203', at, `gateway must be a string, got ${got(raw)}`));
      continue;
    }
    const g = raw;
    const slash = g.indexOf('/');
    if (slash < 0) {
      if (g.includes('.')) {
        const parts = g.split('.');
        out.push(finding('EW204', at, `legacy gateway name ${q(g)}; prefer ${q(`${parts[1]}/${parts[0]}`)}`));
      }
      const p = fqdnProblem(g);
      if (p) out.push(finding('EW203', at, p));
      break;
    }
    const ns = g.slice(0, slash);
    const name = g.slice(slash + 1);
    if (!ns || !name) out.push(finding('EW203', at, 'config namespace and gateway name cannot be empty'));
    if (!isDns1123Label(ns, { allowUpper: true })) out.push(finding('EW203', at, `invalid value for namespace: ${q(ns)}`));
    if (!isDns1123Label(name, { allowUpper: true })) out.push(finding('EW203', at, `invalid value for gateway name: ${q(name)}`));
  }
  return mergeAll(out);
}
