import { execFileSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { main, NOTES_STACK_OUTPUTS, stackOutputs } from '../../lib/release/scripts/stack-outputs';

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

  test('an output with an empty value counts as missing', () => {
    expect(() => stackOutputs({ 'NotesStack-dev': { ...complete, ApiUrl: '' } }, 'NotesStack-dev')).toThrow('stack outputs: NotesStack-dev has no ApiUrl output');
  });

  test('as a build command: exit 1 naming the missing output, and no variables file for the next step', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outputs-'));
    const partial = Object.fromEntries(Object.entries(complete).filter(([name]) => name !== 'SmokeClientId'));
    writeFileSync(join(dir, 'outputs.json'), JSON.stringify({ 'NotesStack-dev': partial }));
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);

    const code = main(['--file', join(dir, 'outputs.json'), '--stack', 'NotesStack-dev', '--out', join(dir, 'out.env')]);

    expect(code).toBe(1);
    expect(errors).toHaveBeenCalledWith('stack outputs: NotesStack-dev has no SmokeClientId output');
    expect(existsSync(join(dir, 'out.env'))).toBe(false);
    errors.mockRestore();
  });

  test('fails naming the stack when the deploy wrote another one', () => {
    expect(() => stackOutputs({ 'NotesStack-prod': complete }, 'NotesStack-dev')).toThrow('NotesStack-dev is not in the outputs file (found: NotesStack-prod)');
  });
});
