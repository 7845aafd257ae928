import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { shortenLine } from '../../src/review/line.ts';

const Line = suite('review/line: one finding on one line');

Line('leaves a line that fits alone, on one line', () => {
  assert.is(
    shortenLine('[EW103] spec.workloadSelector: selects every workload', 120),
    '[EW103] spec.workloadSelector: selects every workload',
  );
  assert.is(shortenLine('[EW103] p: two\nlines', 120), '[EW103] p: two lines');
});

Line("cuts a long host in its middle and keeps the field, the other object's name and the fix whole", () => {
  const line =
    '[EW404] spec.ports[0].protocol: payments-gateway.internal.eu-west-1.example.com:443 is TLS here but shop/legacy (HTTP); use one protocol';
  const short = shortenLine(line, 120);
  assert.ok(short.length <= 120, `${short.length}: ${short}`);
  assert.match(
    short,
    /^\[EW404\] spec\.ports\[0\]\.protocol: payments-gateway\.…1\.example\.com:443 is TLS here but shop\/legacy \(HTTP\); use one protocol$/,
  );
});

Line('when the name and the fix leave little room, gives up the middle before the name rather than the name', () => {
  const line =
    '[EW404] spec.ports[0].protocol: payments-gateway.internal.eu-west-1.example.com:443 is TLS here but shop/payments-legacy (HTTP); Istio keeps one: use one protocol or narrow exportTo';
  const short = shortenLine(line, 120);
  assert.ok(short.length <= 120, `${short.length}: ${short}`);
  assert.ok(short.startsWith('[EW404] spec.ports['), short);
  assert.ok(short.endsWith(' shop/payments-legacy (HTTP); Istio keeps one: use one protocol or narrow exportTo'), short);
});

Line("keeps the other object's name and the fix when only short words are left to cut", () => {
  const line = `[EW404] spec.ports[0].protocol: ${'a b c d e f g h '.repeat(8)}but shop/other (HTTP); Istio keeps one: use one protocol or narrow exportTo`;
  const short = shortenLine(line, 120);
  assert.ok(short.length <= 120, short);
  assert.ok(short.startsWith('[EW404] spec.ports'), short);
  assert.ok(short.endsWith('shop/other (HTTP); Istio keeps one: use one protocol or narrow exportTo'), short);
});

Line('keeps the field whole when the name and the fix leave room for it', () => {
  const field = 'spec.http[12].route[3].destination.port.number:';
  const line = `[EW425] ${field} ${'several short words here '.repeat(6)}as in shop/other; use another port`;
  const short = shortenLine(line, 120);
  assert.ok(short.length <= 120, short);
  assert.ok(short.startsWith(`[EW425] ${field} several`), short);
  assert.ok(short.endsWith('as in shop/other; use another port'), short);
});

Line('cuts names of objects only when nothing else is left, and then in their middle', () => {
  const name = `shop/${'x'.repeat(60)}-end`;
  const short = shortenLine(`[EW405] spec.ports[0]: captured by ${name}`, 60);
  assert.ok(short.length <= 60, short);
  assert.ok(short.includes('shop/x') && short.endsWith('x-end'), short);
});

Line('never returns more than the limit', () => {
  for (const max of [10, 40, 120]) {
    for (const line of ['x'.repeat(300), `[EW103] p: ${'word '.repeat(80)}`, `[EW1] ${'a/b '.repeat(90)}; fix it`]) {
      assert.ok(shortenLine(line, max).length <= max, `${max}: ${shortenLine(line, max)}`);
    }
  }
});

Line.run();
