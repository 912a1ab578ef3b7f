/**
 * `npm run bench` closes with the two ratios issue #9 sets goals for, each against its floor from
 * the same run, and the synth and throughput sections of docs/benchmarks.md open with them.
 */
import { headlineRatios, renderFigures, type Figures } from '../../lib/bench/report';
import type { HttpFigures } from '../../lib/bench/http-bench';

const http = (rps: number): HttpFigures => ({ rps, p50: 1, p99: 2, mean: 1, requests: rps * 10, non2xx: 0, errors: 0 });
const machine: Figures['machine'] = { date: '2026-12-01T08:00:00.000Z', cores: 2, model: 'test cpu', memGiB: 24, node: 'v22.0.0', platform: 'linux' };

test('the synth ratio is the app against the empty app of the same run, with the goal and whether it is met', () => {
  const lines = headlineRatios({ synth: { app: { ms: 7500, ok: true }, floor: { ms: 5000, ok: true } } });

  expect(lines.synth).toBe('Synth ratio: 1.50x the empty CDK app (7.5 s against 5.0 s, same run; goal at most 1.60x: goal met)');
  expect(lines.throughput).toBeUndefined();
});

test('a synth over the goal says so', () => {
  expect(headlineRatios({ synth: { app: { ms: 9000, ok: true }, floor: { ms: 5000, ok: true } } }).synth).toMatch(/^Synth ratio: 1\.80x .*goal not met\)$/);
});

test('a failed synth gives no ratio but the reason', () => {
  expect(headlineRatios({ synth: { app: { ms: 1, ok: false, error: 'boom' }, floor: { ms: 5000, ok: true } } }).synth).toBe('Synth ratio: not measured (synth failed: boom)');
});

test('the throughput ratio is the local API against the SDK floor of the same run', () => {
  const lines = headlineRatios({ throughput: { api: http(600), dynalite: http(5000), sdk: http(1000), seconds: 10, connections: 10 } });

  expect(lines.throughput).toBe(
    'Throughput ratio: 0.60x the SDK floor (local API 600 req/s against 1000 req/s for GetCommand alone on dynalite, same run; goal at least 0.70x: goal not met)',
  );
});

test('the generated sections open with their ratio', () => {
  const md = renderFigures({
    machine,
    synth: { app: { ms: 6000, ok: true }, floor: { ms: 5000, ok: true } },
    throughput: { api: http(800), dynalite: http(5000), sdk: http(1000), seconds: 10, connections: 10 },
  });

  expect(md).toContain('**Synth ratio: 1.20x the empty CDK app');
  expect(md).toContain('**Throughput ratio: 0.80x the SDK floor');
});
