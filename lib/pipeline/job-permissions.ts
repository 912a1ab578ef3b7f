import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/** Lets a pipeline step's Lambda report its job (the only CodePipeline permission it needs for that). */
export function allowJobReporting(role: iam.Role): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReportPipelineJobResult',
      actions: ['codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult'],
      resources: ['*'],
    }),
  );
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'codepipeline:PutJobSuccessResult and PutJobFailureResult have no resource-level permissions (the service authorization reference lists no resource type for them), so the resource must be "*"; the statement allows only those two actions.',
  });
}
