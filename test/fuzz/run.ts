/**
 * `npm run fuzz -- [--cases N] [--seconds S] [--seed X] [--concurrency C] [--save DIR]`
 * posts generated AdmissionReviews to a real HTTPS server until N cases or S seconds, whichever
 * comes first, and exits 1 on any failing case, memory growth past its limits, a dead server, or
 * the caller token on the metrics page.
 * `--case I` replays case I of the seed alone and prints its body and the answer.
 */
import { parseArgs } from 'node:util';
import {
  describeFailure,
  DEFAULT_CONCURRENCY,
  DEFAULT_HEAP_GROWTH_MIB,
  DEFAULT_NATIVE_GROWTH_MIB,
  DEFAULT_WARMUP,
  fuzz,
  passed,
  replay,
  summaryLine,
} from './campaign.ts';
import { freshSeed, parseSeed } from './random.ts';

const USAGE = `usage: node --expose-gc test/fuzz/run.ts [--cases 10000] [--seconds 300] [--seed N|0xHEX] [--concurrency ${DEFAULT_CONCURRENCY}]
                                         [--warmup ${DEFAULT_WARMUP}] [--heap-growth-mib ${DEFAULT_HEAP_GROWTH_MIB}] [--native-growth-mib ${DEFAULT_NATIVE_GROWTH_MIB}]
                                         [--save DIR] [--case I]`;

function count(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new Error(`${flag} must be a whole number, got "${text}"`);
  return Number(text);
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        cases: { type: 'string' },
        seconds: { type: 'string' },
        seed: { type: 'string' },
        concurrency: { type: 'string' },
        warmup: { type: 'string' },
        'heap-growth-mib': { type: 'string' },
        'native-growth-mib': { type: 'string' },
        save: { type: 'string' },
        case: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`fuzz: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let seed: number;
  let options;
  try {
    seed = values.seed === undefined ? freshSeed() : parseSeed(values.seed);
    options = {
      seed,
      cases: count(values.cases, 10_000, '--cases'),
      seconds: count(values.seconds, 300, '--seconds'),
      concurrency: Math.max(1, count(values.concurrency, DEFAULT_CONCURRENCY, '--concurrency')),
      warmup: count(values.warmup, DEFAULT_WARMUP, '--warmup'),
      heapGrowthMiB: count(values['heap-growth-mib'], DEFAULT_HEAP_GROWTH_MIB, '--heap-growth-mib'),
      nativeGrowthMiB: count(values['native-growth-mib'], DEFAULT_NATIVE_GROWTH_MIB, '--native-growth-mib'),
      ...(values.save ? { saveDir: values.save } : {}),
    };
  } catch (e) {
    process.stderr.write(`fuzz: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }

  if (values.case !== undefined) {
    const { c, answer, why } = await replay(seed, count(values.case, 0, '--case'));
    process.stdout.write(
      `seed=${seed} case=${c.index}\nsteps: ${c.steps.join('; ')}\n${c.method} ${c.path} ${JSON.stringify(c.headers)}\n`,
    );
    process.stdout.write(
      `body (${Buffer.byteLength(c.body)} bytes): ${JSON.stringify((typeof c.body === 'string' ? c.body : c.body.toString('latin1')).slice(0, 4000))}\n`,
    );
    process.stdout.write(`answer: ${answer.ok ? `${answer.status} ${answer.body.slice(0, 2000)}` : answer.error}\n`);
    process.stdout.write(why === undefined ? 'verdict: acceptable\n' : `verdict: FAIL ${why}\n`);
    return why === undefined ? 0 : 1;
  }

  process.stdout.write(
    `fuzz seed=${seed} (replay the run with --seed ${seed}) cases=${options.cases} seconds=${options.seconds} concurrency=${options.concurrency}\n`,
  );
  if (!(globalThis as { gc?: unknown }).gc)
    process.stdout.write('fuzz: run with node --expose-gc for the memory check; enabling it at run time\n');
  const inFlight = new Set<number>();
  // The server runs in this process: if it crashes, the cases on the wire are the suspects.
  const crashed = (e: unknown) => {
    process.stdout.write(
      `fuzz seed=${seed}: the process crashed with cases ${[...inFlight].join(', ')} in flight ` +
        `(replay each with --seed ${seed} --case I)\n${(e as Error)?.stack ?? String(e)}\n`,
    );
    process.exit(1);
  };
  process.on('uncaughtException', crashed);
  process.on('unhandledRejection', crashed);
  const summary = await fuzz({ ...options, inFlight, progress: (line) => process.stdout.write(`${line}\n`) });
  for (const f of summary.failures.slice(0, 20)) process.stdout.write(`${describeFailure(seed, f)}\n`);
  if (summary.failures.length > 20) process.stdout.write(`… and ${summary.failures.length - 20} more failures\n`);
  if (!summary.memory.ok)
    process.stdout.write(
      `memory grew past its limit (heap +${summary.memory.heapLimitMiB} MiB, outside the heap +${summary.memory.nativeLimitMiB} MiB)\n`,
    );
  if (!summary.alive) process.stdout.write('the server stopped answering /healthz\n');
  if (summary.metrics.showsToken) process.stdout.write('the caller token shows on the metrics page\n');
  process.stdout.write(`${summaryLine(summary)}\n`);
  return passed(summary) ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
