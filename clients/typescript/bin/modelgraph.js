#!/usr/bin/env node
// The `modelgraph` command. A committed file, so npm links it at install time, before a build
// has made dist/ (npm skips a bin whose file does not exist yet).
const path = require('node:path');

let cli;
try {
  cli = require(path.join(__dirname, '../dist/cli/main.js'));
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist')) {
    process.stderr.write('modelgraph: the client is not built yet: run `npm run build` in the ModelGraph checkout\n');
    process.exit(2);
  }
  throw err;
}
cli.main();
