// Writes the web app's persisted-query manifest (scripts/persisted-manifest.ts says what is in
// it): `node scripts/persisted-manifest.mjs [out]`, by default dist/persisted-operations.json.
// The last step of `npm run build` (after Vite, which empties dist/). No dependency of its own:
// the TypeScript is bundled by the esbuild that Vite installs, and run by this Node.
//
// It reads every module of src/app/operations/ (each file but index.ts, which only re-exports
// them for the app): the bundle's entry imports each one and hands them to manifest() by name.
import { build } from "esbuild";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = resolve(process.argv[2] ?? resolve(web, "dist", "persisted-operations.json"));
const bundle = resolve(web, "node_modules", ".cache", "persisted-manifest", "manifest.mjs");
const folder = resolve(web, "src", "app", "operations");
const modules = readdirSync(folder)
  .filter((file) => /\.tsx?$/.test(file) && !/\.d\.ts$/.test(file) && !/^index\.tsx?$/.test(file))
  .sort();
if (modules.length === 0) throw new Error(`${folder}: no module of operations`);
const entry = [
  'export { manifest } from "./scripts/persisted-manifest.ts";',
  ...modules.map((file, i) => `import * as module${i} from "./src/app/operations/${file}";`),
  `export const modules = { ${modules.map((file, i) => `${JSON.stringify(file)}: module${i}`).join(", ")} };`,
].join("\n");

await build({
  stdin: { contents: entry, resolveDir: web, sourcefile: "persisted-manifest-entry.ts", loader: "ts" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile: bundle,
  // urql's production build: the same code the app ships, without development warnings.
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});
const { manifest, modules: exported } = await import(pathToFileURL(bundle).href);
const result = await manifest(exported);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`${out}: ${result.operations.length} operations from ${modules.length} modules`);
