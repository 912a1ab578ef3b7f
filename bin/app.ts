#!/usr/bin/env node
/**
 * The CDK app: `npx cdk synth` (offline, no credentials) or `npx cdk deploy NotesStack-dev`.
 * Everything it builds comes from `cdk.json` context (see lib/config.ts) and `lib/app.ts`;
 * `appProps` says when CDK's template validation runs (CDK_VALIDATION=true: npm test, the Build).
 */
import { App } from 'aws-cdk-lib';
import { appProps, buildApp } from '../lib/app';

const app = new App(appProps());
buildApp(app);
