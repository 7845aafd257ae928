import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadStateDir, visitStateDir } from '../../src/cluster/state-dir.ts';

const folder = (files: Record<string, string>): string => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-state-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
};
const names = (objects: readonly { kind?: string; metadata?: { name?: string } }[]) => objects.map((o) => `${o.kind}/${o.metadata?.name}`);

const State = suite('cluster/state-dir');

State('walks a folder recursively in name order and reads YAML, multi-document YAML and JSON', () => {
  const dir = folder({
    'b.yaml':
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\n',
    'a/egress.json': JSON.stringify({
      apiVersion: 'policy.openservicemesh.io/v1alpha1',
      kind: 'Egress',
      metadata: { name: 'db', namespace: 'shop' },
    }),
    'a/deeper/se.yml': 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: gh, namespace: shop}\n',
    'README.md': '# not read',
    '.hidden/x.yaml': 'not: read',
    '.yamllint.yml': 'rules: {}',
  });
  const s = loadStateDir(dir);
  assert.equal(s.errors, []);
  assert.is(s.files, 3);
  assert.equal(names(s.objects), ['ServiceEntry/gh', 'Egress/db', 'Namespace/shop', 'Service/api']);
  assert.equal(
    s.located.map((l) => `${l.file.slice(dir.length + 1)}:${l.line}`),
    ['a/deeper/se.yml:1', 'a/egress.json:1', 'b.yaml:1', 'b.yaml:5'],
  );
});

State('orders names by bytes, not by locale, so every machine loads the same objects in the same order', () => {
  const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}}\n`;
  const dir = folder({ 'b.yaml': ns('b'), 'B.yaml': ns('upper-b'), 'a.yaml': ns('a'), '_x.yaml': ns('underscore'), 'Z/z.yaml': ns('z') });
  assert.equal(names(loadStateDir(dir).objects), [
    'Namespace/upper-b',
    'Namespace/z',
    'Namespace/underscore',
    'Namespace/a',
    'Namespace/b',
  ]);
});

State('expands List kinds, filling in the kind of items in typed lists', () => {
  const dir = folder({
    'list.yaml': 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n',
    'typed.yaml':
      'apiVersion: networking.istio.io/v1\nkind: ServiceEntryList\nitems:\n- metadata: {name: gh, namespace: shop}\n  spec: {hosts: [github.com]}\n',
  });
  const s = loadStateDir(dir);
  assert.equal(s.errors, []);
  assert.equal(
    s.objects.map((o) => `${o.apiVersion} ${o.kind}/${o.metadata?.name}`),
    ['v1 Namespace/a', 'networking.istio.io/v1 ServiceEntry/gh'],
  );
});

State('names the file and line of YAML that does not parse and of documents and list items that are not objects', () => {
  const dir = folder({
    'bad.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: [unclosed\n',
    'list.yaml': 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: listed}\n- just: an item\n',
    'loose.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\njust: a map\n',
  });
  const s = loadStateDir(dir);
  assert.is(s.errors.length, 3);
  assert.match(s.errors[0]!, new RegExp(`^${join(dir, 'bad.yaml')}:\\d+: `));
  assert.is(s.errors[1], `${join(dir, 'list.yaml')}:7: items[1]: not a Kubernetes object (apiVersion and kind are required)`);
  assert.is(s.errors[2], `${join(dir, 'loose.yaml')}:5: not a Kubernetes object (apiVersion and kind are required)`);
  assert.equal(names(s.objects), ['Namespace/listed', 'Namespace/ok']);
});

State('reads a single file as well as a folder, and reports a path that does not exist', () => {
  const dir = folder({ 'one.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: solo}\n' });
  assert.equal(names(loadStateDir(join(dir, 'one.yaml')).objects), ['Namespace/solo']);
  assert.equal(loadStateDir(join(dir, 'missing')).errors, [`${join(dir, 'missing')}: no such file or directory`]);
});

State('refuses a state set over its limits by name, and reads none of the files past the limit in all', () => {
  const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}}\n`;
  const dir = folder({ 'a.yaml': ns('first'), 'b.yaml': ns('second'), 'c.yaml': ns('third') });
  const s = loadStateDir(dir, { fileBytes: 1000, totalBytes: 100, documents: 1000 });
  assert.equal(names(s.objects), ['Namespace/first']);
  assert.equal(s.errors, [
    `${join(dir, 'b.yaml')}: not read: 56 bytes here and 55 bytes before this file, over the limit of 100 bytes in all; the file after it was not read either`,
  ]);
});

State('serve visits the objects file by file, in the same order and with the same problems as a full read', () => {
  const dir = folder({
    'a.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: first}\n---\njust: a map\n',
    'b.json': JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'second' } }],
    }),
  });
  const seen: { kind?: string; metadata?: { name?: string } }[] = [];
  const visited = visitStateDir(dir, (o) => void seen.push(o));
  const whole = loadStateDir(dir);
  assert.equal(names(seen), names(whole.objects));
  assert.is(visited.objects, 2);
  assert.is(visited.files, 2);
  assert.equal(visited.errors, whole.errors);
  assert.is(visited.errors.length, 1);
});

State.run();
