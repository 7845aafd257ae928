/**
 * The snapshot of a live cluster, read once through the webhook's own cluster view, for the
 * commands that judge against a cluster (`check --kubeconfig`, `audit`, `explain`). The client
 * library is loaded only here: offline commands never pay for it.
 */
import type { ClusterApi } from '../cluster/api.ts';
import type { ConfiguredPair } from '../cluster/cidr-settings.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { errorText } from '../json.ts';
import type { CommandIo } from './io.ts';

/** A cluster found the way every command finds one, and what its informers listed. */
export type LiveCluster = { readonly snapshot: ClusterSnapshot; readonly api: ClusterApi; readonly source: string };

/** The view's complaints on stderr: informers retry on their own, so each distinct one is worth one line, not one per retry. */
function complaints(command: string, io: CommandIo) {
  const said = new Set<string>();
  const say = (_: object, msg: string) => {
    if (said.has(msg)) return;
    said.add(msg);
    io.err(`${command}: cluster: ${msg}\n`);
  };
  return { info: () => {}, warn: say, error: say };
}

/** The snapshot once every informer has synced, or why it could not be had. */
async function synced(
  command: string,
  opts: { readonly kubeconfig: string | undefined; readonly api?: ClusterApi },
  cidrs: ConfiguredPair,
  io: CommandIo,
  timeoutMs: number,
): Promise<ClusterSnapshot | string> {
  const { startClusterView } = await import('../cluster/view.ts');
  let view;
  try {
    view = await startClusterView({ env: io.env, kubeconfig: opts.kubeconfig, api: opts.api, cidrs, log: complaints(command, io) });
  } catch (e) {
    return errorText(e);
  }
  try {
    if (!(await view.untilReady(timeoutMs))) return `cluster not ready after ${timeoutMs / 1000} s: ${view.status().reason}`;
    return view.current();
  } finally {
    await view.stop();
  }
}

/** The snapshot once every informer has synced, or why it could not be had. */
export function liveSnapshot(
  command: string,
  kubeconfig: string | undefined,
  cidrs: ConfiguredPair,
  io: CommandIo,
  timeoutMs: number,
): Promise<ClusterSnapshot | string> {
  return synced(command, { kubeconfig }, cidrs, io, timeoutMs);
}

/**
 * The cluster picked as kubectl picks it (--kubeconfig, KUBECONFIG, the in-cluster service account,
 * ~/.kube/config) and its synced snapshot. `none` says why there is no cluster to pick; `problem`
 * why the one picked could not be read.
 */
export async function liveCluster(
  command: string,
  kubeconfig: string | undefined,
  cidrs: ConfiguredPair,
  io: CommandIo,
  timeoutMs: number,
): Promise<LiveCluster | { readonly none: string } | { readonly problem: string }> {
  const { connectCluster } = await import('../cluster/kube.ts');
  let found;
  try {
    found = connectCluster({ kubeconfig, env: io.env });
  } catch (e) {
    return { problem: errorText(e) };
  }
  if ('none' in found) return found;
  const snapshot = await synced(command, { kubeconfig, api: found.api }, cidrs, io, timeoutMs);
  if (typeof snapshot === 'string') return { problem: `${found.source}: ${snapshot}` };
  return { snapshot, api: found.api, source: found.source };
}
