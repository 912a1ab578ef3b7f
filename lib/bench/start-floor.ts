/**
 * The floor for the first `npm start`: npm running a TypeScript file through the same tsx, which
 * prints one line and exits. What any `npm start` of a tsx script pays before its own code runs.
 */
process.stdout.write('floor ready\n');
