/**
 * Route destinations of a VirtualService (tls, tcp and http routes, mirrors): istiod's
 * validateDestination and validateRouteDestinations.
 */
import { finding, mergeAll, type Result } from '../catalogue/result.ts';
import { asStr, isObj, type Obj } from '../json.ts';
import { got, isDns1123Label, notStringProblem, portNumberProblem, wildcardDomainProblem } from './fields.ts';

/** A destination's host, subset and port (validateDestination), all under EW220. */
export function destination(d: Obj, at: string): Result {
  const out: Result[] = [];
  const host = asStr(d.host);
  const hostType = d.host === undefined || d.host === null ? undefined : notStringProblem('destination host', d.host);
  if (hostType) out.push(finding('EW220', `${at}.host`, hostType));
  else if (host === '*') out.push(finding('EW220', `${at}.host`, 'invalid destination host *'));
  else {
    const p = wildcardDomainProblem(host);
    if (p) out.push(finding('EW220', `${at}.host`, p));
  }
  if (d.subset !== undefined && d.subset !== '') {
    const subset = asStr(d.subset);
    const subsetType = notStringProblem('subset name', d.subset);
    if (subsetType) out.push(finding('EW220', `${at}.subset`, subsetType));
    else if (!isDns1123Label(subset, { allowUpper: true })) out.push(finding('EW220', `${at}.subset`, `subset name is invalid: ${subset}`));
  }
  if (isObj(d.port)) {
    const p = portNumberProblem(d.port.number ?? 0);
    if (p) out.push(finding('EW220', `${at}.port.number`, p));
  }
  return mergeAll(out);
}

/**
 * The weighted destinations of one route (validateRouteDestinations, validateHTTPRouteDestinations).
 * `each` adds what http destinations also carry (header operations).
 */
export function routeDestinations(list: readonly unknown[], at: string, each?: (d: Obj, at: string) => Result): Result {
  const out: Result[] = [];
  let total = 0;
  list.forEach((raw, i) => {
    const rat = `${at}[${i}]`;
    if (!isObj(raw)) {
      out.push(finding('EW219', rat, 'weight may not be nil'));
      return;
    }
    if (!isObj(raw.destination)) out.push(finding('EW219', `${rat}.destination`, 'destination is required'));
    if (each) out.push(each(raw, rat));
    if (isObj(raw.destination)) out.push(destination(raw.destination, `${rat}.destination`));
    const weight = typeof raw.weight === 'number' ? raw.weight : 0;
    if (raw.weight !== undefined && raw.weight !== null && !Number.isInteger(raw.weight)) {
      out.push(finding('EW219', `${rat}.weight`, `weight must be an integer, got ${got(raw.weight)}`));
    } else if (weight < 0) out.push(finding('EW219', `${rat}.weight`, `weight ${weight} < 0`));
    total += weight;
  });
  if (list.length > 1 && total === 0) out.push(finding('EW219', at, 'total destination weight = 0'));
  return mergeAll(out);
}
