// Validates GLB files with the Khronos glTF validator (npm `gltf-validator`); prints one JSON report per file.
// Usage: NODE_PATH=.node/node_modules node tests/unit/gltf_validate.cjs FILE.glb...
"use strict";
const fs = require("fs");
const validator = require("gltf-validator");

(async () => {
  for (const file of process.argv.slice(2)) {
    const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(file)), { uri: file });
    const { numErrors, numWarnings, numInfos, numHints, messages } = report.issues;
    console.log(JSON.stringify({ file, numErrors, numWarnings, numInfos, numHints, messages, info: report.info }));
  }
})().catch((err) => { console.error(err); process.exit(2); });
