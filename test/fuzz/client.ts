/**
 * One HTTPS exchange for the fuzzer and the drills: never throws, times itself, and gives up after
 * a deadline so a hang is reported as one instead of stalling the run.
 */
import type { IncomingMessage } from 'node:http';
import { request, type Agent } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Answer } from './check.ts';

export type Outgoing = {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
};

/** The certificate each connection was set up with; Node reports it only for the first request on a socket. */
const peers = new WeakMap<TLSSocket, string>();

export function exchange(
  base: string,
  out: Outgoing,
  opts: { readonly ca: string | string[]; readonly agent?: Agent | false; readonly timeoutMs?: number },
): Promise<Answer> {
  const started = performance.now();
  const ms = () => performance.now() - started;
  return new Promise((resolve) => {
    const body = out.body === undefined ? undefined : typeof out.body === 'string' ? Buffer.from(out.body, 'utf8') : out.body;
    const headers: Record<string, string> = { ...out.headers };
    // The API server sends a length; a case that asks for chunked encoding gets it by leaving it out.
    if (body && headers['transfer-encoding'] === undefined) headers['content-length'] = String(body.length);
    let settled = false;
    const settle = (a: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(a);
    };
    let req: ReturnType<typeof request>;
    try {
      req = request(base + out.path, { method: out.method, headers, ca: opts.ca, agent: opts.agent }, onResponse);
    } catch (e) {
      // A request Node refuses to put on the wire is the generator's fault, reported as a failure to fix it.
      resolve({ ok: false, error: `could not send: ${(e as Error).message}`, ms: ms() });
      return;
    }
    function onResponse(res: IncomingMessage) {
      const chunks: Buffer[] = [];
      const socket = res.socket as TLSSocket;
      const fingerprint = peers.get(socket) ?? socket.getPeerX509Certificate?.()?.fingerprint256 ?? '';
      if (fingerprint) peers.set(socket, fingerprint);
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        settle({
          ok: true,
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks).toString('utf8'),
          ms: ms(),
          fingerprint,
          reused: req.reusedSocket,
          connection: String(res.headers.connection ?? ''),
        }),
      );
      res.on('error', (e) => settle({ ok: false, error: `${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`.trim(), ms: ms() }));
    }
    const timeoutMs = opts.timeoutMs ?? 15_000;
    const timer = setTimeout(() => {
      settle({ ok: false, error: `no answer within ${timeoutMs} ms`, ms: ms() });
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => settle({ ok: false, error: `${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`.trim(), ms: ms() }));
    req.end(body);
  });
}

/** The value at quantile q (0..1) of the samples, by nearest rank. */
export function quantile(samples: readonly number[], q: number): number {
  if (!samples.length) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
