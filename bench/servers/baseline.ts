/**
 * The ceiling for this stack: a bare Fastify HTTPS server, same certificate, same body limit, that
 * parses the AdmissionReview body and answers a fixed allowed review (echoing the uid, without
 * which the API server would reject the answer). Nothing else: no schema, no logging, no rules, no
 * caller check. It answers at the token paths egress-warden serves (`/validate/<token>`), so both
 * servers get the same request line, and at the bare paths.
 *
 * Run: node bench/servers/baseline.ts --port PORT --certs DIR   (DIR holds tls.crt and tls.key)
 */
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BODY_LIMIT } from '../../src/http/routes.ts';

const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' }, certs: { type: 'string' } } });
if (!values.port || !values.certs) {
  process.stderr.write('usage: node bench/servers/baseline.ts --port PORT --certs DIR [--host 127.0.0.1]\n');
  process.exit(2);
}

const app = Fastify({
  https: { cert: readFileSync(join(values.certs, 'tls.crt')), key: readFileSync(join(values.certs, 'tls.key')), minVersion: 'TLSv1.2' },
  bodyLimit: BODY_LIMIT,
  keepAliveTimeout: 90_000,
  logger: false,
});

type Review = { request?: { uid?: unknown } };

const answer = async (request: { body: unknown }) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  response: { uid: String((request.body as Review | undefined)?.request?.uid ?? ''), allowed: true },
});

app.post('/validate', answer);
app.post('/mutate', answer);
// the token is taken and not looked at: checking it is part of what egress-warden costs
app.post('/validate/:token', answer);
app.post('/mutate/:token', answer);
app.get('/healthz', async () => ({ ok: true }));

await app.listen({ host: values.host ?? '127.0.0.1', port: Number(values.port) });

const shutdown = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
