/**
 * The approval text stays within CodePipeline's 1000-character limit on an action configuration
 * value once its variables are substituted, by construction: every variable is bounded where it is
 * produced, and CHANGE_SUMMARY gets the room that is left. Proven with maximal values of each.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { compactSummary } from '../../lambda/smoke-test';
import { CHECK_NAMES, type SmokeReport } from '../../lambda/smoke-test/checks';
import {
  ACTION_CONFIGURATION_VALUE_LIMIT,
  changeSummaryBudget,
  MAX_CHANGE_SUMMARY_CHARS,
  MAX_COMMIT_CHARS,
  MAX_SMOKE_SUMMARY_CHARS,
  MAX_VERSION_CHARS,
  maxSubstitutedLength,
} from '../../lib/release/approval-limits';
import { changeSummary, checkReleaseVersion, pullRequestUrl, VersionCheckError } from '../../lib/release/scripts/release-version';
import { approvalVariableMaxima } from '../../lib/pipeline/release-pipeline';
import { buildTestApp, repoConfig } from '../infra/fixture';

type Json = Record<string, unknown>;
interface Action { Name: string; ActionTypeId: { Category: string }; Configuration?: Record<string, string> }

const { built } = buildTestApp();
const stack = built.pipelineStack;
const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
const pipelineNamed = (name: string) => Object.values(resources).find((r) => r.Type === 'AWS::CodePipeline::Pipeline' && r.Properties.Name === name)!.Properties;
const approvalsOf = (name: string) =>
  (pipelineNamed(name).Stages as { Name: string; Actions: Action[] }[]).find((s) => s.Name === 'ApproveProd')!.Actions;
/** The --summary-max the pipeline's build passes to release-version.ts. */
function summaryMaxOf(pipeline: typeof stack.releasePipeline): number {
  const spec = String((resources[stack.getLogicalId(pipeline.buildProject.node.defaultChild as never)].Properties.Source as Json).BuildSpec);
  return Number(/--summary-max (\d+)/.exec(spec)![1]);
}

const { owner, repo } = repoConfig().pipeline.source;
const emptyLedger = { getRelease: async () => undefined, currentVersion: async () => undefined };

/** The longest value each variable can really take, each made by the code that produces it. */
async function maximalValues(summaryMax: number): Promise<Record<string, string>> {
  const version = `1.2.3-${'a'.repeat(MAX_VERSION_CHARS - 6)}`;
  await checkReleaseVersion({ version, kind: 'release', ledger: emptyLedger, tagExists: false }); // accepted
  const report: SmokeReport = {
    passed: true,
    checks: CHECK_NAMES.map((name) => ({ name, passed: true, ms: 9_999_999 })),
    summary: 'Smoke test passed',
    cleanup: { created: [], leftBehind: [] },
    apiUrl: 'https://abcdefghij.execute-api.eu-west-1.amazonaws.com/v1/',
    totalMs: 99_999_999,
  };
  return {
    VERSION: version,
    COMMIT: 'f'.repeat(MAX_COMMIT_CHARS),
    CHANGE_SUMMARY: changeSummary(Array.from({ length: 200 }, (_, i) => `a long commit subject number ${i} that goes on and on`), 'v1.2.2', summaryMax),
    PR_URL: pullRequestUrl('Merge pull request #999999999 from someone/branch', owner, repo)!,
    SMOKE_SUMMARY: compactSummary(report),
    ApiUrl: `https://abcdefghij.execute-api.${'eu-west-1'}.amazonaws.com.cn/v1/`,
  };
}
const substitute = (text: string, values: Record<string, string>) => text.replace(/#\{[A-Za-z0-9@\-_]+\.([A-Za-z0-9@\-_]+)\}/g, (_, name: string) => values[name]);

describe('approval text length', () => {
  test.each([
    ['notes-release', () => stack.releasePipeline],
    ['notes-hotfix', () => stack.hotfixPipeline],
  ])('every approval of %s stays within 1000 characters with every variable at its longest', async (name, pipelineOf) => {
    // Arrange
    const summaryMax = summaryMaxOf(pipelineOf());
    const values = await maximalValues(summaryMax);
    expect(values.CHANGE_SUMMARY).toHaveLength(summaryMax);
    expect(values.SMOKE_SUMMARY.length).toBe(MAX_SMOKE_SUMMARY_CHARS);

    for (const approval of approvalsOf(name)) {
      // Act
      const text = substitute(approval.Configuration!.CustomData, values);

      // Assert
      expect(text).not.toContain('#{');
      expect(text.length).toBeLessThanOrEqual(ACTION_CONFIGURATION_VALUE_LIMIT);
    }
  });

  test('the change summary gets all the room that is left (one character more would not fit), up to its own cap', async () => {
    const summaryMax = summaryMaxOf(stack.releasePipeline);
    const longest = Math.max(...approvalsOf('notes-release').map((a) => maxSubstitutedLength(a.Configuration!.CustomData, { ...approvalVariableMaxima(owner, repo, [{ region: 'eu-west-1' }]), CHANGE_SUMMARY: summaryMax + 1 })));
    expect(summaryMax === MAX_CHANGE_SUMMARY_CHARS || longest > ACTION_CONFIGURATION_VALUE_LIMIT).toBe(true);
  });

  test('each variable is bounded where it is produced', async () => {
    // a version one character too long is refused by the version check
    const tooLong = `1.2.3-${'a'.repeat(MAX_VERSION_CHARS - 5)}`;
    await expect(checkReleaseVersion({ version: tooLong, kind: 'release', ledger: emptyLedger, tagExists: false })).rejects.toThrow(VersionCheckError);
    // a ten-digit pull request number is not recognised
    expect(pullRequestUrl('Merge pull request #1234567890 from a/b', owner, repo)).toBeUndefined();
    // a smoke summary of checks with long details is cut
    const report: SmokeReport = {
      passed: false,
      checks: [{ name: 'health', passed: false, ms: 1, detail: 'x'.repeat(5000) }],
      summary: `Smoke test FAILED at health: ${'x'.repeat(5000)}`,
      cleanup: { created: [], leftBehind: [] },
      apiUrl: 'https://example.com/',
      totalMs: 1,
    };
    expect(compactSummary(report).length).toBe(MAX_SMOKE_SUMMARY_CHARS);
  });

  test('a configuration whose approval text leaves too little room for the change summary fails at synth, saying why', () => {
    // Arrange: four pre-production environments, each quoted with its smoke summary and API URL
    const cfg = repoConfig();
    const dev = cfg.environments.find((e) => e.name === 'dev')!;
    const notes = { ...cfg, environments: [...['dev', 'test', 'qa', 'staging'].map((n) => ({ ...dev, name: n })), ...cfg.environments.filter((e) => e.kind === 'production')] };

    // Act / Assert
    expect(() => buildTestApp({ notes })).toThrow(/leaves -?\d+ characters for CHANGE_SUMMARY \(at least 80 needed\) within CodePipeline's 1000-character limit/);
  });

  test('an unknown variable in an approval text has no maximum and is refused', () => {
    expect(() => maxSubstitutedLength('x #{Build.SOMETHING}', {})).toThrow('no maximum length is known for #{Build.SOMETHING}');
    expect(() => changeSummaryBudget(['no summary here'], {})).toThrow('must quote CHANGE_SUMMARY exactly once (found 0)');
  });
});
