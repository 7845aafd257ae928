/**
 * The rule table: one line per validated kind, keyed by group and Kind (never by version).
 * Importing this module registers every rule with the engine.
 */
import { register } from './registry.ts';
import { validateServiceEntry } from './service-entry.ts';
import { validateVirtualService } from './virtual-service.ts';
import { validateEgress } from './egress.ts';
import { validateNamespace } from './namespace.ts';

register('networking.istio.io', 'ServiceEntry', 'service-entry', validateServiceEntry);
register('networking.istio.io', 'VirtualService', 'virtual-service', validateVirtualService);
register('policy.openservicemesh.io', 'Egress', 'egress', validateEgress);
register('', 'Namespace', 'namespace', validateNamespace);
