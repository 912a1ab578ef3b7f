/**
 * cdk-nag 3 (AwsSolutions and Serverless packs) over the whole app as `bin/app.ts` builds it: no unacknowledged
 * finding, CloudFormation's schema validation clean, and every acknowledgement specific (a reason
 * that says why) and load-bearing (it silences at least one real finding, so a stale one shows up).
 *
 * cdk-nag 3 is a CDK validation plugin: findings land in the cloud assembly's
 * `validation-report.json`, and in a test process (`NODE_ENV=test`) `app.synth()` throws with the
 * report when any plugin fails. We read the report rather than the exception text.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { appProps } from '../../lib/app';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, IApplyRule, NagPack, NagRuleCompliance, ServerlessChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { buildTestApp } from '../infra/fixture';

interface ReportViolation {
  ruleName: string;
  severity: string;
  violatingConstructs: { constructPath: string }[];
}
interface ValidationReport {
  pluginReports: { pluginName: string; conclusion: string; violations: ReportViolation[]; metadata?: { error?: string } }[];
}

/** Synthesizes `app` into `outdir` and returns the validation report (written even when synth fails). */
function synthAndReadReport(app: App, outdir: string): { report: ValidationReport; error?: string } {
  let error: string | undefined;
  try {
    app.synth();
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;
  return { report, error };
}

function findingsOf(report: ValidationReport): string[] {
  return report.pluginReports.flatMap((p) =>
    p.violations.flatMap((v) => v.violatingConstructs.map((c) => `${p.pluginName} ${v.severity} ${v.ruleName} at ${c.constructPath}`)),
  );
}

type RawFinding = { ruleId: string; path: string };

/** Applies a rule as the pack does, and records every finding before acknowledgements are applied. */
function recordFinding(pack: NagPack & { readonly raw: RawFinding[] }, params: IApplyRule): void {
  const ruleId = `${pack.readPackName}-${params.ruleSuffixOverride ?? params.rule.name}`;
  const record = (id: string) => pack.raw.push({ ruleId: id, path: params.node.node.path });
  try {
    const result = params.rule(params.node);
    if (result === NagRuleCompliance.NON_COMPLIANT) record(ruleId);
    else if (Array.isArray(result)) for (const finding of result) record(`${ruleId}[${finding}]`);
  } catch {
    record(ruleId);
  }
}

class RecordingAwsSolutionsChecks extends AwsSolutionsChecks {
  readonly raw: RawFinding[] = [];

  protected applyRule(params: IApplyRule): void {
    recordFinding(this, params);
    super.applyRule(params);
  }
}

class RecordingServerlessChecks extends ServerlessChecks {
  readonly raw: RawFinding[] = [];

  protected applyRule(params: IApplyRule): void {
    recordFinding(this, params);
    super.applyRule(params);
  }
}

interface Acknowledgement {
  path: string;
  id: string;
  reason: string;
}

function acknowledgementsIn(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

describe.each([
  ['the app as bin/app.ts builds it (single-account quick start)', undefined],
  ['the three-account layout (-c layout=three-accounts)', 'three-accounts'],
])('%s', (_label, layout) => {
  let outdir: string;
  let result: { report: ValidationReport; error?: string };

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'notes-nag-'));
    const { app } = buildTestApp({ nagChecks: true, cloudFormationValidation: true, outdir, layout });
    result = synthAndReadReport(app, outdir);
  });

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  test('has no unacknowledged cdk-nag AwsSolutions or Serverless finding and no template validation finding', () => {
    // Assert: the list names rule and construct, so a failure says what to fix or acknowledge.
    expect(findingsOf(result.report)).toEqual([]);
    expect(result.error).toBeUndefined();
  });

  test('no validation plugin crashed', () => {
    const failures = result.report.pluginReports.filter((p) => p.metadata?.error).map((p) => p.metadata?.error);
    expect(failures).toEqual([]);
  });
});

describe('the same wiring with one unacknowledged finding', () => {
  test('fails the synth and names the rule and the construct in the report', () => {
    // Arrange: the app as bin/app.ts builds it, plus a topic that allows publishing without TLS.
    const outdir = mkdtempSync(join(tmpdir(), 'notes-nag-bad-'));
    try {
      const { app, built } = buildTestApp({ nagChecks: true, outdir });
      new sns.Topic(built.notesStacks[0], 'UnacknowledgedTopic');

      // Act
      const { report, error } = synthAndReadReport(app, outdir);

      // Assert
      expect(findingsOf(report)).toContain('AwsSolutions error AwsSolutions-SNS3 at NotesStack-dev/UnacknowledgedTopic/Resource');
      expect(error).toMatch(/AwsSolutions-SNS3/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('the same wiring with a function the Serverless pack objects to', () => {
  test('fails the synth and names the Serverless rule and the construct', () => {
    // Arrange: the app plus a function without tracing and without a dead-letter queue.
    const outdir = mkdtempSync(join(tmpdir(), 'notes-nag-bad-fn-'));
    try {
      const { app, built } = buildTestApp({ nagChecks: true, outdir });
      new lambda.Function(built.notesStacks[0], 'UntracedFunction', {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => ({});'),
      });

      // Act
      const { report, error } = synthAndReadReport(app, outdir);

      // Assert
      const findings = findingsOf(report);
      expect(findings).toContain('Serverless error Serverless-LambdaDLQ at NotesStack-dev/UntracedFunction/Resource');
      expect(findings).toContain('Serverless warning Serverless-LambdaTracing at NotesStack-dev/UntracedFunction/Resource');
      expect(error).toMatch(/Serverless-LambdaDLQ/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('acknowledgements', () => {
  let app: App;
  let checks: { raw: RawFinding[] };
  let outdir: string;

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'notes-nag-acks-'));
    ({ app } = buildTestApp({ nagChecks: false, outdir }));
    const packs = [new RecordingAwsSolutionsChecks(app), new RecordingServerlessChecks(app)];
    Validations.of(app).addPlugins(...packs);
    synthAndReadReport(app, outdir);
    checks = { raw: packs.flatMap((p) => p.raw) };
  });

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  test('both packs found real issues before acknowledgements (the recording works)', () => {
    expect(checks.raw.some((f) => f.ruleId.startsWith('AwsSolutions-'))).toBe(true);
    expect(checks.raw.some((f) => f.ruleId.startsWith('Serverless-'))).toBe(true);
  });

  test('every acknowledgement silences at least one real finding on its construct (none is stale)', () => {
    // Arrange
    const acks = acknowledgementsIn(app);

    // Act
    const unused = acks.filter(
      (a) => !checks.raw.some((f) => f.ruleId === a.id && (f.path === a.path || f.path.startsWith(`${a.path}/`))),
    );

    // Assert
    expect(acks.length).toBeGreaterThan(0);
    expect(unused.map((a) => `${a.id} at ${a.path}`)).toEqual([]);
  });

  test('every acknowledgement gives a specific reason (a sentence or more, not a placeholder)', () => {
    for (const a of acknowledgementsIn(app)) {
      expect({ at: `${a.id} at ${a.path}`, long: a.reason.length >= 80 }).toEqual({ at: `${a.id} at ${a.path}`, long: true });
    }
  });

  test('every finding is acknowledged exactly where it occurs or on an ancestor', () => {
    const acks = acknowledgementsIn(app);
    const open = checks.raw.filter(
      (f) => !acks.some((a) => a.id === f.ruleId && (f.path === a.path || f.path.startsWith(`${a.path}/`))),
    );
    expect(open.map((f) => `${f.ruleId} at ${f.path}`)).toEqual([]);
  });

  test('the list of acknowledgements is reviewed (snapshot: rule, construct, reason)', () => {
    const listed = acknowledgementsIn(app)
      .filter((a) => a.path.startsWith('NotesStack-dev/'))
      .map((a) => `${a.id} @ ${a.path.replace(/^NotesStack-dev\//, '')}: ${a.reason}`)
      .sort();
    expect(listed).toMatchSnapshot();
  });
});

describe("CDK's template validation in the app as bin/app.ts makes it", () => {
  // A property CloudFormation's schema does not know: only the built-in validation catches it at synth.
  const synthWithBadProperty = (env: NodeJS.ProcessEnv) => {
    const outdir = mkdtempSync(join(tmpdir(), 'notes-validation-'));
    try {
      const app = new App({ ...appProps(env), outdir });
      new CfnResource(new Stack(app, 'Probe'), 'Queue', { type: 'AWS::SQS::Queue', properties: { NoSuchProperty: true } });
      app.synth();
      // No validation plugin ran: CDK writes no report at all.
      if (!existsSync(join(outdir, 'validation-report.json'))) return 'no validation report';
      const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;
      return JSON.stringify(report.pluginReports.flatMap((p) => p.violations));
    } catch (err) {
      return (err as Error).message;
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  };

  test('runs with CDK_VALIDATION=true (npm test, the pipeline\'s Build) and catches a property the schema does not know', () => {
    expect(synthWithBadProperty({ CDK_VALIDATION: 'true' })).toMatch(/NoSuchProperty/);
  });

  test('is left out of an interactive synth otherwise', () => {
    expect(synthWithBadProperty({})).toBe('no validation report');
  });
});
