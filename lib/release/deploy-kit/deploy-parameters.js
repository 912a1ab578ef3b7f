#!/usr/bin/env node
// Which `cdk deploy --parameters` a deploy of a notes stack from a cloud assembly needs (#13).
//
//   node deploy-parameters.js <assembly-dir> <stack-name> release|rollback
//
// Prints the arguments on one line (nothing when none are needed) and says why on stderr:
// - the stack's template declares the DeploymentConfig parameter: `--parameters <stack>:DeploymentConfig=X`
//   with X = the template's own default (the environment's strategy) for a release, and
//   CodeDeployDefault.LambdaAllAtOnce for a rollback (the previous version serves everything at once);
// - it does not (an assembly built before traffic shifting): nothing, and that deploy has no canary anyway.
// The value is always passed explicitly: `cdk deploy` otherwise keeps a parameter's previous value,
// and a release after a rollback would then shift all at once too.
// Plain Node, no dependencies: every deploy step runs it from the deploy kit, without the repository.
'use strict';
const fs = require('fs');
const path = require('path');

const PARAMETER = 'DeploymentConfig';
const ALL_AT_ONCE = 'CodeDeployDefault.LambdaAllAtOnce';

function templateOf(assemblyDir, stackName) {
  const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8'));
  for (const artifact of Object.values(manifest.artifacts || {})) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const props = artifact.properties || {};
    const name = props.stackName || artifact.displayName;
    if (name === stackName && props.templateFile) {
      return JSON.parse(fs.readFileSync(path.join(assemblyDir, props.templateFile), 'utf8'));
    }
  }
  throw new Error(`the cloud assembly in ${assemblyDir} has no stack ${stackName}`);
}

/** `{ args, reason }`: the cdk deploy arguments and a sentence saying why. */
function deployParameters(assemblyDir, stackName, mode) {
  if (mode !== 'release' && mode !== 'rollback') throw new Error(`mode must be release or rollback (got "${mode}")`);
  const declared = (templateOf(assemblyDir, stackName).Parameters || {})[PARAMETER];
  if (!declared) {
    return { args: [], reason: `${stackName}'s template has no ${PARAMETER} parameter (built before traffic shifting): no canary to override` };
  }
  const value = mode === 'rollback' ? ALL_AT_ONCE : declared.Default;
  if (!value) throw new Error(`${stackName}'s ${PARAMETER} parameter has no default`);
  const why = mode === 'rollback' ? 'rollback: the previous version serves everything at once' : "release: the environment's strategy";
  return { args: ['--parameters', `${stackName}:${PARAMETER}=${value}`], reason: `${why} (${PARAMETER}=${value})` };
}

module.exports = { deployParameters, PARAMETER, ALL_AT_ONCE };

if (require.main === module) {
  const [assemblyDir, stackName, mode] = process.argv.slice(2);
  if (!assemblyDir || !stackName || !mode) {
    console.error('usage: deploy-parameters.js <assembly-dir> <stack-name> release|rollback');
    process.exit(2);
  }
  try {
    const { args, reason } = deployParameters(assemblyDir, stackName, mode);
    console.error(`deploy parameters: ${reason}`);
    process.stdout.write(args.join(' ') + '\n');
  } catch (err) {
    console.error(`deploy parameters: ${err.message}`);
    process.exit(1);
  }
}
