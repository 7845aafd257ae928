/**
 * The operator's CIDR settings: --pod-cidrs / --service-cidrs, else EW_POD_CIDRS / EW_SERVICE_CIDRS.
 * Every command and the cluster view read them here, so a list splits the same way wherever it is
 * given and each range names the flag or variable it came from.
 */
import { parseCidrList, splitList, type CidrInputs, type CidrKind, type ConfiguredCidrs } from './detect.ts';

export const CIDR_SETTINGS: Readonly<Record<CidrKind, { readonly flag: string; readonly variable: string }>> = {
  pod: { flag: '--pod-cidrs', variable: 'EW_POD_CIDRS' },
  service: { flag: '--service-cidrs', variable: 'EW_SERVICE_CIDRS' },
};

export type ConfiguredPair = Pick<CidrInputs, 'podConfig' | 'serviceConfig'>;

export type CidrSettings = {
  readonly config: ConfiguredPair;
  /** values that are not CIDRs and flags given empty, each naming its flag or variable */
  readonly problems: readonly string[];
};

/**
 * `flags`: the flag values as typed, undefined when not given. A flag wins over its variable; a flag
 * given empty is a mistake (a template that filled in nothing), a variable set empty is unset.
 */
export function readCidrSettings(
  flags: Partial<Record<CidrKind, string>>,
  env: Readonly<Record<string, string | undefined>>,
): CidrSettings {
  const problems: string[] = [];
  const read = (kind: CidrKind): ConfiguredCidrs | undefined => {
    const { flag, variable } = CIDR_SETTINGS[kind];
    const text = flags[kind];
    if (text !== undefined) {
      const values = splitList(text);
      if (!values.length) problems.push(`${flag} is empty`);
      return values.length ? { values, origin: flag } : undefined;
    }
    const values = splitList(env[variable] ?? '');
    return values.length ? { values, origin: variable } : undefined;
  };
  const podConfig = read('pod');
  const serviceConfig = read('service');
  for (const c of [podConfig, serviceConfig]) if (c) problems.push(...parseCidrList(c.values, c.origin).problems);
  return { config: { ...(podConfig ? { podConfig } : {}), ...(serviceConfig ? { serviceConfig } : {}) }, problems };
}
