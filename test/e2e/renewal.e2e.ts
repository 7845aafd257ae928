/**
 * The certificate steps of docs/install.md, run against the real API server while writes keep
 * arriving: a renewal that keeps the CA (`certs --keep-ca`, caBundle untouched), then a roll to a new
 * CA (`certs --force --bundle`, caBundle through the old+new bundle). No write may fail.
 */
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { cli, create, eventually, getJson, hasCrd, keepWriting, must, sleep, servedFingerprint, webhookSuite } from '../support/kube.ts';

const { E2E, test, ctx } = webhookSuite('e2e/renewal: the documented certificate renewal and CA roll fail no write');

const serviceEntry = (name: string, ns: string) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace: ns },
  spec: {
    hosts: ['api.example.com'],
    location: 'MESH_EXTERNAL',
    resolution: 'DNS',
    ports: [{ number: 443, name: 'tls', protocol: 'TLS' }],
  },
});

/** The Secret update: the new pair replaces the served one, each file swapped in whole. */
function swapServingPair(from: string): string {
  for (const f of ['tls.key', 'tls.crt']) {
    writeFileSync(join(ctx.hook.certDir, `.${f}.new`), readFileSync(join(from, f)));
    renameSync(join(ctx.hook.certDir, `.${f}.new`), join(ctx.hook.certDir, f));
  }
  return new X509Certificate(readFileSync(join(from, 'tls.crt'))).fingerprint256;
}

const caBundleOf = () =>
  Buffer.from(getJson(['validatingwebhookconfiguration', ctx.hook.name]).webhooks[0].clientConfig.caBundle, 'base64').toString();

const render = (ca: string) =>
  cli([
    'manifests',
    '--name',
    ctx.hook.name,
    '--url',
    ctx.hook.url,
    '--ca',
    ca,
    '--token-file',
    join(ctx.hook.certDir, 'token'),
    '--namespace-label',
    `egress-warden.io/e2e=${ctx.hook.name}`,
  ]).stdout;

/** Runs `steps` while writes keep going; asserts none failed. */
async function underWrites(ns: string, what: string, steps: (writes: (n: number) => Promise<unknown>) => Promise<void>): Promise<void> {
  await eventually('writes reach the webhook', () => (create(serviceEntry('probe', ns), '--dry-run=server').code === 0 ? true : undefined));
  const writer = keepWriting(serviceEntry('renewing', ns));
  try {
    await writer.writes(3);
    await steps(writer.writes);
    await writer.writes(3);
  } finally {
    const { sent, failures } = await writer.stop();
    process.stdout.write(`  ${what}: ${sent} writes through the webhook, ${failures.length} failed\n`);
    assert.equal(failures, [], `${failures.length} of ${sent} writes failed`);
  }
}

test('certs --keep-ca renews the serving certificate without touching caBundle, and no write fails', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const ns = ctx.hook.namespace('keep-ca');
  const bundleBefore = caBundleOf();
  const work = mkdtempSync(join(tmpdir(), 'ew-e2e-renew-'));
  try {
    for (const f of ['ca.crt', 'ca.key']) copyFileSync(join(ctx.hook.certDir, f), join(work, f));
    const before = await servedFingerprint(ctx.hook.port);
    await underWrites(ns, 'renewal under the same CA', async (writes) => {
      const r = cli(['certs', '--dir', work, '--keep-ca', '--san', '127.0.0.1']);
      assert.is(r.status, 0, r.stderr);
      assert.is(statSync(join(work, 'ca.key')).mode & 0o777, 0o600);
      const renewed = swapServingPair(work);
      assert.is.not(renewed, before);
      await eventually('new connections get the renewed certificate', async () =>
        (await servedFingerprint(ctx.hook.port)) === renewed ? true : undefined,
      );
      await writes(5);
    });
    assert.is(caBundleOf(), bundleBefore);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('certs --force --bundle rolls to a new CA through an old+new caBundle, and no write fails', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const ns = ctx.hook.namespace('roll-ca');
  const work = mkdtempSync(join(tmpdir(), 'ew-e2e-roll-'));
  try {
    for (const f of ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']) copyFileSync(join(ctx.hook.certDir, f), join(work, f));
    const oldCa = readFileSync(join(work, 'ca.crt'), 'utf8');
    await underWrites(ns, 'roll to a new CA', async (writes) => {
      // 1. a new CA and certificate, and the bundle of both CAs
      const r = cli(['certs', '--dir', work, '--force', '--bundle', '--san', '127.0.0.1']);
      assert.is(r.status, 0, r.stderr);
      const newCa = readFileSync(join(work, 'ca.crt'), 'utf8');
      assert.is(readFileSync(join(work, 'ca-bundle.crt'), 'utf8'), oldCa + newCa);
      // 2. trust both
      must(['apply', '-f', '-'], render(join(work, 'ca-bundle.crt')));
      await sleep(3_000); // the API server reloads webhook configurations asynchronously
      await writes(3);
      // 3. serve the new certificate
      const next = swapServingPair(work);
      await eventually('new connections get the new certificate', async () =>
        (await servedFingerprint(ctx.hook.port)) === next ? true : undefined,
      );
      await writes(5);
      // 4. trust only the new CA
      must(['apply', '-f', '-'], render(join(work, 'ca.crt')));
      await sleep(3_000);
    });
    assert.is(caBundleOf().trim(), readFileSync(join(work, 'ca.crt'), 'utf8').trim());
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

E2E.run();
