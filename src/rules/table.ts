/**
 * The rule table: one line per validated kind, keyed by group and Kind (never by version).
 * Importing this module registers every rule with the engine.
 */
import { register } from './registry.ts';
import { validateEgress } from './egress.ts';

register('policy.openservicemesh.io', 'Egress', 'egress', validateEgress);
