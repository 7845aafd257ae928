/**
 * The connection deadlines as shipped (CONNECTION_LIMITS), held against real slow clients, all at
 * once: about 32 s. test/connections.test.ts runs the same clients against shortened deadlines.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AddressInfo } from 'node:net';
import { buildApp, CONNECTION_LIMITS } from '../../src/app.ts';
import { emptySnapshot } from '../../src/cluster/snapshot.ts';
import { callerPath } from '../../src/catalogue/endpoints.ts';
import { tokenSet } from '../../src/http/caller.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { createLogger } from '../../src/log.ts';
import { admitPod } from '../../src/review/mutate.ts';
import { judge } from '../../src/review/validate.ts';
import { generateCertificates } from '../../src/tls.ts';
import { newToken } from '../../src/token.ts';
import { silentTcp, silentTls, slowBody, slowHeaders } from '../support/slow-clients.ts';

const Deadlines = suite('connection deadlines as shipped: slow clients are cut when the docs say');

Deadlines(
  'a silent TCP connection, a silent TLS connection, slow headers and a slow body are each cut within a second of their deadline',
  async () => {
    const pems = await generateCertificates({ service: 'egress-warden', namespace: 'egress-warden', days: 1 });
    // As shipped, the admission paths carry a caller token; the slow clients call them the way the API server does.
    const token = newToken();
    const path = callerPath('validate', token);
    const app = buildApp({
      tls: { cert: pems.cert, key: pems.key },
      logger: createLogger(false),
      metrics: createMetrics(() => ({ ready: true, informers: [] }), false),
      auth: { tokens: tokenSet([token]), clientCertificates: undefined },
      cluster: { current: () => emptySnapshot(), ready: () => true, status: () => ({}) },
      validate: judge,
      mutate: admitPod,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    try {
      const limit = CONNECTION_LIMITS.requestMs + 10_000;
      // The slow clients of the report: a line of headers or a byte of body every 3 s.
      const [tcp, tls, headers, body] = await Promise.all([
        silentTcp(port, limit),
        silentTls(port, pems.caCert, limit),
        slowHeaders(port, pems.caCert, 3_000, limit, path),
        slowBody(port, pems.caCert, 3_000, limit, path),
      ]);
      const slack = CONNECTION_LIMITS.checkEveryMs + 1_000;
      const figures = { tcp: tcp.ms, tls: tls.ms, headers: headers.ms, body: body.ms };
      if (process.env.DRILL_REPORT)
        console.log(
          Object.entries(figures)
            .map(([k, v]) => `${k} ${Math.round(v)} ms`)
            .join(', '),
        );
      assert.ok(tcp.ms <= CONNECTION_LIMITS.handshakeMs + slack, JSON.stringify(figures));
      assert.ok(tls.ms <= CONNECTION_LIMITS.headersMs + slack, JSON.stringify(figures));
      assert.ok(headers.ms <= CONNECTION_LIMITS.headersMs + slack, JSON.stringify(figures));
      assert.ok(body.ms >= CONNECTION_LIMITS.requestMs - 100 && body.ms <= CONNECTION_LIMITS.requestMs + slack, JSON.stringify(figures));
      assert.match(headers.answer, /^HTTP\/1\.1 408/);
      assert.match(body.answer, /^HTTP\/1\.1 408/);
    } finally {
      await app.close();
    }
  },
);

Deadlines.run();
