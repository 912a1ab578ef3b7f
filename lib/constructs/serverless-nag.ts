/**
 * Acknowledgements of cdk-nag's Serverless pack (`ServerlessChecks`) where the finding does not
 * fit how the function or resource is used. Each names the one construct it is about and says
 * why; findings that pointed at something worth having were fixed instead (the notes API and its
 * stage are traced). See docs/01-decision-log.md, "#9: cdk-nag Serverless pack".
 */
import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as cr from 'aws-cdk-lib/custom-resources';
import { IConstruct } from 'constructs';
import { ServiceFunction } from './service-function';

const PIPELINE_STEP_TRACING =
  'A release step runs once per pipeline execution. CodePipeline\'s execution history and the function\'s own log group (with the job id on every line) record each run; an X-Ray trace of one invocation would add cost and answer no question those do not.';

/**
 * A function that a CodePipeline Lambda invoke action runs (asynchronously): it reports its job's
 * result itself, and CodePipeline fails the action when it never does.
 */
export function acknowledgePipelineInvokedFunction(fn: ServiceFunction): void {
  Validations.of(fn.function).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason:
      'CodePipeline invokes this release step asynchronously and the function reports the job result itself; when it fails without reporting, CodePipeline fails the action at its timeout and the execution\'s failure notification fires. A queued event would hold a job that has already failed, with nothing left to replay.',
  });
  Validations.of(fn.function).acknowledge({ id: 'Serverless-LambdaTracing', reason: PIPELINE_STEP_TRACING });
  const invokeConfig = fn.function.node.tryFindChild('EventInvokeConfig');
  if (invokeConfig) {
    Validations.of(invokeConfig).acknowledge({
      id: 'Serverless-LambdaAsyncFailureDestination',
      reason:
        'The invoke config only turns Lambda\'s retries off (the step reports its CodePipeline job exactly once). A failed invocation fails the pipeline action, which the pipeline\'s failure notification reports; an on-failure destination would only copy an expired job.',
    });
  }
}

/** The custom resource behind the smoke user: its onEvent function and CDK's provider framework. */
export function acknowledgeCustomResourceFunctions(onEvent: ServiceFunction, provider: cr.Provider): void {
  Validations.of(onEvent.function).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason:
      'CDK\'s provider framework invokes this function synchronously during a deploy and reports its error to CloudFormation, which fails and rolls back the deploy; there is no queued event to keep.',
  });
  Validations.of(onEvent.function).acknowledge({
    id: 'Serverless-LambdaTracing',
    reason:
      'It runs once per deploy of the stack, inside CloudFormation\'s own record of the deploy; its log group shows each run. A trace would add cost and no answer.',
  });
  const framework = provider.node.findChild('framework-onEvent');
  Validations.of(framework).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason:
      'CDK\'s provider framework function: CloudFormation invokes it for the custom resource and waits for its response; a lost response fails the deploy at CloudFormation\'s timeout, and a queued event could not be answered any more.',
  });
  Validations.of(framework).acknowledge({
    id: 'Serverless-LambdaTracing',
    reason:
      'CDK\'s provider framework function only forwards the custom-resource event to the onEvent function and posts the answer to CloudFormation; it runs once per deploy and logs to its own log group.',
  });
  Validations.of(framework).acknowledge({
    id: 'Serverless-LambdaDefaultMemorySize',
    reason:
      'CDK\'s provider framework function (128 MB, set by CDK): it forwards one small event per deploy and waits on the onEvent function; more memory would cost more and change nothing.',
  });
}

function logicalIdOf(c: IConstruct): string {
  const child = c.node.defaultChild;
  return Stack.of(c).getLogicalId((child ?? c) as CfnElement);
}

/** The logical ids of the Lambda functions and SNS topics a rule targets. */
function ruleTargets(rule: events.CfnRule): string[] {
  const targets = Stack.of(rule).resolve(rule.targets) as Array<{ arn: unknown }> | undefined;
  return (targets ?? []).flatMap((t) => {
    const arn = t.arn as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    if (arn.Ref) return [arn.Ref];
    if (arn['Fn::GetAtt']) return [arn['Fn::GetAtt'][0]];
    return [];
  });
}

/**
 * The pipeline stack's Serverless findings, acknowledged where they occur: the release steps'
 * functions, the e-mail subscriptions, and the EventBridge rules. Called once the stack is built.
 */
export function acknowledgePipelineServerlessFindings(stack: Stack): void {
  const all = stack.node.findAll();
  const rules = all.filter((c): c is events.CfnRule => c instanceof events.CfnRule);
  const topicIds = new Set(all.filter((c) => c instanceof sns.CfnTopic).map((c) => logicalIdOf(c)));

  for (const fn of all.filter((c): c is ServiceFunction => c instanceof ServiceFunction)) {
    const fnId = logicalIdOf(fn.function);
    const eventRules = rules.filter((r) => ruleTargets(r).includes(fnId));
    if (eventRules.length === 0) {
      acknowledgePipelineInvokedFunction(fn);
      continue;
    }
    Validations.of(fn.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Known gap, left to the pipeline\'s owners (issue #10 changes lib/pipeline in parallel): besides its CodePipeline step, an EventBridge rule invokes this function for FAILED and STOPPED executions with 4 retries over 6 h; an event that fails all of them is dropped, so that execution\'s ledger record is missing until `release history` is checked against CodePipeline. The fix is a dead-letter queue on the rule target.',
    });
    Validations.of(fn.function).acknowledge({ id: 'Serverless-LambdaTracing', reason: PIPELINE_STEP_TRACING });
  }

  for (const rule of rules) {
    const targets = ruleTargets(rule);
    if (targets.length > 0 && targets.every((t) => topicIds.has(t))) {
      Validations.of(rule).acknowledge({
        id: 'Serverless-EventBusDLQ',
        reason:
          'The rule only turns a pipeline execution\'s FAILED state into an e-mail to its SNS topic. The failure itself stays in CodePipeline\'s execution history and the release ledger; a dead-letter queue would keep a copy of a notification text that nobody reads from a queue.',
      });
    } else if (targets.length > 0) {
      Validations.of(rule).acknowledge({
        id: 'Serverless-EventBusDLQ',
        reason:
          'Known gap, left to the pipeline\'s owners (issue #10 changes lib/pipeline in parallel): this rule invokes the ledger recorder for ended executions with 4 retries over 6 h and no dead-letter queue, so an event that fails every retry is dropped. The fix is a dead-letter queue on the target.',
      });
    }
  }

  acknowledgeEmailSubscriptions(stack);
}

/** Every e-mail subscription under `scope`: a person, not a system that could replay a message. */
export function acknowledgeEmailSubscriptions(scope: IConstruct): void {
  for (const sub of scope.node.findAll().filter((c): c is sns.CfnSubscription => c instanceof sns.CfnSubscription)) {
    if (sub.protocol !== sns.SubscriptionProtocol.EMAIL) continue;
    Validations.of(sub).acknowledge({
      id: 'Serverless-SNSRedrivePolicy',
      reason:
        'An e-mail subscription of a person (approver or operator). A message SNS cannot deliver to an address would sit in a dead-letter queue that nobody reads; what it announced (an approval waiting, a failed execution, an alarm) stays visible in CodePipeline, the release ledger or the CloudWatch alarm.',
    });
  }
}

/**
 * CodeDeploy's pre-traffic hook: CodeDeploy invokes it asynchronously and it reports the lifecycle
 * event's status itself, once; when it never does, CodeDeploy fails the hook at its timeout and
 * rolls the deployment back.
 */
export function acknowledgeLifecycleHookFunction(fn: ServiceFunction): void {
  Validations.of(fn.function).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason:
      'CodeDeploy invokes the pre-traffic hook asynchronously and the hook reports the lifecycle event itself; when it fails without reporting, CodeDeploy fails the hook at its timeout and rolls the deployment back. A queued event would hold a lifecycle event that has already failed, with nothing left to replay.',
  });
  Validations.of(fn.function).acknowledge({
    id: 'Serverless-LambdaTracing',
    reason:
      'The hook runs once per deployment; CodeDeploy\'s deployment history and the hook\'s own log group (the deployment and lifecycle event ids on every line) record each run; an X-Ray trace of one invocation would add cost and answer no question those do not.',
  });
  const invokeConfig = fn.function.node.tryFindChild('EventInvokeConfig');
  if (invokeConfig) {
    Validations.of(invokeConfig).acknowledge({
      id: 'Serverless-LambdaAsyncFailureDestination',
      reason:
        'The invoke config only turns Lambda\'s retries off (the hook reports its lifecycle event exactly once). A failed invocation fails the deployment, which rolls back and fails the pipeline\'s prod stage; an on-failure destination would only copy an expired lifecycle event.',
    });
  }
}
