import { RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { NOTES_TABLE_KEYS, notesTableCreateInput } from '../notes-table-schema';

/**
 * Exactly the DynamoDB actions the notes API performs (see `lambda/notes-api/notes-repository.ts`).
 * No Scan, no Batch*, no table management: a bug or a stolen credential can do no more than the
 * handler's own code paths.
 */
export const NOTES_API_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
] as const;

/** The operations the alarms and dashboard watch (the same five). */
export const NOTES_API_OPERATIONS = [
  dynamodb.Operation.GET_ITEM,
  dynamodb.Operation.PUT_ITEM,
  dynamodb.Operation.UPDATE_ITEM,
  dynamodb.Operation.DELETE_ITEM,
  dynamodb.Operation.QUERY,
];

export interface NotesTableProps {
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
  /** Point-in-time recovery window in days (1-35). */
  readonly pitrRecoveryPeriodDays: number;
}

const ATTRIBUTE_TYPES: Record<'S' | 'N' | 'B', dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

/** The key attribute's type as the shared schema (the one the local mode creates) declares it. */
function keyAttribute(name: string): dynamodb.Attribute {
  const def = notesTableCreateInput('schema').AttributeDefinitions.find((a) => a.AttributeName === name);
  if (!def) throw new Error(`notes table schema declares no attribute "${name}"`);
  return { name, type: ATTRIBUTE_TYPES[def.AttributeType] };
}

/**
 * The notes table: one item per note, partition key the owner's Cognito `sub`, sort key the
 * note's ULID. On-demand billing, point-in-time recovery, encryption at rest with the AWS managed
 * key, deletion protection and removal policy as the environment says.
 */
export class NotesTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: NotesTableProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: keyAttribute(NOTES_TABLE_KEYS.partitionKey),
      sortKey: keyAttribute(NOTES_TABLE_KEYS.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: {
        pointInTimeRecoveryEnabled: true,
        recoveryPeriodInDays: props.pitrRecoveryPeriodDays,
      },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: props.deletionProtection,
      removalPolicy: props.removalPolicy,
    });
  }

  /** Lets `grantee` run the notes API's item operations on this table, and nothing else. */
  grantNotesApiAccess(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...NOTES_API_TABLE_ACTIONS],
      resourceArns: [this.table.tableArn],
    });
  }

  /** Requests DynamoDB throttled, summed over the notes API's operations. */
  metricThrottledRequests(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.table.metricThrottledRequestsForOperations({ ...props, operations: NOTES_API_OPERATIONS });
  }

  /** DynamoDB-side errors (HTTP 500), summed over the notes API's operations. */
  metricSystemErrors(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.table.metricSystemErrorsForOperations({ ...props, operations: NOTES_API_OPERATIONS });
  }
}
