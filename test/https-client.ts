/** A tiny HTTPS client for tests: trusts the test CA, exposes status, body and the peer certificate. */
import { request, type Agent } from 'node:https';
import type { TLSSocket } from 'node:tls';

export type Reply = {
  readonly status: number;
  readonly body: string;
  readonly json: () => any;
  readonly fingerprint: string;
  readonly reused: boolean;
};

export function send(
  url: string,
  opts: { method?: string; body?: string | Buffer; headers?: Record<string, string>; ca: string; agent?: Agent },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'), headers: opts.headers, ca: opts.ca, agent: opts.agent },
      (res) => {
        const chunks: Buffer[] = [];
        const fingerprint = (res.socket as TLSSocket).getPeerX509Certificate?.()?.fingerprint256 ?? '';
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body), fingerprint, reused: req.reusedSocket });
        });
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export const postJson = (url: string, ca: string, body: unknown, agent?: Agent) =>
  send(url, { ca, agent, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
