// Builds the dashboard's page (src/web/page) into dist/web/assets with content-hashed names and
// a manifest the daemon reads. Run by `npm run build` (and so by `npm ci` through prepare).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const ASSETS_DIR = join(root, "dist/web/assets");

export async function buildAssets({ outdir = ASSETS_DIR, quiet = false } = {}) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    entryPoints: { app: join(root, "src/web/page/main.js") },
    bundle: true,
    minify: true,
    format: "esm",
    splitting: true,
    chunkNames: "chunk-[hash]",
    target: ["es2020", "chrome100", "firefox100", "safari15"],
    entryNames: "[name]-[hash]",
    outdir,
    absWorkingDir: root,
    metafile: true,
    legalComments: "none",
    logLevel: quiet ? "silent" : "warning",
  });
  const manifest = { files: {}, preload: [], gzip_bytes: {} };
  for (const path of Object.keys(result.metafile.outputs)) {
    if (path.endsWith(".map")) continue;
    const name = basename(path);
    const key = name.startsWith("app-") ? `app.${name.endsWith(".css") ? "css" : "js"}` : name;
    manifest.files[key] = name;
    if (key === "app.js") {
      // The chunks the entry imports statically: the shell preloads them with the entry.
      const { imports } = result.metafile.outputs[path];
      manifest.preload = imports
        .filter((i) => i.kind === "import-statement")
        .map((i) => basename(i.path));
    }
    manifest.gzip_bytes[name] = gzipSync(readFileSync(join(root, path))).length;
  }
  writeFileSync(join(outdir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  if (!quiet) {
    for (const [name, bytes] of Object.entries(manifest.gzip_bytes)) {
      process.stdout.write(`dashboard: ${name} ${(bytes / 1024).toFixed(1)} KB gzipped\n`);
    }
  }
  return manifest;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildAssets();
}
