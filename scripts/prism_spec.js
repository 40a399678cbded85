// Prepares a Plaid spec for Stoplight Prism, and proves Prism can validate against it.
//
//   node scripts/prism_spec.js <prism's node_modules> <spec.yml|json> <out.json>
//
// Prism validates requests and responses with Ajv, and when Ajv cannot compile a schema it
// skips the validation silently (O.tryCatch in prism-http's validateAgainstSchema): a response
// that breaks the spec then passes. Plaid's spec has enums that list a value twice
// (AccountSubtype lists "null" twice), which Ajv refuses ("must NOT have duplicate items"), and
// every schema that reaches one is left unchecked: most account-bearing answers. Most of the
// duplicates are made by Prism itself: its OpenAPI 3.0 conversion adds `null` to the enum of a
// `nullable` schema, and Plaid's nullable enums already list `null` (AccountSubtype).
//
// So this writes a copy of the spec with duplicate enum values removed, a nullable schema's
// `null` included (the only change; the schemas accept exactly the same values), then compiles every request and response schema of every
// operation with the Ajv Prism ships, and fails if any does not compile.
'use strict';
const path = require('path');
const fs = require('fs');
const [modules, input, output] = process.argv.slice(2);
if (!output) {
  console.error('usage: node scripts/prism_spec.js <node_modules> <spec> <out.json>');
  process.exit(2);
}
const req = (name) => require(path.join(path.resolve(modules), name));
const yaml = req('js-yaml');
const text = fs.readFileSync(input, 'utf8');
const spec = text.trimStart().startsWith('{') ? JSON.parse(text) : yaml.load(text);

let deduped = 0;
const seen = new Set();
(function walk(node, where) {
  if (!node || typeof node !== 'object' || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node.enum)) {
    const unique = [];
    for (const v of node.enum) {
      // A nullable schema's null is added to its enum by Prism's OpenAPI 3.0 conversion: one
      // listed in the spec as well becomes a duplicate.
      if (v === null && node.nullable === true) continue;
      if (!unique.some((u) => JSON.stringify(u) === JSON.stringify(v))) unique.push(v);
    }
    if (unique.length !== node.enum.length) {
      deduped += node.enum.length - unique.length;
      console.log(`duplicate enum values removed at ${where}`);
      node.enum = unique;
    }
  }
  for (const [k, v] of Object.entries(node)) walk(v, `${where}/${k}`);
})(spec, '#');
// Ajv, as Prism configures it, refuses `nullable: true` on a schema without `type` ("nullable
// cannot be used without type"), and Plaid writes its nullable wrappers as `{nullable: true,
// allOf: [{$ref: X}]}`. Give such a schema the type its parts have, which is what it meant.
const resolve = (node) => {
  for (let i = 0; node && node.$ref && i < 16; i++) {
    node = node.$ref.replace(/^#\//, '').split('/').reduce((n, k) => n && n[k], spec);
  }
  return node;
};
const typeOf = (node, depth = 0) => {
  node = resolve(node);
  if (!node || depth > 16) return undefined;
  if (typeof node.type === 'string') return node.type;
  if (node.properties || node.additionalProperties) return 'object';
  for (const part of node.allOf || []) {
    const t = typeOf(part, depth + 1);
    if (t) return t;
  }
  return undefined;
};
let typed = 0;
const visited = new Set();
(function walk(node) {
  if (!node || typeof node !== 'object' || visited.has(node)) return;
  visited.add(node);
  if (node.nullable === true && node.type === undefined) {
    const t = typeOf(node);
    if (t) {
      node.type = t;
      typed += 1;
    }
  }
  for (const v of Object.values(node)) walk(v);
})(spec);
fs.writeFileSync(output, JSON.stringify(spec));

// Every schema Prism will validate with, compiled as Prism compiles it.
const { getHttpOperationsFromSpec } = req('@stoplight/prism-http');
const Ajv = req('ajv').default;
const addFormats = req('ajv-formats');
(async () => {
  const operations = await getHttpOperationsFromSpec(output);
  // As prism-http's validator/validators/utils.js builds its instance.
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, allowMatchingProperties: true, strict: false, coerceTypes: false, logger: false });
  addFormats(ajv);
  const mergeAllOf = req('@stoplight/json-schema-merge-allof');
  const merged = (schema) => {
    try {
      return mergeAllOf(schema, { deep: true, ignoreAdditionalProperties: true });
    } catch (_) {
      return schema;
    }
  };
  let compiled = 0;
  const failures = [];
  for (const op of operations) {
    const schemas = [];
    for (const c of (op.request && op.request.body && op.request.body.contents) || []) {
      if (c.schema) schemas.push([`${op.method.toUpperCase()} ${op.path} request`, c.schema]);
    }
    for (const r of op.responses || []) {
      for (const c of r.contents || []) {
        if (c.schema) schemas.push([`${op.method.toUpperCase()} ${op.path} response ${r.code}`, c.schema]);
      }
    }
    for (const [where, schema] of schemas) {
      try {
        // Prism merges allOf before it compiles (validator/validators/body.js).
        ajv.compile(merged(schema));
        compiled += 1;
      } catch (e) {
        failures.push(`${where}: ${e.message.slice(0, 300)}`);
      }
    }
  }
  console.log(`${path.basename(input)}: ${deduped} duplicate enum values removed, ${typed} nullable schemas typed; ${compiled} schemas of ${operations.length} operations compile for Prism's validator`);
  if (failures.length) {
    console.error(`${failures.length} schemas Prism could not validate against (it would skip them silently):\n${failures.join('\n')}`);
    process.exit(1);
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
