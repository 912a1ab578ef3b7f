/**
 * Turns `cdk deploy --outputs-file` JSON into shell `export` lines, so the deploy action exports a
 * stack's outputs (ApiUrl, TableName, ...) as pipeline variables.
 *
 *   node bin/stack-outputs.js --file outputs.json --stack NotesStack-dev --out .pipeline/outputs.env
 * Exit code 1 (with the missing names) when the stack or one of the expected outputs is absent.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { dirname } from 'path';
import { exportLines } from './release-version';
import { runAsScript } from './run-as-script';

/** The outputs every NotesStack declares; the deploy action exports each of them. */
export const NOTES_STACK_OUTPUTS = [
  'ApiUrl',
  'UserPoolId',
  'UserPoolClientId',
  'TableName',
  'SmokeClientId',
  'SmokeTestFunctionName',
  'ServiceHealthAlarmName',
] as const;

/** Picks one stack's expected outputs from the outputs file; throws naming what is missing. */
export function stackOutputs(outputsFile: unknown, stackName: string, expected: readonly string[] = NOTES_STACK_OUTPUTS): Record<string, string> {
  const all = (typeof outputsFile === 'object' && outputsFile !== null ? outputsFile : {}) as Record<string, unknown>;
  const stack = all[stackName];
  if (typeof stack !== 'object' || stack === null) {
    throw new Error(`stack outputs: ${stackName} is not in the outputs file (found: ${Object.keys(all).join(', ') || 'nothing'})`);
  }
  const outputs = stack as Record<string, unknown>;
  const missing = expected.filter((name) => typeof outputs[name] !== 'string' || outputs[name] === '');
  if (missing.length > 0) throw new Error(`stack outputs: ${stackName} has no ${missing.join(', ')} output`);
  return Object.fromEntries(expected.map((name) => [name, outputs[name] as string]));
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

export function main(argv: string[]): number {
  const file = arg(argv, 'file');
  const stack = arg(argv, 'stack');
  const out = arg(argv, 'out') ?? '.pipeline/outputs.env';
  if (!file || !stack) {
    console.error('usage: stack-outputs --file outputs.json --stack NAME [--out FILE]');
    return 2;
  }
  try {
    const outputs = stackOutputs(JSON.parse(readFileSync(file, 'utf8')), stack);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, exportLines({ ...outputs, STACK_NAME: stack }));
    console.log(`stack outputs: ${stack} exported ${Object.keys(outputs).join(', ')}`);
    return 0;
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
}

runAsScript(module, 'stack-outputs', async (argv) => main(argv));
