import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { main, NOTES_STACK_OUTPUTS, stackOutputs } from '../../lib/pipeline/scripts/stack-outputs';

const complete = Object.fromEntries(NOTES_STACK_OUTPUTS.map((n) => [n, `${n}-value`]));

describe('deploy step: stack outputs as pipeline variables', () => {
  test('exports every NotesStack output of the deployed stack', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outputs-'));
    writeFileSync(join(dir, 'outputs.json'), JSON.stringify({ 'NotesStack-dev': { ...complete, ApiUrl: 'https://x.example/prod/' } }));

    const code = main(['--file', join(dir, 'outputs.json'), '--stack', 'NotesStack-dev', '--out', join(dir, 'out.env')]);

    expect(code).toBe(0);
    const printed = execFileSync('sh', ['-c', `. '${join(dir, 'out.env')}'; printf '%s %s' "$ApiUrl" "$STACK_NAME"`], { encoding: 'utf8' });
    expect(printed).toBe('https://x.example/prod/ NotesStack-dev');
    expect(readFileSync(join(dir, 'out.env'), 'utf8')).toContain("export SmokeTestFunctionName='SmokeTestFunctionName-value'");
  });

  test('fails naming the missing output', () => {
    const partial = Object.fromEntries(Object.entries(complete).filter(([name]) => name !== 'TableName'));

    expect(() => stackOutputs({ 'NotesStack-dev': partial }, 'NotesStack-dev')).toThrow('stack outputs: NotesStack-dev has no TableName output');
  });

  test('fails naming the stack when the deploy wrote another one', () => {
    expect(() => stackOutputs({ 'NotesStack-prod': complete }, 'NotesStack-dev')).toThrow('NotesStack-dev is not in the outputs file (found: NotesStack-prod)');
  });
});
