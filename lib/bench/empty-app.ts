/**
 * The floor for `cdk synth`: a CDK app with one empty stack, synthesized by the same CLI, the
 * same TypeScript runner and the same aws-cdk-lib as ours. What synth costs before our stacks.
 */
import { App, Stack } from 'aws-cdk-lib';

const app = new App();
new Stack(app, 'EmptyFloor');
app.synth();
