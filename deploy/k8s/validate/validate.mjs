// Validates rendered Kubernetes manifests (multi-document YAML on standard input, as `kubectl kustomize` prints them)
// against the Kubernetes API's OpenAPI schemas, offline: kubernetes-models ships them compiled to validators (types,
// required fields, enums, formats such as quantities). The API's schemas allow unknown fields, where the API server
// (strict field validation) rejects them; a misspelt key (readinesProbe) would pass silently, so this also reports
// every field the schema does not know, by watching which keys the validator reads (a Proxy): a key it never read
// is not in the schema. Maps (labels, data) are read by enumeration, which marks all their keys known.
// Usage: kubectl kustomize DIR | node validate.mjs [--name LABEL]. Exit status 1 when any object is invalid.
import { parseAllDocuments } from "yaml";

const args = process.argv.slice(2);
const label = args[0] === "--name" && args[1] ? args[1] : "stdin";

const input = await new Promise((resolve, reject) => {
  const chunks = [];
  process.stdin.on("data", c => chunks.push(c)).on("end", () => resolve(Buffer.concat(chunks).toString("utf8"))).on("error", reject);
});

const problems = [];
let count = 0;
for (const doc of parseAllDocuments(input)) {
  if (doc.errors.length > 0) { problems.push(`YAML: ${doc.errors.map(e => e.message).join("; ")}`); continue; }
  const object = doc.toJS();
  if (object === null || object === undefined) continue;
  count++;
  const where = `${object.kind ?? "?"}/${object.metadata?.name ?? "?"}`;
  for (const message of await validate(object)) problems.push(`${where}: ${message}`);
}

if (count === 0) problems.push("no objects in the input (did the render fail?)");
for (const p of problems) console.error(`${label}: ${p}`);
console.log(`${label}: ${count} objects, ${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);

async function validate(object) {
  const { apiVersion, kind } = object;
  if (typeof apiVersion !== "string" || typeof kind !== "string") return ["apiVersion and kind are required"];
  // kubernetes-models lays its models out as GROUP/VERSION/Kind, the core group as VERSION/Kind.
  let model;
  try {
    model = (await import(`kubernetes-models/${apiVersion}/${kind}`))[kind];
  } catch {
    return [`${apiVersion} ${kind} is not a built-in Kubernetes kind known to kubernetes-models (a typo, or a custom resource this check cannot validate)`];
  }
  if (typeof model?.prototype?.validate !== "function") return [`${apiVersion} ${kind}: no validator`];
  // kustomize wraps long base64 values of a Secret's data over lines; the API server's base64 decoder skips line
  // breaks, the schema's "byte" format does not.
  if (kind === "Secret" && object.data && typeof object.data === "object")
    for (const [k, v] of Object.entries(object.data)) if (typeof v === "string") object.data[k] = v.replace(/[\r\n]/g, "");
  const seen = new WeakMap();
  const watched = watch(object, seen);
  const messages = [];
  try {
    model.prototype.validate.call(watched);
  } catch (e) {
    // ajv's errors, one per line ("data/spec/replicas must be integer").
    messages.push(...String(e.message ?? e).split("\n").filter(Boolean));
  }
  unknownFields(object, seen, "", messages);
  return messages;
}

/** A proxy of value (deeply) that records, per object, which keys were read and whether its keys were enumerated. */
function watch(value, seen) {
  if (value === null || typeof value !== "object") return value;
  const record = { read: new Set(), enumerated: false };
  seen.set(value, record);
  const children = new Map();
  return new Proxy(value, {
    get(target, key, receiver) {
      if (typeof key === "string") record.read.add(key);
      const v = Reflect.get(target, key, receiver);
      if (v === null || typeof v !== "object") return v;
      if (!children.has(key)) children.set(key, watch(v, seen));
      return children.get(key);
    },
    has(target, key) {
      if (typeof key === "string") record.read.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      record.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

function unknownFields(value, seen, path, messages) {
  if (value === null || typeof value !== "object") return;
  const record = seen.get(value);
  if (!record) return; // never reached by the validator: inside a free-form field (e.g. a ConfigMap's data value)
  if (Array.isArray(value)) {
    value.forEach((item, i) => unknownFields(item, seen, `${path}/${i}`, messages));
    return;
  }
  for (const key of Object.keys(value)) {
    if (!record.enumerated && !record.read.has(key)) messages.push(`${path || "/"}: unknown field "${key}"`);
    else unknownFields(value[key], seen, `${path}/${key}`, messages);
  }
}
