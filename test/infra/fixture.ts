/**
 * Builds the CDK app the way `bin/app.ts` does, with the context from `cdk.json` (feature flags and
 * the `notes` configuration), a fixed release identity so that templates are reproducible, and
 * optionally a configuration override.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, BuiltApp } from '../../lib/app';
import type { AppConfig } from '../../lib/config';

export const REPO_ROOT = join(__dirname, '..', '..');
export const TEST_RELEASE = { version: '1.2.3', commit: '0123456789abcdef0123456789abcdef01234567' };

export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  return cdkJson.context;
}

export function repoConfig(layout?: string): AppConfig {
  return cdkJsonContext()[layout ? `notes:${layout}` : 'notes'] as AppConfig;
}

export interface TestApp {
  app: App;
  built: BuiltApp;
  /** The template of `NotesStack-<env>`. */
  template(envName: string): Template;
}

export interface TestAppOptions {
  /** Replaces the `notes` configuration from cdk.json. */
  notes?: unknown;
  /** Selects a layout of cdk.json (`three-accounts` reads `notes:three-accounts`), as `-c layout=<name>` does. */
  layout?: string;
  context?: Record<string, unknown>;
  /** Run the cdk-nag AwsSolutions pack (default false). */
  nagChecks?: boolean;
  /** Run CDK's built-in CloudFormation schema validation (default false: it is most of the synth time). */
  cloudFormationValidation?: boolean;
  outdir?: string;
}

/**
 * Lambda bundling is skipped (`aws:cdk:bundling-stacks: []`): asset hashes are masked in snapshots
 * and no test reads bundle contents, and it saves about a second per app. `npm run synth` and the
 * pipeline's build bundle for real.
 */
export function buildTestApp(options: TestAppOptions = {}): TestApp {
  const context: Record<string, unknown> = {
    ...cdkJsonContext(),
    'aws:cdk:bundling-stacks': [],
    releaseVersion: TEST_RELEASE.version,
    commitSha: TEST_RELEASE.commit,
    ...(options.notes !== undefined ? { notes: options.notes } : {}),
    ...(options.layout !== undefined ? { layout: options.layout } : {}),
    ...options.context,
  };
  const app = new App({ context, outdir: options.outdir, builtinCloudFormationValidation: options.cloudFormationValidation ?? false });
  const built = buildApp(app, { nagChecks: options.nagChecks ?? false });
  const cache = new Map<string, Template>();
  return {
    app,
    built,
    template(envName: string): Template {
      let t = cache.get(envName);
      if (!t) {
        const stack = built.notesStacks.find((s) => s.stackName === `NotesStack-${envName}`);
        if (!stack) throw new Error(`no NotesStack-${envName} in the app`);
        t = Template.fromStack(stack);
        cache.set(envName, t);
      }
      return t;
    },
  };
}
