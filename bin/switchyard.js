#!/usr/bin/env node
// Entry for `npx switchyard` and `npm start`; the TypeScript is compiled by `npm ci` (prepare) or `npm run build`.
import("../dist/src/cli.js").catch((e) => {
  process.stderr.write(`switchyard: cannot load dist/src/cli.js (${e.message}); run \`npm run build\` first\n`);
  process.exit(1);
});
