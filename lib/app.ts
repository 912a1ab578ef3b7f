import { App, AppProps, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { version as packageVersion } from '../package.json';
import { AppConfig, loadConfig, loadRelease, notesStackName, ReleaseInfo } from './config';
import { acknowledgeEmailSubscriptions, acknowledgePipelineServerlessFindings } from './constructs/serverless-nag';
import { baselineGroups, baselineStackName, NotesBaselineStack } from './baseline-stack';
import { NotesStack } from './notes-stack';
import { bootstrapQualifier } from './pipeline/bootstrap';
import { NotesPipelineStack, PIPELINE_STACK_NAME } from './pipeline/pipeline-stack';

/**
 * How `bin/app.ts` makes its App. CDK's built-in CloudFormation template validation runs where
 * templates are checked before anything deploys them, `npm test` (test/nag, both layouts) and the
 * pipeline's Build synth (CDK_VALIDATION=true): it is most of an interactive synth's time, so
 * `npx cdk synth` leaves it out unless CDK_VALIDATION=true (decision log, #9). cdk-nag runs always.
 */
export function appProps(env: NodeJS.ProcessEnv = process.env): AppProps {
  return { builtinCloudFormationValidation: env.CDK_VALIDATION === 'true' };
}

export interface BuildAppOptions {
  /** Run the cdk-nag AwsSolutions and Serverless checks at synth (default true; tests of single facts turn it off). */
  readonly nagChecks?: boolean;
}

export interface BuiltApp {
  readonly config: AppConfig;
  readonly release: ReleaseInfo;
  readonly notesStacks: NotesStack[];
  /** `NotesPipeline`: release, hotfix and rollback pipelines, archive, ledger. */
  readonly pipelineStack: NotesPipelineStack;
  /** `NotesBaseline-<envs>`: one per account and region of the environments (execution policy, boundary, plan and reader roles). */
  readonly baselineStacks: NotesBaselineStack[];
}

/**
 * Builds the whole CDK app from `cdk.json` context: one `NotesStack-<env>` per configured
 * environment, one `NotesBaseline-<envs>` per account and region of them, tags, and the cdk-nag checks (AwsSolutions and Serverless). `bin/app.ts` calls this; tests call it on their own
 * `App` with their own context.
 */
export function buildApp(app: App, options: BuildAppOptions = {}): BuiltApp {
  const config = loadConfig(app.node);
  const release = loadRelease(app.node, packageVersion);

  const notesStacks = config.environments.map((environment) => {
    const stack = new NotesStack(app, notesStackName(environment), {
      config,
      environment,
      release,
      env: { account: environment.account, region: environment.region },
    });
    Tags.of(stack).add('notes:environment', environment.name);
    return stack;
  });

  // One baseline per account and region the environments deploy to, deployed by hand before `cdk bootstrap`.
  const baselineStacks = baselineGroups(config).map((environments) => {
    const stack = new NotesBaselineStack(app, baselineStackName(environments), {
      config,
      environments,
      qualifier: bootstrapQualifier(notesStacks.find((s) => s.stackName === notesStackName(environments[0]))!),
    });
    Tags.of(stack).add('notes:component', 'baseline');
    return stack;
  });

  // The pipeline stack never depends on the release identity, so its template changes only when
  // its definition does (the release pipeline's SelfUpdate step relies on that).
  const pipelineStack = new NotesPipelineStack(app, PIPELINE_STACK_NAME, {
    config,
    env: { account: config.pipeline.account, region: config.pipeline.region },
  });
  Tags.of(pipelineStack).add('notes:component', 'pipeline');
  // cdk-nag Serverless findings of constructs that do not say how they are invoked (see serverless-nag.ts).
  acknowledgePipelineServerlessFindings(pipelineStack);
  for (const stack of notesStacks) acknowledgeEmailSubscriptions(stack);

  Tags.of(app).add('notes:service', config.service);
  Tags.of(app).add('notes:managed-by', 'cdk');
  if (options.nagChecks ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { config, release, notesStacks, pipelineStack, baselineStacks };
}
