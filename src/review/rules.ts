/**
 * Which function judges each rule the catalogue names. Typed by the catalogue's rule names, so a
 * kind added there without its rule here does not type-check.
 */
import { validateNamespace } from '../capture/namespace-rule.ts';
import type { ValidatingRuleName } from '../catalogue/kinds.ts';
import { merge } from '../catalogue/result.ts';
import { validateEgress } from '../rules/egress.ts';
import { validateHttpRouteGroup } from '../rules/http-route-group.ts';
import { egressUnderMeshConfig, virtualServiceUnderMeshConfig } from '../rules/mesh-mode.ts';
import type { Rule } from '../rules/rule.ts';
import { validateServiceEntry } from '../rules/service-entry.ts';
import { validateVirtualService } from '../rules/virtual-service.ts';

export type Rules = Readonly<Record<ValidatingRuleName, Rule>>;

export const RULES: Rules = {
  'service-entry': validateServiceEntry,
  'virtual-service': (obj, ctx) => merge(validateVirtualService(obj, ctx), virtualServiceUnderMeshConfig(obj, ctx)),
  egress: (obj, ctx) => merge(validateEgress(obj, ctx), egressUnderMeshConfig(obj, ctx)),
  'http-route-group': validateHttpRouteGroup,
  namespace: validateNamespace,
};
