// Writes the web app's persisted-query manifest (scripts/persisted-manifest.ts says what is in
// it): `node scripts/persisted-manifest.mjs [out]`, by default dist/persisted-operations.json.
// The last step of `npm run build` (after Vite, which empties dist/). No dependency of its own:
// the TypeScript is bundled by the esbuild that Vite installs, and run by this Node.
import { build } from "esbuild";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = resolve(process.argv[2] ?? resolve(web, "dist", "persisted-operations.json"));
const bundle = resolve(web, "node_modules", ".cache", "persisted-manifest", "manifest.mjs");

await build({
  entryPoints: [resolve(web, "scripts", "persisted-manifest.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile: bundle,
  // urql's production build: the same code the app ships, without development warnings.
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});
const { manifest } = await import(pathToFileURL(bundle).href);
const result = await manifest();
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`${out}: ${result.operations.length} operations`);
