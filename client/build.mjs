// Bundles the <live-comments> widget into one minified IIFE file, client/dist/widget.js, and reports its
// gzipped size against the budget. `npm run build:widget` runs it; `npm start` and `npm test` run that first.
import { build, transform } from 'esbuild';
import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));

/** Where the bundle goes; the server serves this file at /widget.js. */
export const WIDGET_PATH = join(here, 'dist', 'widget.js');
/** The most widget.js may weigh, gzipped (level 9). A unit test fails the build past it. */
export const GZIP_BUDGET_BYTES = 35 * 1024;
/** Browsers with custom elements, shadow DOM, constructable stylesheets and container queries. */
export const TARGETS = ['chrome109', 'edge109', 'firefox115', 'safari16.4'];

/** Gzipped size of a file's bytes, as a CDN or the server would send it. */
export function gzippedSize(bytes) {
  return gzipSync(bytes, { level: 9 }).length;
}

/** `import css from './x.css'` gives the file's minified text (adopted as a constructable stylesheet). */
const cssAsText = {
  name: 'css-as-text',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /\.css$/ }, async (args) => {
      const { code } = await transform(await readFile(args.path, 'utf8'), { loader: 'css', minify: true, target: TARGETS });
      return { contents: code.trim(), loader: 'text' };
    });
  },
};

/**
 * Builds widget.js. Writes to a temporary file and renames it into place, so a server (or a test
 * worker building at the same time) never reads a half-written bundle.
 */
export async function buildWidget({ outfile = WIDGET_PATH } = {}) {
  mkdirSync(dirname(outfile), { recursive: true });
  const temp = `${outfile}.${process.pid}.${Date.now()}.tmp`;
  try {
    await build({
      entryPoints: [join(here, 'main.ts')],
      outfile: temp,
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: TARGETS,
      minify: true,
      legalComments: 'eof',
      charset: 'utf8',
      logLevel: 'warning',
      plugins: [cssAsText],
    });
    renameSync(temp, outfile);
  } finally {
    rmSync(temp, { force: true });
  }
  const bytes = readFileSync(outfile);
  return { path: outfile, bytes: bytes.length, gzipped: gzippedSize(bytes) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await buildWidget();
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`widget.js: ${kb(result.bytes)}, ${kb(result.gzipped)} gzipped (budget ${kb(GZIP_BUDGET_BYTES)})`);
  if (result.gzipped > GZIP_BUDGET_BYTES) {
    console.error(`widget.js is over its gzipped budget by ${result.gzipped - GZIP_BUDGET_BYTES} bytes`);
    process.exitCode = 1;
  }
}
