import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { textLine } from '../src/log.ts';

const Format = suite('log: --log-format text for a terminal');

Format('writes the time, the level, the message and the fields as key=value, quoting values with spaces', () => {
  const time = Date.UTC(2026, 11, 7, 5, 43, 10, 120);
  const line = textLine(
    JSON.stringify({
      level: 40,
      time,
      service: 'egress-warden',
      msg: 'informer stopped; restarting',
      informer: 'services',
      restartInMs: 1000,
      err: 'connect ECONNREFUSED 10.0.0.1:443',
    }),
  );
  assert.is(
    line,
    '05:43:10.120 WARN  informer stopped; restarting informer=services restartInMs=1000 err="connect ECONNREFUSED 10.0.0.1:443"\n',
  );
});

Format('passes a line that is not JSON through as it is', () => {
  assert.is(textLine('not json'), 'not json\n');
});

Format.run();
