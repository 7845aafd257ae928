/**
 * A stand-in for Istio's sidecar injector, registered as a mutating webhook that runs after
 * egress-warden's (configurations are called in name order): it adds an `istio-init` init container
 * with Istio's default capture arguments, as the real injector does. The API server then reinvokes
 * egress-warden (reinvocationPolicy: IfNeeded), which must rewrite that container's -i/-x.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:https';
import { fileURLToPath } from 'node:url';
import { generateCertificates } from '../../src/tls.ts';
import { must } from './kube.ts';

export type Injector = { readonly name: string; readonly close: () => Promise<void> };

const ISTIO_INIT = {
  name: 'istio-init',
  image: 'docker.io/istio/proxyv2:1.24.0',
  args: [
    'istio-iptables',
    '-p',
    '15001',
    '-z',
    '15006',
    '-u',
    '1337',
    '-m',
    'REDIRECT',
    '-i',
    '*',
    '-x',
    '',
    '-b',
    '*',
    '-d',
    '15090,15021,15020',
  ],
};

/** The webhook server itself; run in a child process, since the tests block their own event loop on kubectl. */
async function serve(): Promise<void> {
  const pems = await generateCertificates({ service: 'injector', namespace: 'test', days: 1 });
  const server = createServer({ cert: pems.cert, key: pems.key }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
    });
    req.on('end', () => {
      const review = JSON.parse(body) as { request: { uid: string; object: { spec?: { initContainers?: unknown[] } } } };
      const has = (review.request.object.spec?.initContainers ?? []) as { name?: string }[];
      const patch = has.some((c) => c.name === 'istio-init')
        ? []
        : [
            has.length
              ? { op: 'add', path: '/spec/initContainers/-', value: ISTIO_INIT }
              : { op: 'add', path: '/spec/initContainers', value: [ISTIO_INIT] },
          ];
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: {
            uid: review.request.uid,
            allowed: true,
            ...(patch.length ? { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') } : {}),
          },
        }),
      );
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.stdout.write(`${JSON.stringify({ port, ca: pems.caCert })}\n`);
  });
  process.once('SIGTERM', () => process.exit(0));
}

export async function startInjector(name: string, selector: Readonly<Record<string, string>>): Promise<Injector> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buffered = '';
  const ready = new Promise<{ port: number; ca: string }>((resolve, reject) => {
    child.once('exit', (c) => reject(new Error(`the injector exited with ${c}`)));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      buffered += d;
      let nl;
      if ((nl = buffered.indexOf('\n')) >= 0) resolve(JSON.parse(buffered.slice(0, nl)) as { port: number; ca: string });
    });
  });
  const { port, ca } = await ready;
  must(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name },
      webhooks: [
        {
          name: 'sidecar-injector.istio.io',
          clientConfig: { url: `https://127.0.0.1:${port}/inject`, caBundle: Buffer.from(ca).toString('base64') },
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
          namespaceSelector: { matchLabels: { ...selector, 'istio-injection': 'enabled' } },
          failurePolicy: 'Fail',
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          reinvocationPolicy: 'Never',
          timeoutSeconds: 5,
        },
      ],
    }),
  );
  return {
    name,
    close: async () => {
      must(['delete', 'mutatingwebhookconfiguration', name, '--ignore-not-found']);
      if (child.exitCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'serve') await serve();
