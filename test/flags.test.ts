import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readCidrSettings } from '../src/cluster/cidr-settings.ts';
import { runCerts } from '../src/commands/certs.ts';
import { runCheck } from '../src/commands/check.ts';
import { cidrsCommand } from '../src/commands/cidrs.ts';
import { captureIo, type Command } from '../src/commands/io.ts';
import { runManifests } from '../src/commands/manifests.ts';
import { runServe } from '../src/commands/serve.ts';
import { readServeConfig, serviceAccountNamespace } from '../src/config.ts';

const shown = (settings: ReturnType<typeof readCidrSettings>) =>
  [
    settings.config.podConfig && `pod ${settings.config.podConfig.values.join('|')} (${settings.config.podConfig.origin})`,
    settings.config.serviceConfig && `service ${settings.config.serviceConfig.values.join('|')} (${settings.config.serviceConfig.origin})`,
    ...settings.problems,
  ].filter(Boolean);

const Cidrs = suite('CIDR settings from flags and environment');

Cidrs('splits a flag and a variable the same way: commas, spaces or both', () => {
  assert.equal(shown(readCidrSettings({ pod: '10.1.0.0/16 10.2.0.0/16', service: '172.20.0.0/16,fd00:20::/108' }, {})), [
    'pod 10.1.0.0/16|10.2.0.0/16 (--pod-cidrs)',
    'service 172.20.0.0/16|fd00:20::/108 (--service-cidrs)',
  ]);
  assert.equal(shown(readCidrSettings({}, { EW_POD_CIDRS: '10.1.0.0/16 10.2.0.0/16', EW_SERVICE_CIDRS: '172.20.0.0/16, fd00:20::/108' })), [
    'pod 10.1.0.0/16|10.2.0.0/16 (EW_POD_CIDRS)',
    'service 172.20.0.0/16|fd00:20::/108 (EW_SERVICE_CIDRS)',
  ]);
});

Cidrs('takes the flag over the variable and names which one it used', () => {
  assert.equal(shown(readCidrSettings({ pod: '10.1.0.0/16' }, { EW_POD_CIDRS: '10.9.0.0/16', EW_SERVICE_CIDRS: '172.20.0.0/16' })), [
    'pod 10.1.0.0/16 (--pod-cidrs)',
    'service 172.20.0.0/16 (EW_SERVICE_CIDRS)',
  ]);
});

Cidrs('refuses a flag given empty and values that are not CIDRs, and treats an empty variable as unset', () => {
  assert.equal(readCidrSettings({ pod: ' ' }, { EW_SERVICE_CIDRS: '10.96.0.0/12 10.2.0.0' }).problems, [
    '--pod-cidrs is empty',
    'EW_SERVICE_CIDRS: "10.2.0.0" is not a CIDR',
  ]);
  assert.equal(shown(readCidrSettings({}, { EW_POD_CIDRS: '' })), []);
});

Cidrs('serve accepts a space-separated --pod-cidrs as it accepts EW_POD_CIDRS', () => {
  const flag = readServeConfig(['--pod-cidrs', '10.1.0.0/16 10.2.0.0/16'], {});
  const variable = readServeConfig([], { EW_POD_CIDRS: '10.1.0.0/16 10.2.0.0/16' });
  assert.equal(flag.cidrs, { podConfig: { values: ['10.1.0.0/16', '10.2.0.0/16'], origin: '--pod-cidrs' } });
  assert.equal(variable.cidrs, { podConfig: { values: ['10.1.0.0/16', '10.2.0.0/16'], origin: 'EW_POD_CIDRS' } });
  assert.throws(() => readServeConfig([], { EW_POD_CIDRS: '10.1.0.0' }), /^config: EW_POD_CIDRS: "10\.1\.0\.0" is not a CIDR$/);
});

Cidrs('cidrs and check read the same settings', async () => {
  const io = captureIo('', { EW_POD_CIDRS: '10.1.0.0/16 10.2.0.0/16' });
  assert.is(await cidrsCommand(async () => ({ none: 'no cluster selected' }))(['--service-cidrs', '172.20.0.0/16', '-o', 'json'], io), 0);
  const report = JSON.parse(io.stdout()) as { pod: { cidr: string; origin: string }[]; service: { cidr: string; origin: string }[] };
  assert.equal(
    [...report.pod, ...report.service].map((r) => `${r.cidr} ${r.origin}`),
    ['10.1.0.0/16 EW_POD_CIDRS', '10.2.0.0/16 EW_POD_CIDRS', '172.20.0.0/16 --service-cidrs'],
  );
  const check = captureIo('kind: ConfigMap\napiVersion: v1\nmetadata: {name: x}\n', { EW_POD_CIDRS: '10.2.0.0' });
  assert.is(await runCheck(['-'], check), 2);
  assert.match(check.stderr(), 'check: EW_POD_CIDRS: "10.2.0.0" is not a CIDR\nusage: egress-warden check');
});

// ---

const Preamble = suite('every command: --help and bad usage');

const COMMANDS: Record<string, Command> = {
  serve: runServe,
  check: runCheck,
  cidrs: cidrsCommand(async () => ({ none: 'no cluster selected' })),
  manifests: runManifests,
  certs: runCerts,
};

for (const [name, run] of Object.entries(COMMANDS)) {
  Preamble(`${name} prints its usage for --help and -h and exits 0`, async () => {
    for (const flag of ['--help', '-h']) {
      const io = captureIo();
      assert.is(await run([flag], io), 0);
      assert.match(io.stdout(), new RegExp(`^usage: egress-warden ${name} `));
      assert.ok(io.stdout().endsWith('\n') && !io.stdout().endsWith('\n\n'), JSON.stringify(io.stdout().slice(-20)));
      assert.is(io.stderr(), '');
    }
  });

  Preamble(`${name} refuses an unknown flag with its name, the usage and status 2`, async () => {
    const io = captureIo();
    assert.is(await run(['--frobnicate'], io), 2);
    assert.match(io.stderr(), new RegExp(`^${name}: Unknown option '--frobnicate'.*\nusage: egress-warden ${name} `));
    assert.is(io.stdout(), '');
  });
}

const Strict = suite('serve: strict updates');

Strict('serve ratchets updates by default; --strict-updates or EW_STRICT_UPDATES=true turns it off, other values are refused', () => {
  assert.is(readServeConfig([], {}).strictUpdates, false);
  assert.is(readServeConfig(['--strict-updates'], {}).strictUpdates, true);
  assert.is(readServeConfig([], { EW_STRICT_UPDATES: 'true' }).strictUpdates, true);
  assert.is(readServeConfig([], { EW_STRICT_UPDATES: 'false' }).strictUpdates, false);
  assert.throws(() => readServeConfig([], { EW_STRICT_UPDATES: 'yes' }), /EW_STRICT_UPDATES must be true or false/);
});
const Own = suite('serve: its own namespace');

Own(
  'serve takes its namespace from --namespace, then POD_NAMESPACE, then the ServiceAccount file, and otherwise leaves it to the kubeconfig',
  () => {
    const file = () => 'from-file';
    assert.is(readServeConfig(['--namespace', 'flag'], { POD_NAMESPACE: 'downward' }, file).namespace, 'flag');
    assert.is(readServeConfig([], { POD_NAMESPACE: 'downward' }, file).namespace, 'downward');
    assert.is(readServeConfig([], {}, file).namespace, 'from-file');
    assert.is(readServeConfig([], { POD_NAMESPACE: '' }, () => undefined).namespace, undefined);
  },
);

Own('outside a pod the ServiceAccount namespace file is simply absent', () => {
  assert.is(serviceAccountNamespace('/nonexistent/serviceaccount/namespace'), undefined);
});

Cidrs.run();
Own.run();
Strict.run();
Preamble.run();
