#!/usr/bin/env node
// A committed entry point, so npm links the `chaos` bin even before the first build.
// Plain JavaScript that any Node can parse: it must be able to say which Node chaos needs.
import module from "node:module";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  // 22.13 is the first release with `node:sqlite` (the journal) without a flag; the Kubernetes
  // client's HTTP library (undici 8) needs 22.19.
  process.stderr.write(
    `error: chaos needs Node.js 22.19 or newer (24 recommended); this is ${process.version} at ${process.execPath}.\n` +
      "Install a current Node.js, or see README.md, Install, for one from the npm registry.\n",
  );
  process.exit(2);
}

// `--version` needs nothing but package.json: answered before any module loads.
if (process.argv.length === 3 && (process.argv[2] === "--version" || process.argv[2] === "-V")) {
  const { readFileSync } = await import("node:fs");
  process.stdout.write(`${JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version}\n`);
  process.exit(0);
}

// A bare `--help` is printed from the text `npm run build` rendered from the command table (a test
// compares the two): the parser alone would cost more than the start-up goal allows. Before a
// build there is no text, and the parser renders it.
if (process.argv.length === 3 && (process.argv[2] === "--help" || process.argv[2] === "-h")) {
  const { readFileSync } = await import("node:fs");
  let text;
  try {
    text = readFileSync(new URL("../dist/help.txt", import.meta.url), "utf8");
  } catch {
    // Not built yet.
  }
  if (text) {
    process.stdout.write(text);
    process.exit(0);
  }
}

// Node 22 calls `node:sqlite` experimental and would say so on every command; 24 does not.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
  if (String(warning).startsWith("SQLite is an experimental feature")) return;
  emitWarning.call(process, warning, ...rest);
};

// Compiled code is cached on disk (in the OS temp directory by default), which cuts start-up time.
module.enableCompileCache?.();

await import("../dist/bin.js");
