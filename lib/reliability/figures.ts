/**
 * Figures from the reliability tests. When RELIABILITY_FIGURES names a file, each test appends
 * what it measured there as one JSON line; `npm run bench -- --only reliability --write` runs
 * the suite at a larger size with it set and renders docs/reliability.md from the lines.
 */
import { appendFileSync } from 'node:fs';

export interface FigureLine {
  test: string;
  at: string;
  data: Record<string, unknown>;
}

export function recordFigure(test: string, data: Record<string, unknown>): void {
  const file = process.env.RELIABILITY_FIGURES;
  if (!file) return;
  const line: FigureLine = { test, at: new Date().toISOString(), data };
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}
