// Checks spec-tier's answers with Stoplight Prism's own response validator: an independent
// judge (Ajv, as Prism configures it), not this crate's validator.
//
//   node scripts/ajv_check.js <prism's node_modules> <prepared spec.json> <answers.json>...
//
// The prepared spec is the one `node /work/main/scripts/prism_spec.js` writes (duplicate enum
// values removed, nullable `allOf` wrappers typed), so every schema compiles for Ajv. The
// answers file is written by `cargo test --test ajv`: {"version", "answers": [{"method",
// "path", "operation_id", "status", "case", "content_type", "body"}]}.
//
// Each JSON answer is checked twice:
// 1. with Prism's `validateOutput` (prism-http's validator: the operation's response for the
//    status, allOf merged by @stoplight/json-schema-merge-allof, writeOnly properties
//    stripped, Ajv 8 with allErrors, allowUnionTypes, strict: false, ajv-formats, Prism's own
//    `date-time` format) — what `prism proxy --errors` would say of the answer;
// 2. with a validator this script compiles the same way, because Prism skips a schema it
//    cannot compile silently: a compile failure is reported here as a failure.
// Binary answers (PDF, ZIP) are counted apart: Prism does not validate them.
// Exits 1 when any answer fails either check.
'use strict';
const path = require('path');
const fs = require('fs');

const [modules, specPath, ...answerFiles] = process.argv.slice(2);
if (!modules || !specPath || answerFiles.length === 0) {
  console.error('usage: node scripts/ajv_check.js <node_modules> <prepared spec.json> <answers.json>...');
  process.exit(2);
}
const req = (name) => require(path.join(path.resolve(modules), name));
const { getHttpOperationsFromSpec } = req('@stoplight/prism-http');
const { validateOutput, validateInput } = req('@stoplight/prism-http/dist/validator');
const { stripWriteOnlyProperties } = req('@stoplight/prism-http/dist/utils/filterRequiredProperties');
const dateTime = req('@stoplight/prism-http/dist/validator/validators/dateTime');
const mergeAllOf = req('@stoplight/json-schema-merge-allof');
const Ajv = req('ajv').default;
const addFormats = req('ajv-formats');
const E = req('fp-ts/Either');
const O = req('fp-ts/Option');

// As prism-http's validator/validators/utils.js builds its non-coercing instance.
const ajv = new Ajv({
  allErrors: true,
  allowUnionTypes: true,
  allowMatchingProperties: true,
  strict: false,
  coerceTypes: false,
  logger: false,
});
addFormats(ajv);
ajv.addFormat('date-time', dateTime.fmtDef(dateTime.date_time, dateTime.compareDateTime));

// As prism-http's validator/validators/body.js normalizes an output schema.
const normalize = (schema) => {
  let merged = schema;
  try {
    merged = mergeAllOf(schema, { deep: true, ignoreAdditionalProperties: true });
  } catch (_) {
    merged = schema;
  }
  const stripped = stripWriteOnlyProperties(merged);
  return O.isSome(stripped) ? stripped.value : merged;
};

// Whether a (Prism-converted) schema requires a property at its top, directly or in allOf.
const hasRequired = (schema) =>
  (Array.isArray(schema.required) && schema.required.length > 0) ||
  (Array.isArray(schema.allOf) && schema.allOf.some(hasRequired));

(async () => {
  const operations = await getHttpOperationsFromSpec(specPath);
  const byRoute = new Map(operations.map((op) => [`${op.method.toUpperCase()} ${op.path}`, op]));
  const compiled = new Map();
  let exitCode = 0;
  for (const file of answerFiles) {
    const { version, answers, verdicts = [], requests = [] } = JSON.parse(fs.readFileSync(file, 'utf8'));
    const counts = { json: 0, passed: 0, binary: 0, failed: 0, unschemed: 0, controls: 0, refused: 0 };
    const controlled = new Set();
    const ops = new Set();
    const failures = [];
    for (const a of answers) {
      const route = `${a.method} ${a.path}`;
      ops.add(route);
      const op = byRoute.get(route);
      if (!op) {
        failures.push(`${route} (${a.case}): no such operation in the prepared spec`);
        counts.failed += 1;
        continue;
      }
      if (a.content_type !== 'application/json') {
        counts.binary += 1;
        continue;
      }
      counts.json += 1;
      const problems = [];
      // 1. Prism's own output validation.
      const prism = validateOutput({
        resource: op,
        element: { statusCode: a.status, headers: { 'content-type': 'application/json' }, body: a.body },
      });
      if (E.isLeft(prism)) {
        for (const d of prism.left) problems.push(`prism: ${d.message}`);
      }
      // 2. The same schema compiled here, so a schema Prism would skip is caught.
      const key = `${route} ${a.status}`;
      if (!compiled.has(key)) {
        const response = (op.responses || []).find((r) => String(r.code) === String(a.status));
        const content = response && (response.contents || []).find((c) => c.mediaType === 'application/json');
        let fn = null;
        let error = null;
        if (content && content.schema) {
          try {
            fn = ajv.compile({ ...normalize(content.schema), __bundled__: op.__bundled__ });
          } catch (e) {
            error = e.message.slice(0, 300);
          }
        }
        compiled.set(key, { fn, error, required: !!(content && content.schema && hasRequired(content.schema)) });
      }
      const { fn, error, required } = compiled.get(key);
      if (error) {
        problems.push(`ajv: schema does not compile: ${error}`);
      } else if (!fn) {
        // The response declares no JSON body: nothing to hold the answer to but Prism's verdict.
        counts.unschemed += 1;
      } else if (!fn(a.body)) {
        for (const e of fn.errors) problems.push(`ajv: ${e.instancePath || '/'} ${e.message}`);
      }
      // A negative control, once per operation whose schema requires fields: an empty body must
      // be refused by both, or the check proves nothing.
      if (fn && required && !controlled.has(route)) {
        controlled.add(route);
        counts.controls += 1;
        const prismEmpty = validateOutput({
          resource: op,
          element: { statusCode: a.status, headers: { 'content-type': 'application/json' }, body: {} },
        });
        if (E.isLeft(prismEmpty) && !fn({})) counts.refused += 1;
        else failures.push(`${route}: control: an empty body was not refused`);
      }
      if (problems.length) {
        counts.failed += 1;
        failures.push(`${route} (${a.case}): ${problems.slice(0, 5).join('; ')}`);
      } else {
        counts.passed += 1;
      }
    }
    console.log(
      `${version}: ${answers.length} answers of ${ops.size} operations: ${counts.passed}/${counts.json} JSON answers valid for Prism's validator and Ajv ` +
        `(${counts.unschemed} of them for a response declaring no JSON schema), ${counts.failed} invalid, ${counts.binary} binary (not validated); ` +
        `negative controls: ${counts.refused}/${counts.controls} empty bodies refused`,
    );
    // The differential check of spec-tier's own response validator: its verdict on raw
    // examples and mutated answers must be Prism's.
    let agree = 0;
    let refusedByBoth = 0;
    for (const v of verdicts) {
      const op = byRoute.get(`${v.method} ${v.path}`);
      if (!op) continue;
      const prism = validateOutput({
        resource: op,
        element: { statusCode: v.status, headers: { 'content-type': 'application/json' }, body: v.body },
      });
      const prismValid = E.isRight(prism);
      if (prismValid === v.valid) {
        agree += 1;
        if (!prismValid) refusedByBoth += 1;
      } else {
        const said = prismValid ? 'valid' : prism.left.slice(0, 3).map((d) => d.message).join('; ');
        failures.push(
          `${v.method} ${v.path} (${v.case}): spec-tier says ${v.valid ? 'valid' : v.violations.slice(0, 3).join('; ')}, Prism says ${said}`,
        );
      }
    }
    if (verdicts.length) {
      console.log(
        `${version}: validator differential: ${agree}/${verdicts.length} verdicts agree with Prism's (${refusedByBoth} refused by both, ${agree - refusedByBoth} accepted by both)`,
      );
    }
    // The differential check of spec-tier's request validator against Prism's (its input
    // validation of the body). Known disagreements (Plaid's spec mistakes) are listed apart.
    let requestAgree = 0;
    const known = [];
    for (const r of requests) {
      const op = byRoute.get(`${r.method} ${r.path}`);
      if (!op) continue;
      const prism = validateInput({
        resource: op,
        element: {
          method: r.method.toLowerCase(),
          url: { path: r.path, query: {} },
          headers: { 'content-type': 'application/json' },
          body: r.body,
        },
      });
      const bodyErrors = E.isLeft(prism) ? prism.left.filter((d) => d.severity === 0) : [];
      const prismAccepted = bodyErrors.length === 0;
      if (prismAccepted === r.accepted) {
        requestAgree += 1;
        continue;
      }
      const said = prismAccepted ? 'accepted' : bodyErrors.slice(0, 2).map((d) => d.message).join('; ');
      const line = `${r.method} ${r.path} (${r.case}): spec-tier ${r.accepted ? 'accepts' : `says ${r.problem}`}, Prism ${said}`;
      // The Prism*Version enums: `type: string` with numbers (YAML reads [4.1, 4, 3] as
      // numbers), so no value passes plain JSON Schema; spec-tier takes the text "4.1".
      if (!prismAccepted && r.accepted && bodyErrors.every((d) => /prism_versions/.test(d.message))) {
        known.push(line);
      } else {
        failures.push(line);
      }
    }
    if (requests.length) {
      console.log(
        `${version}: request validator differential: ${requestAgree}/${requests.length} verdicts agree with Prism's; ` +
          `${known.length} known disagreements (Prism*Version enums Plaid wrote as numbers)`,
      );
      for (const k of known) console.log(`  known: ${k}`);
    }
    if (failures.length) {
      exitCode = 1;
      console.log(failures.join('\n'));
    }
  }
  process.exit(exitCode);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
