/**
 * The seam between the cluster view and the API server. kube.ts implements it with
 * @kubernetes/client-node; tests pass plain objects, so no test needs a module mock.
 */
import type { KubeObject } from '../admission/types.ts';
import type { Target, Watched } from './resources.ts';
import { errorText } from '../json.ts';

/** Callbacks an informer calls: the verbs of client-node's Informer, as one object. */
export type InformerHandlers = {
  readonly add: (obj: KubeObject) => void;
  readonly update: (obj: KubeObject) => void;
  readonly delete: (obj: KubeObject) => void;
  /** the informer stopped for good (client-node stops on any error but 410) */
  readonly error: (err: unknown) => void;
  /** a (re)connection of the watch: proof of life on a quiet resource */
  readonly connect: () => void;
};

/**
 * A list+watch. start() resolves once the first list is delivered and the watch is open; a failure
 * calls `error` instead of rejecting. start() after an error resumes from the last resourceVersion.
 */
export type Informer = { readonly start: () => Promise<void>; readonly stop: () => Promise<void> };

export type InformerFactory = (target: Target & { readonly watched: Watched }, on: InformerHandlers) => Informer;

/** Resource name ("serviceentries.networking.istio.io") → served versions, the group's preferred first. */
export type Discovery = ReadonlyMap<string, readonly string[]>;

/** An API failure with its HTTP status when there was one (403 forbidden, 404 absent). */
export type ApiError = Error & { readonly status?: number };

export const apiStatus = (e: unknown): number | undefined =>
  e && typeof e === 'object' && typeof (e as ApiError).status === 'number' ? (e as ApiError).status : undefined;

export const apiMessage = errorText;

export type ClusterApi = {
  /** API server URL, for logs and `egress-warden cidrs` */
  readonly server: string;
  /** the namespace dry-run creates go to (this pod's own) */
  readonly namespace: string;
  readonly discover: () => Promise<Discovery>;
  readonly informer: InformerFactory;
  /**
   * every object of a resource across namespaces (paginated): slimmed to what the view keeps, or
   * with `as: 'judged'` to what the rules and the capture read (audit)
   */
  readonly list: (target: Target, as?: 'slim' | 'judged') => Promise<KubeObject[]>;
  /** a ConfigMap, or undefined when it does not exist */
  readonly getConfigMap: (namespace: string, name: string) => Promise<KubeObject | undefined>;
  /**
   * Dry-run create of a ClusterIP Service asking for `clusterIP`: the API server's rejection
   * message, or undefined when it accepted (the address was in range).
   */
  readonly dryRunService: (clusterIP: string) => Promise<string | undefined>;
  /** one whole object (not slimmed), or undefined when it does not exist; absent on seams that read no single objects */
  readonly get?: (target: Target, namespace: string, name: string) => Promise<KubeObject | undefined>;
  /** a Namespace as the API server holds it now, slimmed; undefined when it does not exist */
  readonly readNamespace?: (name: string) => Promise<KubeObject | undefined>;
  /**
   * Watches one named object (it need not exist): `changed` on every event, the first of them as soon
   * as the watch is open; `ended` once, when the watch closes for any reason (the server's timeout
   * too), with the error if there was one. Absent on seams that watch nothing by name.
   */
  readonly watchNamed?: (target: Target, namespace: string, name: string, on: NamedWatchHandlers) => { readonly stop: () => void };
};

export type NamedWatchHandlers = { readonly changed: () => void; readonly ended: (err: unknown) => void };
