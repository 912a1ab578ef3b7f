import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { NotesTable } from './notes-table';

/**
 * Alarm thresholds. Every alarm looks at one-minute periods and fires when 3 of the last 5 breach,
 * so one bad minute (a cold start, a single failed request) does not page anyone, and a real
 * problem is seen within about 3 minutes, soon enough for the prod stage's post-deploy condition.
 */
export const ALARM_THRESHOLDS = {
  /** Percent of API requests answered with 5xx (only counted in minutes with at least 5 requests). */
  api5xxRatePercent: 5,
  api5xxMinRequests: 5,
  /** Lambda invocation errors (uncaught exceptions, timeouts, init failures) per minute. */
  lambdaErrors: 1,
  lambdaThrottles: 1,
  /** DynamoDB throttled requests per minute, over the API's operations. */
  dynamoThrottles: 1,
  period: Duration.minutes(1),
  evaluationPeriods: 5,
  datapointsToAlarm: 3,
} as const;

export interface ObservabilityProps {
  readonly namePrefix: string;
  readonly api: apigw.RestApi;
  readonly apiHandler: lambda.IFunction;
  readonly table: NotesTable;
  /** p99 latency above this (ms) raises the latency alarm. */
  readonly healthSlaMs: number;
  readonly alarmEmails: readonly string[];
  readonly removalPolicy: RemovalPolicy;
}

/** The composite alarm's physical name for an environment prefix (it notifies the alarm topic). */
export function serviceHealthAlarmName(namePrefix: string): string {
  return `${namePrefix}-service-health`;
}

/** The name suffixes of the metric alarms the composite combines (`<prefix>-<suffix>`). */
export const SERVICE_HEALTH_METRIC_ALARMS = ['api-5xx-rate', 'api-latency-p99', 'api-lambda-errors', 'api-lambda-throttles', 'table-throttles'] as const;

/**
 * The metric alarms the release pipeline's prod stage watches after a deploy, one CloudWatchAlarm
 * rule each. The rule is documented for a (metric) alarm read with DescribeAlarms, which leaves
 * composite alarms out unless asked for them (and then only with a `*`-scoped permission), so the
 * pipeline watches these, not the composite.
 */
export function serviceHealthMetricAlarmNames(namePrefix: string): string[] {
  return SERVICE_HEALTH_METRIC_ALARMS.map((suffix) => `${namePrefix}-${suffix}`);
}

/**
 * Alarms on what a user of the API would notice (5xx answers, slow answers) and on what causes
 * them (Lambda errors and throttles, DynamoDB throttles), combined into one composite alarm
 * `<prefix>-service-health` that notifies the alarm topic; the release pipeline's prod stage
 * watches the metric alarms themselves after a deploy; plus a dashboard of the same signals.
 */
export class Observability extends Construct {
  readonly topic: sns.Topic;
  readonly serviceHealth: cloudwatch.CompositeAlarm;
  readonly alarms: cloudwatch.Alarm[];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const t = ALARM_THRESHOLDS;
    const prefix = props.namePrefix;

    // A customer managed key: CloudWatch cannot publish to a topic encrypted with aws/sns.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: `Encrypts the ${prefix} alarm topic`,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      topicName: `${prefix}-alarms`,
      displayName: `Notes ${prefix} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    for (const email of props.alarmEmails) this.topic.addSubscription(new subs.EmailSubscription(email));

    const stage = props.api.deploymentStage;
    const minute = { period: t.period };
    const requests = stage.metricCount({ ...minute, statistic: 'Sum' });
    const serverErrors = stage.metricServerError({ ...minute, statistic: 'Sum' });
    const errorRate = new cloudwatch.MathExpression({
      label: 'API 5xx rate (%)',
      expression: `IF(requests >= ${t.api5xxMinRequests}, 100 * errors / requests, 0)`,
      usingMetrics: { requests, errors: serverErrors },
      period: t.period,
    });
    const latencyP99 = stage.metricLatency({ ...minute, statistic: 'p99' });
    const fnErrors = props.apiHandler.metricErrors({ ...minute, statistic: 'Sum' });
    const fnThrottles = props.apiHandler.metricThrottles({ ...minute, statistic: 'Sum' });
    const ddbThrottles = props.table.metricThrottledRequests({ ...minute, statistic: 'Sum' });

    const alarm = (id: string, name: (typeof SERVICE_HEALTH_METRIC_ALARMS)[number], metric: cloudwatch.IMetric, threshold: number, description: string) =>
      new cloudwatch.Alarm(this, id, {
        alarmName: `${prefix}-${name}`,
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: t.evaluationPeriods,
        datapointsToAlarm: t.datapointsToAlarm,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    this.alarms = [
      alarm('Api5xxRate', 'api-5xx-rate', errorRate, t.api5xxRatePercent, `At least ${t.api5xxRatePercent}% of API requests answered 5xx`),
      alarm('ApiLatencyP99', 'api-latency-p99', latencyP99, props.healthSlaMs, `API p99 latency at or above the ${props.healthSlaMs} ms SLA`),
      alarm('LambdaErrors', 'api-lambda-errors', fnErrors, t.lambdaErrors, 'The notes API function failed (exception, timeout or init error)'),
      alarm('LambdaThrottles', 'api-lambda-throttles', fnThrottles, t.lambdaThrottles, 'The notes API function was throttled'),
      alarm('DynamoThrottles', 'table-throttles', ddbThrottles, t.dynamoThrottles, 'DynamoDB throttled requests on the notes table'),
    ];

    this.serviceHealth = new cloudwatch.CompositeAlarm(this, 'ServiceHealth', {
      compositeAlarmName: serviceHealthAlarmName(prefix),
      alarmDescription: `The ${prefix} notes service is unhealthy: ${this.alarms.map((a) => a.alarmName).join(', ')}. The release pipeline rolls the prod stage back while one of these is in ALARM after a deploy.`,
      alarmRule: cloudwatch.AlarmRule.anyOf(...this.alarms.map((a) => cloudwatch.AlarmRule.fromAlarm(a, cloudwatch.AlarmState.ALARM))),
    });
    this.serviceHealth.addAlarmAction(new cwActions.SnsAction(this.topic));
    this.serviceHealth.addOkAction(new cwActions.SnsAction(this.topic));

    const wide = { width: 12, height: 6 };
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: prefix,
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Service health',
            alarms: [this.serviceHealth, ...this.alarms],
            width: 24,
            height: 3,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            ...wide,
            title: 'API requests and errors',
            left: [requests, stage.metricClientError({ ...minute, statistic: 'Sum' }), serverErrors],
            right: [errorRate],
          }),
          new cloudwatch.GraphWidget({
            ...wide,
            title: 'API latency (ms)',
            left: [
              stage.metricLatency({ ...minute, statistic: 'p50' }),
              latencyP99,
              stage.metricIntegrationLatency({ ...minute, statistic: 'p99' }),
            ],
            leftAnnotations: [{ value: props.healthSlaMs, label: 'SLA', color: cloudwatch.Color.RED }],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            ...wide,
            title: 'Lambda invocations, errors, throttles',
            left: [props.apiHandler.metricInvocations({ ...minute, statistic: 'Sum' }), fnErrors, fnThrottles],
          }),
          new cloudwatch.GraphWidget({
            ...wide,
            title: 'Lambda duration (ms)',
            left: [
              props.apiHandler.metricDuration({ ...minute, statistic: 'p50' }),
              props.apiHandler.metricDuration({ ...minute, statistic: 'p99' }),
            ],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            ...wide,
            title: 'DynamoDB capacity consumed',
            left: [
              props.table.table.metricConsumedReadCapacityUnits({ ...minute, statistic: 'Sum' }),
              props.table.table.metricConsumedWriteCapacityUnits({ ...minute, statistic: 'Sum' }),
            ],
          }),
          new cloudwatch.GraphWidget({
            width: 6,
            height: 6,
            title: 'DynamoDB throttled requests',
            left: [ddbThrottles],
          }),
          // A separate graph: both expressions name their per-operation metrics alike (`getitem`...).
          new cloudwatch.GraphWidget({
            width: 6,
            height: 6,
            title: 'DynamoDB system errors',
            left: [props.table.metricSystemErrors({ ...minute, statistic: 'Sum' })],
          }),
        ],
      ],
    });
  }
}
