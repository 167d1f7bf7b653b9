// Micro-benchmark of pick() per method, for 3 and 20 servers: not a test (no
// timing is asserted anywhere), a number for the lead to report. Run:
//   node packages/gateway/src/upstream/balancer/bench.ts
// In-flight counts are fixed small values so least-connections, p2c and ewma
// compare real loads; hash gets a client-IP-like key each pick (hashing the key
// is part of its cost). Default options, so Math.random and performance.now as
// in production. Each method runs in its own process: one after another in one
// process, the pick() call site would see seven classes and V8 would stop
// inlining it. "update ms" is one update() with changed weights (a slow-start
// step), which for hash rebuilds the ring.
import { execFileSync } from 'node:child_process';
import { createBalancer, BALANCE_METHODS, type BalanceMethod } from './index.ts';
import { seededRandom } from './seeded-random.ts';

const PICKS = 2_000_000;

function serversOf(n: number) {
  return Array.from({ length: n }, (_, i) => ({ id: `10.0.0.${i + 1}:8080`, weight: 1 + (i % 3), inflight: i % 4 }));
}

function keysOf(n: number): string[] {
  const random = seededRandom(9);
  return Array.from({ length: n }, () => Array.from({ length: 4 }, () => Math.floor(random() * 256)).join('.'));
}

function nsPerPick(method: BalanceMethod, n: number, keys: string[]): number {
  const b = createBalancer(method);
  b.update(serversOf(n));
  const mask = keys.length - 1;
  let sink = 0;
  const run = (count: number) => {
    for (let i = 0; i < count; i++) sink += b.pick({ key: keys[i & mask]! })!.weight;
  };
  run(PICKS / 4); // warm-up: let the JIT settle
  const start = process.hrtime.bigint();
  run(PICKS);
  const ns = Number(process.hrtime.bigint() - start) / PICKS;
  if (sink === -1) console.log(sink); // keep the loop observable
  return ns;
}

function msPerUpdate(method: BalanceMethod, n: number): number {
  const b = createBalancer(method);
  const a = serversOf(n);
  const c = a.map((s) => ({ ...s, weight: s.weight + 1 }));
  b.update(a);
  const rounds = 50;
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) b.update(i % 2 ? a : c);
  return Number(process.hrtime.bigint() - start) / rounds / 1e6;
}

const only = process.argv[2] as BalanceMethod | undefined;
if (only) {
  const keys = keysOf(4096);
  for (const n of [3, 20]) {
    const ns = nsPerPick(only, n, keys);
    console.log(`${only.padEnd(22)} ${String(n).padStart(7)}  ${ns.toFixed(1).padStart(7)}  ${msPerUpdate(only, n).toFixed(3).padStart(9)}`);
  }
} else {
  console.log(`node ${process.version}, ${PICKS} picks per row`);
  console.log('method                 servers  ns/pick  update ms');
  for (const method of BALANCE_METHODS) process.stdout.write(execFileSync(process.execPath, [import.meta.filename, method]));
}
