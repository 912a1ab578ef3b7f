/**
 * The CDK bootstrap stack (`cdk bootstrap`) as deployed by the CLI version this repository pins:
 * its template is read from `node_modules/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml` (the
 * template `cdk bootstrap` deploys; `cdk bootstrap --show-template` prints the same file), resolved
 * for one account, region and qualifier. The deploy, file-publishing and lookup roles' trust
 * policies and permissions come from there, not from a copy.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnTemplate, ResolvedStack } from './cfn';

// js-yaml (a dev dependency) has no bundled types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as {
  Type: new (tag: string, opts: { kind: 'scalar' | 'sequence' | 'mapping'; construct: (data: unknown) => unknown }) => unknown;
  DEFAULT_SCHEMA: { extend(types: unknown[]): unknown };
  load(text: string, opts: { schema: unknown }): unknown;
};

export const BOOTSTRAP_TEMPLATE_PATH = join(__dirname, '..', '..', '..', 'node_modules', 'aws-cdk', 'lib', 'api', 'bootstrap', 'bootstrap-template.yaml');

/** CloudFormation's short-form tags (`!Sub`, `!Ref`, ...) as their long forms. */
function cfnSchema(): unknown {
  const fns = ['Sub', 'Join', 'Select', 'Split', 'If', 'Equals', 'Not', 'And', 'Or', 'FindInMap', 'GetAZs', 'Base64', 'ImportValue', 'Cidr'];
  const types: unknown[] = [];
  for (const kind of ['scalar', 'sequence', 'mapping'] as const) {
    for (const fn of fns) types.push(new yaml.Type(`!${fn}`, { kind, construct: (data) => ({ [`Fn::${fn}`]: data }) }));
    types.push(new yaml.Type('!Ref', { kind, construct: (data) => ({ Ref: data }) }));
    types.push(new yaml.Type('!Condition', { kind, construct: (data) => ({ Condition: data }) }));
    types.push(
      new yaml.Type('!GetAtt', { kind, construct: (data) => ({ 'Fn::GetAtt': typeof data === 'string' ? data.split(/\.(.+)/).slice(0, 2) : data }) }),
    );
  }
  return yaml.DEFAULT_SCHEMA.extend(types);
}

let template: CfnTemplate | undefined;

export function bootstrapTemplate(): CfnTemplate {
  template ??= yaml.load(readFileSync(BOOTSTRAP_TEMPLATE_PATH, 'utf8'), { schema: cfnSchema() }) as CfnTemplate;
  return template;
}

/**
 * What `cdk bootstrap` sets beyond the template's defaults: `--trust` is `TrustedAccounts`,
 * `--trust-for-lookup` `TrustedAccountsForLookup`, `--cloudformation-execution-policies`
 * `CloudFormationExecutionPolicies` (each a comma-separated list).
 */
export interface BootstrapParameters {
  readonly TrustedAccounts?: string;
  readonly TrustedAccountsForLookup?: string;
  readonly CloudFormationExecutionPolicies?: string;
}

/** The bootstrap stack (`CDKToolkit`) of one environment, resolved with the template's defaults, this qualifier and these parameters. */
export function bootstrapStack(account: string, region: string, qualifier: string, parameters: BootstrapParameters = {}): ResolvedStack {
  const given = Object.fromEntries(Object.entries(parameters).filter((e): e is [string, string] => e[1] !== undefined));
  return new ResolvedStack(bootstrapTemplate(), { stackName: 'CDKToolkit', account, region, parameters: { ...given, Qualifier: qualifier } });
}

/** Logical ids of the bootstrap roles `cdk deploy` may assume. */
export const BOOTSTRAP_ROLES = {
  deploy: 'DeploymentActionRole',
  filePublishing: 'FilePublishingRole',
  imagePublishing: 'ImagePublishingRole',
  lookup: 'LookupRole',
  cloudFormationExecution: 'CloudFormationExecutionRole',
} as const;
