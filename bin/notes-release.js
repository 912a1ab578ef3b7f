#!/usr/bin/env node
// Package bin `notes-release`: registers tsx (TypeScript on the fly, as `npm run release` does)
// and runs bin/release.ts with the same arguments.
require('tsx/cjs');
require('./release.ts');
