#!/usr/bin/env node
// Prod's Deploy, when the approved plan is the creation of the whole stack (#11: its first create
// failed, so the Plan step made no change set): checks that the stack's template in the cloud
// assembly is the one that plan was made from, before `cdk deploy` creates the stack from it.
//
//   node plan-template.js <assembly-dir> <stack-name> <plan.json>
//
// Exit 0 (and one line on stderr) when the template's sha256 is the plan's `templateSha256`;
// 1 naming both when it is not, or when the plan has none (it was not a plan of a create); 2 on usage.
// Plain Node, no dependencies.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

function templateFile(assemblyDir, stackName) {
  const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8'));
  for (const [id, artifact] of Object.entries(manifest.artifacts || {})) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const props = artifact.properties || {};
    if ((props.stackName || id) === stackName && props.templateFile) return path.join(assemblyDir, props.templateFile);
  }
  throw new Error(`the cloud assembly in ${assemblyDir} has no stack ${stackName}`);
}

/** `{ ok, message }`: whether the assembly's template is the planned one. */
function checkPlanTemplate(assemblyDir, stackName, planFile) {
  const plan = JSON.parse(fs.readFileSync(planFile, 'utf8'));
  if (!plan.templateSha256) return { ok: false, message: `${planFile} is not a plan of creating ${stackName} (no templateSha256); nothing was deployed` };
  const actual = crypto.createHash('sha256').update(fs.readFileSync(templateFile(assemblyDir, stackName))).digest('hex');
  if (actual !== plan.templateSha256) {
    return { ok: false, message: `${stackName}'s template in the assembly has sha256 ${actual}, the approved plan was made from ${plan.templateSha256}; nothing was deployed` };
  }
  return { ok: true, message: `${stackName}'s template is the one the approved plan creates (sha256 ${actual})` };
}

module.exports = { checkPlanTemplate };

if (require.main === module) {
  const [assemblyDir, stackName, planFile] = process.argv.slice(2);
  if (!assemblyDir || !stackName || !planFile) {
    console.error('usage: plan-template.js <assembly-dir> <stack-name> <plan.json>');
    process.exit(2);
  }
  try {
    const { ok, message } = checkPlanTemplate(assemblyDir, stackName, planFile);
    console.error(`plan template: ${message}`);
    process.exit(ok ? 0 : 1);
  } catch (err) {
    console.error(`plan template: ${err.message}; nothing was deployed`);
    process.exit(1);
  }
}
