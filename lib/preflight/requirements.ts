/**
 * What the app needs from each AWS account and region, learnt from the app itself: the CDK app is
 * synthesized (without bundling, into a temporary directory) exactly as `cdk.json` configures it,
 * and every stack says which bootstrap qualifier its synthesizer uses and which bootstrap stack
 * version its cloud assembly requires. Nothing here touches AWS.
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, DefaultStackSynthesizer } from 'aws-cdk-lib';
import { CfnManagedPolicy } from 'aws-cdk-lib/aws-iam';
import { AssetManifestArtifact } from 'aws-cdk-lib/cx-api';
import { buildApp } from '../app';
import { AppConfig, configFromContext, notesStackName, ownsApiGatewayAccountSettings } from '../config';

/** The CDK CLI's default bootstrap stack name (`cdk bootstrap --toolkit-stack-name`). */
export const DEFAULT_TOOLKIT_STACK = 'CDKToolkit';

/** One account and region the app deploys to, with what its bootstrap must provide. */
export interface Target {
  /** Undefined: the account of the credentials (cdk.json names none). */
  account?: string;
  region: string;
  /** The app's stacks deployed here. */
  stacks: string[];
  /** Whether any NotesStack deploys here (API Gateway, a notes table). */
  hostsEnvironments: boolean;
  /** Whether NotesPipeline deploys here. */
  hostsPipeline: boolean;
  /** The bootstrap qualifier the stacks' synthesizer uses. */
  qualifier: string;
  /** The lowest bootstrap stack version the assembly accepts for these stacks. */
  minBootstrapVersion: number;
  /** The NotesStack here that declares the API Gateway account settings (AWS::ApiGateway::Account), if any. */
  apiGatewayAccountOwner?: string;
  /** The baseline stack of the NotesStacks here (execution policy, permissions boundary, release roles), if any. */
  baselineStack?: string;
  /** The names of the execution policy's parts that baseline creates (`--cloudformation-execution-policies` names them all). */
  executionPolicyNames?: string[];
}

export interface AppRequirements {
  config: AppConfig;
  toolkitStackName: string;
  targets: Target[];
}

export interface CdkJson {
  context?: Record<string, unknown>;
  toolkitStackName?: string;
}

export function readCdkJson(path: string): CdkJson {
  return JSON.parse(readFileSync(path, 'utf8')) as CdkJson;
}

/** Synthesizes the app from this cdk.json and returns its targets and their bootstrap requirements. */
export function appRequirements(cdkJson: CdkJson, toolkitStackName?: string): AppRequirements {
  const config = configFromContext(cdkJson.context);
  const outdir = mkdtempSync(join(tmpdir(), 'notes-preflight-'));
  try {
    const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] }, outdir });
    const built = buildApp(app, { nagChecks: false });
    const assembly = app.synth();

    const placed = [
      ...config.environments.map((e) => ({ stackName: notesStackName(e), account: e.account, region: e.region, env: true, ownsApiGatewayAccount: ownsApiGatewayAccountSettings(config, e) })),
      { stackName: built.pipelineStack.stackName, account: config.pipeline.account, region: config.pipeline.region, env: false, ownsApiGatewayAccount: false },
    ];
    const stacks = [...built.notesStacks, built.pipelineStack];
    const targets: Target[] = [];
    for (const p of placed) {
      const stack = stacks.find((s) => s.stackName === p.stackName)!;
      const artifact = assembly.getStackByName(p.stackName);
      const assetVersions = artifact.dependencies.filter(AssetManifestArtifact.isAssetManifestArtifact).map((a) => a.requiresBootstrapStackVersion ?? 0);
      const minVersion = Math.max(artifact.requiresBootstrapStackVersion ?? 0, ...assetVersions);
      const qualifier = stack.synthesizer.bootstrapQualifier ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
      let target = targets.find((t) => t.account === p.account && t.region === p.region);
      if (!target) {
        target = { account: p.account, region: p.region, stacks: [], hostsEnvironments: false, hostsPipeline: false, qualifier, minBootstrapVersion: 0 };
        targets.push(target);
      }
      target.stacks.push(p.stackName);
      if (p.ownsApiGatewayAccount) target.apiGatewayAccountOwner ??= p.stackName;
      target.hostsEnvironments ||= p.env;
      target.hostsPipeline ||= !p.env;
      target.minBootstrapVersion = Math.max(target.minBootstrapVersion, minVersion);
    }
    for (const baseline of built.baselineStacks) {
      const target = targets.find((t) => t.stacks.some((s) => baseline.serves.includes(s)));
      if (!target) continue;
      target.baselineStack = baseline.stackName;
      target.executionPolicyNames = baseline.executionPolicies.map((p) => (p.node.defaultChild as CfnManagedPolicy).managedPolicyName!);
    }
    return { config, toolkitStackName: toolkitStackName ?? cdkJson.toolkitStackName ?? DEFAULT_TOOLKIT_STACK, targets };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
