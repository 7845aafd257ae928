/**
 * The snapshot of a live cluster, read once through the webhook's own cluster view, for the
 * commands that judge against a cluster (`check --kubeconfig`, `audit`). The client library is
 * loaded only here: offline commands never pay for it.
 */
import type { ConfiguredPair } from '../cluster/cidr-settings.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import type { CommandIo } from './io.ts';

/** The snapshot once every informer has synced, or why it could not be had. */
export async function liveSnapshot(
  command: string,
  kubeconfig: string | undefined,
  cidrs: ConfiguredPair,
  io: CommandIo,
  timeoutMs: number,
): Promise<ClusterSnapshot | string> {
  const { startClusterView } = await import('../cluster/view.ts');
  // Informers retry on their own; each distinct complaint is worth one line, not one per retry.
  const said = new Set<string>();
  const say = (_: object, msg: string) => {
    if (said.has(msg)) return;
    said.add(msg);
    io.err(`${command}: cluster: ${msg}\n`);
  };
  let view;
  try {
    view = await startClusterView({ env: io.env, kubeconfig, cidrs, log: { info: () => {}, warn: say, error: say } });
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  try {
    if (!(await view.untilReady(timeoutMs))) return `cluster not ready after ${timeoutMs / 1000} s: ${view.status().reason}`;
    return view.current();
  } finally {
    await view.stop();
  }
}
