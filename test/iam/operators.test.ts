/**
 * IAM contract of the operator tools, from the calls the CLI's own tests recorded: `npm run release`
 * (lib/cli) as a principal holding only NotesPipeline's ReleaseOperatorPolicy. Covering another
 * tool is one more row (component, the policy it runs with, what its tests' names stand for).
 * test/iam/operator-policies.test.ts (issue #10, operator access) drives both tools itself and
 * checks the restore policy too.
 */
import { ComponentRow, contractSuite, IamWorld } from './support/harness';
import { PIPELINE_STACK, pipelineFacts } from './support/deployed';

const world = new IamWorld();
const facts = pipelineFacts(world);
const hasPolicy = (id: string) => world.stack(PIPELINE_STACK).ofType('AWS::IAM::ManagedPolicy').some((p) => p.startsWith(id));

const rows: ComponentRow[] = [];
if (hasPolicy('ReleaseOperatorPolicy')) {
  rows.push({
    component: 'cli/release',
    principals: (w) => [
      {
        label: 'a release operator (ReleaseOperatorPolicy)',
        principal: w.holderOf('release-operator', [w.managedPolicyArn(PIPELINE_STACK, 'ReleaseOperatorPolicy')]),
        // The CLI's tests give the ledger a fresh name each; deployed, it is the NotesPipeline output's.
        // The archive bucket likewise (the rollback plan line reads the target's archived assembly).
        names: { TableName: facts.ledgerTable, Bucket: facts.archiveBucket },
      },
    ],
    forbidden: () => [
      { action: 'dynamodb:PutItem', resource: facts.ledgerArn, why: 'operators read the ledger; only the pipelines write it' },
      { action: 's3:PutObject', resource: `arn:aws:s3:::${facts.archiveBucket}/releases/v9.9.9/cloud-assembly.zip`, why: 'only the release recorder writes releases/' },
    ],
  });
}

if (rows.length) contractSuite(world, rows);
else it.todo('cli/release as ReleaseOperatorPolicy: the policy is not in NotesPipeline on this branch (issue #10 operator access adds it)');
