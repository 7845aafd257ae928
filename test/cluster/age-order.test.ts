import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AgeOrder } from '../../src/cluster/age-order.ts';
import { compact, sameRecord } from '../../src/cluster/indexes.ts';

const Order = suite('cluster/age-order and sameRecord: what read-your-writes keeps per pending write');

const drain = (order: AgeOrder<string>, links: Map<string, ReturnType<AgeOrder<string>['push']>>): string[] => {
  const out: string[] = [];
  for (let e = order.oldest; e !== undefined; e = order.oldest) {
    out.push(e);
    order.remove(links.get(e)!);
  }
  return out;
};

Order('a renewed entry becomes the newest, the others keep their order, and the count stays', () => {
  const order = new AgeOrder<string>();
  const links = new Map(['a', 'b', 'c'].map((e) => [e, order.push(e)]));
  order.renew(links.get('c')!); // already the newest: nothing moves
  order.renew(links.get('a')!);
  assert.is(order.size, 3);
  assert.is(order.oldest, 'b');
  order.renew(links.get('b')!);
  assert.equal(drain(order, links), ['c', 'a', 'b']);
  assert.is(order.size, 0);
});

Order('an entry renewed while alone stays the oldest and the newest', () => {
  const order = new AgeOrder<string>();
  const links = new Map([['a', order.push('a')]]);
  order.renew(links.get('a')!);
  links.set('b', order.push('b'));
  assert.equal(drain(order, links), ['a', 'b']);
});

const serviceEntry = (ports: { name: string; number: number; protocol: string }[], hosts = ['api.example.com']) =>
  compact({
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: 'api', namespace: 'shop' },
    spec: { hosts, ports, resolution: 'DNS' },
  });

Order('two compactions of one ServiceEntry are the same record, and a change anywhere in it is seen', () => {
  const ports = [
    { name: 'https', number: 443, protocol: 'HTTPS' },
    { name: 'http', number: 80, protocol: 'HTTP' },
  ];
  assert.ok(sameRecord(serviceEntry(ports), serviceEntry(structuredClone(ports))));
  assert.not.ok(sameRecord(serviceEntry(ports), serviceEntry([ports[0]!, { ...ports[1]!, number: 8080 }])));
  assert.not.ok(sameRecord(serviceEntry(ports), serviceEntry(ports, ['api.example.com', 'other.example.com'])));
  assert.not.ok(sameRecord(serviceEntry(ports), serviceEntry(ports.slice(0, 1))));
});

Order.run();
