/** The per-environment cost budget: amount and scope from cdk.json, alerts to the alarm e-mails. */
import { Match } from 'aws-cdk-lib/assertions';
import { buildTestApp, repoConfig } from './fixture';

const config = repoConfig();
const envConfig = (name: string) => config.environments.find((e) => e.name === name)!;
function withEnvironment(name: string, change: Record<string, unknown>): unknown {
  return { ...config, environments: config.environments.map((e) => (e.name === name ? { ...e, ...change } : e)) };
}

const app = buildTestApp();

describe('cost budget', () => {
  test('prod: a monthly USD cost budget of the amount in cdk.json, alerting its alarm e-mails on actual 80% and 100% and forecast 100%', () => {
    const template = app.template('prod');
    const subscribers = envConfig('prod').alarmEmails.map((address) => ({ SubscriptionType: 'EMAIL', Address: address }));
    const alert = (type: string, threshold: number) => ({
      Notification: { NotificationType: type, ComparisonOperator: 'GREATER_THAN', Threshold: threshold, ThresholdType: 'PERCENTAGE' },
      Subscribers: subscribers,
    });

    template.resourceCountIs('AWS::Budgets::Budget', 1);
    template.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: {
        BudgetName: 'notes-prod-monthly-cost',
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: envConfig('prod').budget.monthlyUsd, Unit: 'USD' },
        CostFilters: Match.absent(),
      },
      NotificationsWithSubscribers: [alert('ACTUAL', 80), alert('ACTUAL', 100), alert('FORECASTED', 100)],
    });
  });

  test('dev has its own amount; with no alarm e-mails its budget has no alerts (Budgets needs a subscriber per alert)', () => {
    const template = app.template('dev');

    template.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: { BudgetName: 'notes-dev-monthly-cost', BudgetLimit: { Amount: envConfig('dev').budget.monthlyUsd, Unit: 'USD' } },
      NotificationsWithSubscribers: Match.absent(),
    });
  });

  test('scope environment-tag counts only costs with the notes:environment tag the app puts on the stack', () => {
    const tagged = buildTestApp({ notes: withEnvironment('prod', { budget: { monthlyUsd: 25, scope: 'environment-tag' } }) });
    const template = tagged.template('prod');

    template.hasResourceProperties('AWS::Budgets::Budget', { Budget: { BudgetLimit: { Amount: 25, Unit: 'USD' }, CostFilters: { TagKeyValue: ['user:notes:environment$prod'] } } });
    template.hasResourceProperties('AWS::DynamoDB::Table', { Tags: Match.arrayWith([{ Key: 'notes:environment', Value: 'prod' }]) });
  });

  test.each([
    [{ budget: { monthlyUsd: 0, scope: 'account' } }, /notes\.environments\[1\]\.budget\.monthlyUsd: must be a positive amount in USD/],
    [{ budget: { monthlyUsd: 10, scope: 'organisation' } }, /notes\.environments\[1\]\.budget\.scope/],
    [{ budget: undefined }, /notes\.environments\[1\]\.budget/],
    [{ alarmEmails: Array.from({ length: 11 }, (_, i) => `ops${i}@example.com`) }, /notes\.environments\[1\]\.alarmEmails: at most 10 addresses/],
  ])('a bad budget setting stops the synth naming the key (%j)', (change, message) => {
    expect(() => buildTestApp({ notes: withEnvironment('prod', change) })).toThrow(message);
  });
});
