#!/usr/bin/env node
/**
 * The CDK app: `npx cdk synth` (offline, no credentials) or `npx cdk deploy NotesStack-dev`.
 * Everything it builds comes from `cdk.json` context (see lib/config.ts) and `lib/app.ts`.
 */
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';

const app = new App();
buildApp(app);
