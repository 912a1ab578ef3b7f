/**
 * The runbooks' AWS CLI commands paste as shown: each is on one line (or continued with `\`), in a
 * shell block or one inline code span, and names its --region (an operator's default region is
 * often not the pipelines' or the table's).
 */
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { DEFAULT_PIPELINES } from '../../lib/cli/settings';

const dir = join(__dirname, '..', '..', 'docs', 'runbooks');
const runbooks = readdirSync(dir).filter((f) => f.endsWith('.md'));

/** Every `aws ...` command: from ```sh blocks (continuation lines joined) and from inline code. */
function awsCommands(text: string): { command: string; inline: boolean }[] {
  const found: { command: string; inline: boolean }[] = [];
  for (const block of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const joined = block[1].replace(/\\\n\s*/g, ' ');
    for (const line of joined.split('\n')) if (/^\s*aws \w/.test(line)) found.push({ command: line.trim(), inline: false });
  }
  const outside = text.replace(/```[\s\S]*?```/g, '');
  for (const span of outside.matchAll(/`([^`]+)`/g)) if (/^aws \w+ [a-z-]+/.test(span[1])) found.push({ command: span[1], inline: true });
  return found;
}

describe.each(runbooks)('docs/runbooks/%s', (file) => {
  const text = readFileSync(join(dir, file), 'utf8');
  const commands = awsCommands(text);

  it('has no AWS CLI command broken across lines inside inline code', () => {
    expect(commands.filter((c) => c.inline && c.command.includes('\n')).map((c) => c.command)).toEqual([]);
  });

  it('names --region in every runnable AWS CLI command', () => {
    expect(commands.filter((c) => !c.inline && !c.command.includes('--region')).map((c) => c.command)).toEqual([]);
  });
});

it('the hotfix runbook pauses and resumes the release pipeline by its real name, in one pasteable line each', () => {
  const commands = awsCommands(readFileSync(join(dir, 'hotfix.md'), 'utf8')).filter((c) => /stage-transition/.test(c.command));

  expect(commands.map((c) => c.command.split(' ').slice(0, 3).join(' '))).toEqual([
    'aws codepipeline disable-stage-transition',
    'aws codepipeline enable-stage-transition',
  ]);
  for (const c of commands) {
    expect(c.inline).toBe(false);
    expect(c.command).toContain(`--pipeline-name ${DEFAULT_PIPELINES.release} --stage-name Prod --transition-type Inbound`);
  }
});
