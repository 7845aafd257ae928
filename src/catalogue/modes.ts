/**
 * Enforcement modes: what a finding does to the answer. Set per namespace with the
 * egress-warden.io/mode label; only the review layer applies them.
 */
import { MODE_LABEL } from './keys.ts';

export const MODES = ['enforce', 'warn', 'audit'] as const;
export type Mode = (typeof MODES)[number];

/** A namespace without the label, or with a value that is not a mode, is enforced. */
export const DEFAULT_MODE: Mode = 'enforce';

export const isMode = (v: unknown): v is Mode => (MODES as readonly unknown[]).includes(v);

/** The enforcement mode a namespace's labels select. */
export function modeOf(labels: Readonly<Record<string, string>> | undefined): Mode {
  const m = labels?.[MODE_LABEL];
  return isMode(m) ? m : DEFAULT_MODE;
}
