// Compiles vigil's published JSON Schemas with Ajv (draft 2020-12) in
// strict mode, the way a JavaScript consumer such as the CloudEvents SDK
// would, and validates JSON Lines of events against the event schema.
//
//   node check.js SCHEMA.json... [--events EVENTS.jsonl]...
//
// Every strict-mode violation is listed (strict: "log" with a collecting
// logger), then the schemas are compiled again with strict: true, which
// throws on the first. Exits 1 on any violation or invalid event.
"use strict";
const fs = require("fs");
const Ajv2020 = require("ajv/dist/2020");
const addFormats = require("ajv-formats");

const schemas = [];
const events = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--events") events.push(args[++i]);
  else schemas.push(args[i]);
}
if (schemas.length === 0) {
  console.error("usage: node check.js SCHEMA.json... [--events EVENTS.jsonl]...");
  process.exit(2);
}
const docs = schemas.map((f) => ({ file: f, doc: JSON.parse(fs.readFileSync(f, "utf8")) }));

function ajvWith(strict, logger) {
  const ajv = new Ajv2020({ strict, allErrors: true, logger });
  addFormats(ajv);
  for (const { doc } of docs) ajv.addSchema(doc);
  return ajv;
}

let failed = false;
// A schema that refers to another repeats its violations: each is said once,
// for the file that has it.
const said = new Set();
const violations = [];
const collect = (...m) => violations.push(m.join(" ").replace(/^strict mode: /, ""));
const lax = ajvWith("log", { log() {}, warn: collect, error: collect });
for (const { file, doc } of docs) {
  violations.length = 0;
  try {
    lax.getSchema(doc.$id);
  } catch (e) {
    violations.push(e.message);
  }
  for (const v of violations) {
    // "<event $id><data $id>/allOf/0" is the data schema's "#/allOf/0".
    const where = v.replace(/https:\/\/vigil\.dev\/schema\/incident-event\/v1(https:\/\/vigil\.dev\/schema\/incident\/v1)\//, "$1#/");
    if (said.has(where)) continue;
    said.add(where);
    console.error(`${file}: strict mode: ${where}`);
    failed = true;
  }
}
const strict = ajvWith(true, false);
const compiled = {};
for (const { file, doc } of docs) {
  try {
    compiled[doc.$id] = strict.getSchema(doc.$id);
  } catch (e) {
    console.error(`${file}: does not compile with strict: true: ${e.message}`);
    failed = true;
  }
}
const eventSchema = compiled["https://vigil.dev/schema/incident-event/v1"];
for (const f of events) {
  if (!eventSchema) {
    console.error(`${f}: no event schema to validate against`);
    failed = true;
    break;
  }
  const lines = fs.readFileSync(f, "utf8").split("\n").filter((l) => l.trim() !== "");
  let bad = 0;
  lines.forEach((line, i) => {
    if (!eventSchema(JSON.parse(line))) {
      console.error(`${f}:${i + 1}: ${strict.errorsText(eventSchema.errors)}`);
      bad++;
    }
  });
  if (lines.length === 0 || bad > 0) {
    console.error(`${f}: ${bad} of ${lines.length} events invalid`);
    failed = true;
  } else {
    console.log(`${f}: ${lines.length} events valid`);
  }
}
if (failed) process.exit(1);
console.log(`${schemas.join(", ")}: compile with Ajv ${require("ajv/package.json").version} strict: true`);
