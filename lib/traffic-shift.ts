/**
 * What the stack, the deploy steps and the rollback agree on about traffic shifting: the name of
 * the CloudFormation parameter that picks the CodeDeploy deployment configuration of the notes API's
 * `live` alias, the configuration a rollback uses, and how an environment's strategy maps to a
 * configuration name. No CDK here: the build scripts and the rollback kit read it too.
 */
import type { DeploymentStrategy } from './config';

/** The NotesStack parameter naming the deployment configuration (`--parameters NotesStack-prod:DeploymentConfig=...`). */
export const DEPLOYMENT_CONFIG_PARAMETER = 'DeploymentConfig';
/** What a rollback deploys with: the previous version serves everything at once, no canary. */
export const ALL_AT_ONCE_CONFIG = 'CodeDeployDefault.LambdaAllAtOnce';
/** The alias API Gateway invokes; CodeDeploy shifts it between versions. */
export const LIVE_ALIAS = 'live';

/** CodeDeploy's predefined Lambda configurations (https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html). */
const PREDEFINED: Record<string, string> = {
  'canary 10 5': 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
  'canary 10 10': 'CodeDeployDefault.LambdaCanary10Percent10Minutes',
  'canary 10 15': 'CodeDeployDefault.LambdaCanary10Percent15Minutes',
  'canary 10 30': 'CodeDeployDefault.LambdaCanary10Percent30Minutes',
  'linear 10 1': 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute',
  'linear 10 2': 'CodeDeployDefault.LambdaLinear10PercentEvery2Minutes',
  'linear 10 3': 'CodeDeployDefault.LambdaLinear10PercentEvery3Minutes',
  'linear 10 10': 'CodeDeployDefault.LambdaLinear10PercentEvery10Minutes',
};

export interface DeploymentConfigChoice {
  /** The configuration's name, e.g. `CodeDeployDefault.LambdaCanary10Percent5Minutes` or `notes-prod-canary-20pct-3min`. */
  name: string;
  /** False when the stack must create it (a percent or interval CodeDeploy has no predefined configuration for). */
  predefined: boolean;
}

/** The deployment configuration of a strategy: CodeDeploy's predefined one when it exists, else one named after the environment. */
export function deploymentConfigFor(namePrefix: string, strategy: DeploymentStrategy): DeploymentConfigChoice {
  if (strategy.type === 'all-at-once') return { name: ALL_AT_ONCE_CONFIG, predefined: true };
  const predefined = PREDEFINED[`${strategy.type} ${strategy.percent} ${strategy.minutes}`];
  if (predefined) return { name: predefined, predefined: true };
  return { name: `${namePrefix}-${strategy.type}-${strategy.percent}pct-${strategy.minutes}min`, predefined: false };
}

/** A strategy in words, e.g. `canary: 10% for 5 minutes, then all`. */
export function describeStrategy(strategy: DeploymentStrategy): string {
  switch (strategy.type) {
    case 'all-at-once':
      return 'all at once';
    case 'canary':
      return `canary: ${strategy.percent}% for ${strategy.minutes} minute${strategy.minutes === 1 ? '' : 's'}, then all`;
    case 'linear':
      return `linear: ${strategy.percent}% more every ${strategy.minutes} minute${strategy.minutes === 1 ? '' : 's'}`;
  }
}
