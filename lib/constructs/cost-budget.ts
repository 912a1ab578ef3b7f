import * as budgets from 'aws-cdk-lib/aws-budgets';
import { Construct } from 'constructs';

/** When the budget e-mails: actual spend at 80% and 100% of the month's amount, forecast at 100%. */
export const BUDGET_ALERTS = [
  { notificationType: 'ACTUAL', threshold: 80 },
  { notificationType: 'ACTUAL', threshold: 100 },
  { notificationType: 'FORECASTED', threshold: 100 },
] as const;

export interface CostBudgetProps {
  /** Budget name (unique in the account), e.g. `notes-prod-monthly-cost`. */
  readonly budgetName: string;
  readonly monthlyUsd: number;
  /** Who gets the alerts (at most 10, the Budgets limit for e-mail subscribers). None: a budget without alerts. */
  readonly emails: readonly string[];
  /** Count only costs with this cost allocation tag (user-defined tags are `user:<key>` in Budgets). */
  readonly tag?: { key: string; value: string };
}

/**
 * An AWS Budgets monthly cost budget with e-mail alerts. Budgets e-mails the subscribers itself, so
 * no SNS topic (and no topic or key policy for budgets.amazonaws.com) is involved.
 */
export class CostBudget extends Construct {
  readonly budget: budgets.CfnBudget;

  constructor(scope: Construct, id: string, props: CostBudgetProps) {
    super(scope, id);
    if (props.emails.length > 10) throw new Error(`CostBudget ${props.budgetName}: at most 10 e-mail subscribers, got ${props.emails.length}`);
    const subscribers = props.emails.map((address) => ({ subscriptionType: 'EMAIL', address }));
    this.budget = new budgets.CfnBudget(this, 'Budget', {
      budget: {
        budgetName: props.budgetName,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.monthlyUsd, unit: 'USD' },
        ...(props.tag ? { costFilters: { TagKeyValue: [`user:${props.tag.key}$${props.tag.value}`] } } : {}),
      },
      notificationsWithSubscribers:
        subscribers.length === 0
          ? undefined
          : BUDGET_ALERTS.map((alert) => ({
              notification: { notificationType: alert.notificationType, comparisonOperator: 'GREATER_THAN', threshold: alert.threshold, thresholdType: 'PERCENTAGE' },
              subscribers,
            })),
    });
  }
}
