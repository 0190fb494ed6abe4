// Post step (post/action.yml): runs down.sh with the inputs the runner passes as INPUT_*.
// The runner keeps hyphens in input names (INPUT_WORKING-DIRECTORY), which a shell cannot
// read, so they are handed over as STILT_DOWN_* variables.
"use strict";
const { spawnSync } = require("child_process");
const path = require("path");

const input = (name) => process.env[`INPUT_${name.toUpperCase()}`] || "";
const env = {
  ...process.env,
  STILT_BIN: input("stilt"),
  STILT_DOWN_WORKDIR: input("working-directory") || ".",
  STILT_DOWN_TILTFILE: input("tiltfile") || "Tiltfile",
  STILT_DOWN_CONTEXT: input("context"),
  STILT_DOWN_NAMESPACE: input("namespace"),
};
const r = spawnSync("bash", [path.join(__dirname, "down.sh")], { stdio: "inherit", env });
process.exitCode = r.status === null ? 1 : r.status;
