// Bundles the browser scripts the server serves, each one minified IIFE file in client/dist/:
//   widget.js  the <live-comments> element (client/main.ts), gzipped size held to a budget;
//   admin.js   the moderators' page at /admin (client/admin/main.ts);
//   count.js   live comment counts for article lists (client/count/main.ts), no socket.io-client;
//   widget-own.js  the edit and delete forms, loaded by widget.js on first use (client/parts.ts);
//   widget-member.js  sign-in from the host site, loaded when a page signs a reader in (client/parts.ts);
//   widget-report.js  the Report form, loaded when a reader first presses Report (client/parts.ts);
//   widget-typing.js  typing indicators, loaded when the reader types or someone else starts writing;
//   widget-permalink.js  the Link action and #comment-<id> addresses, loaded on first use;
//   widget-polling.js  HTTP long-polling, loaded after a WebSocket connection failed (client/parts.ts);
//   widget-notify.js  "Email me when someone replies", loaded when the server sends reply e-mails.
// `npm run build:widget` runs it and prints the sizes; `npm start` and `npm test` run that first.
import { build, transform } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));

/** Where the bundles go; the server serves these files at /widget.js, /admin.js and /count.js. */
export const WIDGET_PATH = join(here, 'dist', 'widget.js');
export const ADMIN_PATH = join(here, 'dist', 'admin.js');
export const COUNT_PATH = join(here, 'dist', 'count.js');
/** Parts of the widget loaded on first use (client/parts.ts), beside widget.js. */
export const PART_PATHS = {
  own: join(here, 'dist', 'widget-own.js'),
  member: join(here, 'dist', 'widget-member.js'),
  report: join(here, 'dist', 'widget-report.js'),
  polling: join(here, 'dist', 'widget-polling.js'),
  notify: join(here, 'dist', 'widget-notify.js'),
  typing: join(here, 'dist', 'widget-typing.js'),
  permalink: join(here, 'dist', 'widget-permalink.js'),
};
/** The most widget.js may weigh, gzipped (level 9). A unit test fails the build past it. */
export const GZIP_BUDGET_BYTES = 35 * 1024;
/** The most count.js may weigh, gzipped: it goes on every list page of a site. */
export const COUNT_GZIP_BUDGET_BYTES = 3 * 1024;
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
      const { code } = await transform(await readFile(args.path, 'utf8'), {
        loader: 'css',
        minify: true,
        target: TARGETS,
      });
      return { contents: code.trim(), loader: 'text' };
    });
  },
};

/**
 * The shared contract defines every schema at module level (`export const XSchema = z.object(…)`).
 * Building a zod schema has no effect outside the object it returns, but esbuild cannot know that
 * of a method chain (`z.string().check(…)`), so it would keep every schema, and the zod code behind
 * it, in every bundle. This marks each top-level `const` initialised by a call as pure (wrapped in a
 * pure-annotated arrow), so a bundle keeps only the schemas it uses. The server runs the files
 * unchanged; only the browser bundles see the annotation.
 */
const pureSharedSchemas = {
  name: 'pure-shared-schemas',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]shared[\\/][^\\/]+\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const file = ts.createSourceFile(args.path, source, ts.ScriptTarget.Latest, true);
      const spans = [];
      for (const statement of file.statements) {
        if (!ts.isVariableStatement(statement)) continue;
        for (const declaration of statement.declarationList.declarations) {
          const init = declaration.initializer;
          if (init && ts.isCallExpression(init)) spans.push([init.getStart(file), init.end]);
        }
      }
      let contents = source;
      for (const [start, end] of spans.reverse())
        contents = `${contents.slice(0, start)}/* @__PURE__ */ (() => ${contents.slice(start, end)})()${contents.slice(end)}`;
      return { contents, loader: 'ts' };
    });
  },
};

/**
 * Methods of socket.io-client's Socket no script of ours calls, left out of the bundles: catch-all
 * listeners (`onAny`, `onAnyOutgoing`, …), `send` (our scripts always `emit` a named event), the
 * `disconnected` getter (they read `connected`), `compress` and `volatile`, and the queue of the `retries`
 * option (never set: posts carry a clientId and are retried by the widget; `_drainQueue`, which the
 * socket calls on connect, is kept as a method that does nothing). A method the socket itself calls
 * is never listed; the build fails if one listed is no longer found (socket.io-client changed).
 */
const UNUSED_SOCKET_METHODS = [
  'send',
  'disconnected',
  'compress',
  'volatile',
  'onAny',
  'prependAny',
  'offAny',
  'listenersAny',
  'onAnyOutgoing',
  'prependAnyOutgoing',
  'offAnyOutgoing',
  'listenersAnyOutgoing',
  '_addToQueue',
];

/**
 * socket.io-client's error for a server that speaks Socket.IO v2 (a CONNECT without a session id):
 * 200 characters with a link, said to no reader (the widget reports a failed connection in its own
 * words); shortened. The build fails if the message is no longer found.
 */
const V2_SERVER_ERROR = /"It seems you are trying to reach a Socket\.IO server in v2\.x[^"]*"/;

/** socket.io-client's socket.js without UNUSED_SOCKET_METHODS, and with V2_SERVER_ERROR shortened. */
function slimSocketSource(path, source) {
  const file = ts.createSourceFile(path, source, ts.ScriptTarget.Latest, true);
  const socketClass = file.statements.find((s) => ts.isClassDeclaration(s) && s.name?.text === 'Socket');
  if (!socketClass) throw new Error(`${path}: no class Socket`);
  const edits = [];
  const found = new Set();
  for (const member of socketClass.members) {
    const name = member.name && ts.isIdentifier(member.name) ? member.name.text : null;
    if (name !== null && UNUSED_SOCKET_METHODS.includes(name)) {
      edits.push([member.getStart(file), member.end, '']);
      found.add(name);
    } else if (name === '_drainQueue' && ts.isMethodDeclaration(member) && member.body) {
      edits.push([member.body.getStart(file), member.body.end, '{}']);
      found.add(name);
    }
  }
  const missing = [...UNUSED_SOCKET_METHODS, '_drainQueue'].filter((name) => !found.has(name));
  if (missing.length > 0) throw new Error(`${path}: socket.io-client no longer has ${missing.join(', ')}`);
  let contents = source;
  for (const [start, end, text] of edits.sort((a, b) => b[0] - a[0]))
    contents = `${contents.slice(0, start)}${text}${contents.slice(end)}`;
  if (!V2_SERVER_ERROR.test(contents)) throw new Error(`${path}: socket.io-client no longer has its v2 server error`);
  return contents.replace(V2_SERVER_ERROR, '"Socket.IO v2 server: not supported"');
}

/**
 * engine.io-client's socket.js without the body of `_probe`, which tries a better transport once a
 * connection is open over polling. widget.js opens with the WebSocket and turns upgrades off
 * (`upgrade: false`, client/connection-pool.ts): polling is its fallback only after a WebSocket failed,
 * and its next reconnect tries the WebSocket first again. The build fails if the method is gone.
 */
function withoutUpgradeProbe(path, source) {
  const file = ts.createSourceFile(path, source, ts.ScriptTarget.Latest, true);
  const socketClass = file.statements.find((s) => ts.isClassDeclaration(s) && s.name?.text === 'Socket');
  const probe = socketClass?.members.find(
    (member) => ts.isMethodDeclaration(member) && member.name.getText(file) === '_probe' && member.body,
  );
  if (!probe?.body) throw new Error(`${path}: no Socket._probe`);
  return `${source.slice(0, probe.body.getStart(file))}{}${source.slice(probe.body.end)}`;
}

/**
 * engine.io-client's index as widget.js sees it: the WebSocket transport only. HTTP long-polling is
 * a part (widget-polling.js, client/polling-part.ts) the widget loads after a WebSocket connection
 * failed; the names socket.io-client re-exports and the widget never uses are left undefined.
 */
const WEBSOCKET_ONLY_ENGINE_INDEX = `export { Socket } from "./socket.js";
export { installTimerFunctions } from "./util.js";
export { parse } from "./contrib/parseuri.js";
export { nextTick } from "./globals.node.js";
export { WS as WebSocket } from "./transports/websocket.node.js";
export const Fetch = undefined, NodeXHR = undefined, XHR = undefined, NodeWebSocket = undefined, WebTransport = undefined;
`;

/**
 * engine.io-client's `parse(uri)` over the browser's URL, with the fields socket.io-client and
 * engine.io-client read (the host without an IPv6 address's brackets, as theirs gives it).
 */
const URL_PARSEURI = `export function parse(source) {
  const url = new URL(source);
  return {
    source,
    protocol: url.protocol.slice(0, -1),
    host: url.hostname.replace(/^\\[|\\]$/g, ""),
    port: url.port,
    path: url.pathname,
    query: url.search.slice(1),
    queryKey: Object.fromEntries(url.searchParams),
  };
}
`;

/**
 * zod's errors for what no script of ours does (an async schema met during a synchronous parse, async
 * object keys, a schema used before it was built), shortened in the browser bundles: they would only
 * ever reach a developer's console, and they are a sentence each. The build fails if one is no longer
 * found (zod changed); `tests/unit/widget-size.test.ts` keeps the budget honest either way.
 */
const ZOD_DEVELOPER_ERRORS = [
  ['core/core.js', 'Encountered Promise during synchronous parse. Use .parseAsync() instead.', 'zod: async parse'],
  ['core/schemas.js', 'Async schemas not supported in object keys currently', 'zod: async key'],
  ['mini/schemas.js', 'Uninitialized schema in ZodMiniType.', 'zod: uninitialized'],
];
const shortZodErrors = {
  name: 'short-zod-errors',
  setup(pluginBuild) {
    pluginBuild.onLoad(
      { filter: /[\\/]zod[\\/]v4[\\/](core[\\/](core|schemas)|mini[\\/]schemas)\.js$/ },
      async (args) => {
        let contents = await readFile(args.path, 'utf8');
        const path = args.path.replaceAll('\\', '/');
        for (const [file, long, short] of ZOD_DEVELOPER_ERRORS) {
          if (!path.endsWith(`/v4/${file}`)) continue;
          if (!contents.includes(long)) throw new Error(`${args.path}: zod no longer says "${long}"`);
          contents = contents.replaceAll(long, short);
        }
        return { contents, loader: 'js' };
      },
    );
  },
};

/**
 * Leaves out what the widget never uses of socket.io-client: the WebTransport transport (engine.io
 * only offers it when asked to), the binary half of the Socket.IO parser (the protocol is JSON
 * text: shared/socket-parser.ts encodes and decodes exactly the text packets, checked against the
 * real parser by a unit test), and the Socket methods above. `engine` says which transports a bundle
 * gets: `both` (admin.js), `websocket` (widget.js) or `polling` (widget-polling.js, whose
 * `engine.io-client` is the polling transport's own module, without the engine around it).
 */
const slimSocketIo = (engine = 'both') => ({
  name: 'slim-socket-io',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^socket\.io-parser$/ }, () => ({
      path: join(here, '..', 'shared', 'socket-parser.ts'),
    }));
    if (engine === 'polling')
      pluginBuild.onResolve({ filter: /^engine\.io-client$/ }, () => ({
        path: join(here, '..', 'node_modules', 'engine.io-client', 'build', 'esm', 'transports', 'polling-xhr.js'),
      }));
    if (engine === 'websocket')
      pluginBuild.onLoad({ filter: /[\\/]engine\.io-client[\\/]build[\\/]esm[\\/]index\.js$/ }, (args) => ({
        contents: WEBSOCKET_ONLY_ENGINE_INDEX,
        resolveDir: dirname(args.path),
        loader: 'js',
      }));
    if (engine === 'websocket')
      pluginBuild.onLoad({ filter: /[\\/]engine\.io-client[\\/]build[\\/]esm[\\/]socket\.js$/ }, async (args) => ({
        contents: withoutUpgradeProbe(args.path, await readFile(args.path, 'utf8')),
        loader: 'js',
      }));
    // engine.io-client parses URLs with a long regular expression of its own; the widget's browsers have URL.
    if (engine === 'websocket')
      pluginBuild.onLoad({ filter: /[\\/]engine\.io-client[\\/]build[\\/]esm[\\/]contrib[\\/]parseuri\.js$/ }, () => ({
        contents: URL_PARSEURI,
        loader: 'js',
      }));
    // engine.io packets are text only here (the server never sends binary): no Blob, ArrayBuffer or base64 paths.
    pluginBuild.onLoad(
      { filter: /[\\/]engine\.io-parser[\\/]build[\\/]esm[\\/]encodePacket\.browser\.js$/ },
      (args) => ({
        contents:
          'import { PACKET_TYPES } from "./commons.js";\nexport const encodePacket = ({ type, data }, _binary, callback) => callback(PACKET_TYPES[type] + (data || ""));\nexport function encodePacketToBinary() { throw new Error("binary packets are not used"); }\n',
        resolveDir: dirname(args.path),
        loader: 'js',
      }),
    );
    pluginBuild.onLoad(
      { filter: /[\\/]engine\.io-parser[\\/]build[\\/]esm[\\/]decodePacket\.browser\.js$/ },
      (args) => ({
        contents:
          'import { ERROR_PACKET, PACKET_TYPES_REVERSE } from "./commons.js";\nexport const decodePacket = (packet) => {\n  const type = typeof packet === "string" ? PACKET_TYPES_REVERSE[packet.charAt(0)] : undefined;\n  if (!type) return ERROR_PACKET;\n  return packet.length > 1 ? { type, data: packet.substring(1) } : { type };\n};\n',
        resolveDir: dirname(args.path),
        loader: 'js',
      }),
    );
    pluginBuild.onLoad({ filter: /[\\/]socket\.io-client[\\/]build[\\/]esm[\\/]socket\.js$/ }, async (args) => ({
      contents: slimSocketSource(args.path, await readFile(args.path, 'utf8')),
      loader: 'js',
    }));
    pluginBuild.onLoad(
      { filter: /[\\/]engine\.io-client[\\/]build[\\/]esm[\\/]transports[\\/]index\.js$/ },
      (args) => ({
        // Transports by name, for a bundle that names them by strings (admin.js). widget.js hands
        // engine.io-client the transports themselves (client/connection-pool.ts), polling from its part.
        contents:
          engine === 'both'
            ? 'import { XHR } from "./polling-xhr.node.js";\nimport { WS } from "./websocket.node.js";\nexport const transports = { websocket: WS, polling: XHR };\n'
            : 'export const transports = {};\n',
        resolveDir: dirname(args.path),
        loader: 'js',
      }),
    );
  },
});

/**
 * Builds one bundle. Writes to a temporary file and renames it into place, so a server (or a test
 * worker building at the same time) never reads a half-written bundle.
 */
async function bundle(entry, outfile, { engine, ...options } = {}) {
  mkdirSync(dirname(outfile), { recursive: true });
  const temp = `${outfile}.${process.pid}.${Date.now()}.tmp`;
  try {
    const result = await build({
      entryPoints: [entry],
      outfile: temp,
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: TARGETS,
      minify: true,
      legalComments: 'eof',
      charset: 'utf8',
      logLevel: 'warning',
      plugins: [cssAsText, pureSharedSchemas, shortZodErrors, slimSocketIo(engine)],
      metafile: Boolean(process.env.METAFILE_DIR),
      ...options,
    });
    // `METAFILE_DIR=/tmp/meta npm run build:widget` keeps esbuild's account of what each bundle holds (for size work).
    if (result.metafile)
      writeFileSync(
        join(process.env.METAFILE_DIR, `${basename(outfile, '.js')}.meta.json`),
        JSON.stringify(result.metafile),
      );
    renameSync(temp, outfile);
  } finally {
    rmSync(temp, { force: true });
  }
  const bytes = readFileSync(outfile);
  return { path: outfile, bytes: bytes.length, gzipped: gzippedSize(bytes) };
}

/** The `_name`s a package's files use, and those of them it also reaches by a quoted string (`x["_name"]`). */
function underscoreNames(folders) {
  const used = new Set();
  const quoted = new Set();
  for (const folder of folders) {
    const path = join(here, '..', 'node_modules', folder);
    for (const file of readdirSync(path).filter((name) => name.endsWith('.js'))) {
      const text = readFileSync(join(path, file), 'utf8');
      for (const [, name] of text.matchAll(/\b(_[A-Za-z]\w*)/g)) used.add(name);
      for (const [, name] of text.matchAll(/["'](_[A-Za-z]\w*)["']/g)) quoted.add(name);
    }
  }
  return { used, quoted };
}

/**
 * socket.io-client and engine.io-client name their internals with a leading underscore (`_readyState`,
 * `_reconnectionDelayMax`, … about 60 names): widget.js shortens those (esbuild's mangleProps), which
 * gives back about 0.3 KB gzipped of its budget. Left alone: names they also reach by a quoted string
 * (`this.io["_destroy"]`, which esbuild would not rename), and every `_name` zod uses (zod reaches some
 * through its namespace object, which renaming would force into the bundle whole).
 */
function widgetMangling() {
  const socket = underscoreNames([
    'engine.io-client/build/esm',
    'engine.io-client/build/esm/transports',
    'socket.io-client/build/esm',
    '@socket.io/component-emitter/lib/esm',
  ]);
  const zod = underscoreNames(['zod/v4/core', 'zod/v4/mini']);
  const names = [...socket.used].filter((name) => !socket.quoted.has(name) && !zod.used.has(name)).sort();
  return { mangleProps: new RegExp(`^(${[...names, ...OWN_MEMBERS].join('|')})$`) };
}

/**
 * Long names of the widget's own members that cross its modules (never reached by a string): shortened
 * too. Never a name a lazily loaded part shares with widget.js (client/parts.ts): parts are built
 * without this, so both sides must spell it the same (`loadReplies` is not here: widget-permalink.js calls it).
 */
const OWN_MEMBERS = [
  'awaitingModeration',
  'unrevealed',
  'scheduleRender',
  'matchPush',
  'isMatched',
  'replyForm',
  'refreshTimes',
  'receiveBatch',
];

/** Builds widget.js. */
export function buildWidget({ outfile = WIDGET_PATH } = {}) {
  return bundle(join(here, 'main.ts'), outfile, { engine: 'websocket', ...widgetMangling() });
}

/** Builds the lazily loaded parts of the widget (widget-<name>.js). */
export function buildParts() {
  return Promise.all([
    bundle(join(here, 'own-part.ts'), PART_PATHS.own),
    bundle(join(here, 'member-part.ts'), PART_PATHS.member),
    bundle(join(here, 'report-part.ts'), PART_PATHS.report),
    bundle(join(here, 'polling-part.ts'), PART_PATHS.polling, { engine: 'polling' }),
    bundle(join(here, 'notify-part.ts'), PART_PATHS.notify),
    bundle(join(here, 'typing-part.ts'), PART_PATHS.typing),
    bundle(join(here, 'permalink-part.ts'), PART_PATHS.permalink),
  ]);
}

/** Builds admin.js, the script of the /admin page. */
export function buildAdmin({ outfile = ADMIN_PATH } = {}) {
  return bundle(join(here, 'admin', 'main.ts'), outfile);
}

/** Builds count.js. */
export function buildCount({ outfile = COUNT_PATH } = {}) {
  return bundle(join(here, 'count', 'main.ts'), outfile);
}

/** Where the widget's language tables go (client/i18n/<lang>.json, minified); the server sends them as /i18n/<lang>.json. */
export const TABLES_DIR = join(here, 'dist', 'i18n');

/**
 * Copies the language tables into client/dist/i18n/, minified (a table that is not JSON fails the
 * build): the widget's, and the /admin page's from client/i18n/admin/ into client/dist/i18n/admin/.
 */
export function buildTables() {
  return [
    ...copyTables(join(here, 'i18n'), TABLES_DIR),
    ...copyTables(join(here, 'i18n', 'admin'), join(TABLES_DIR, 'admin')),
  ];
}

function copyTables(folder, outdir) {
  mkdirSync(outdir, { recursive: true });
  return readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .map((name) => {
      const outfile = join(outdir, name);
      const bytes = Buffer.from(JSON.stringify(JSON.parse(readFileSync(join(folder, name), 'utf8'))));
      const temp = `${outfile}.${process.pid}.tmp`;
      writeFileSync(temp, bytes);
      renameSync(temp, outfile);
      return { path: outfile, bytes: bytes.length, gzipped: gzippedSize(bytes) };
    });
}

/** Builds every bundle, in parallel. */
export async function buildAll() {
  const [widget, admin, count, [own, member, report, polling, notify, typing, permalink]] = await Promise.all([
    buildWidget(),
    buildAdmin(),
    buildCount(),
    buildParts(),
  ]);
  const tables = buildTables();
  return {
    widget,
    admin,
    count,
    'widget-own': own,
    'widget-member': member,
    'widget-report': report,
    'widget-polling': polling,
    'widget-notify': notify,
    'widget-typing': typing,
    'widget-permalink': permalink,
    tables,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { tables, ...results } = await buildAll();
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  const budgets = { widget: GZIP_BUDGET_BYTES, count: COUNT_GZIP_BUDGET_BYTES };
  for (const [name, result] of Object.entries(results)) {
    const budget = budgets[name];
    console.log(
      `${name}.js: ${kb(result.bytes)}, ${kb(result.gzipped)} gzipped${budget ? ` (budget ${kb(budget)})` : ''}`,
    );
    if (budget && result.gzipped > budget) {
      console.error(`${name}.js is over its gzipped budget by ${result.gzipped - budget} bytes`);
      process.exitCode = 1;
    }
  }
  const largest = tables.reduce((a, b) => (b.gzipped > a.gzipped ? b : a), { path: '', gzipped: 0 });
  console.log(
    `i18n/*.json, i18n/admin/*.json: ${tables.length} tables, the largest ${basename(largest.path)} ${kb(largest.gzipped)} gzipped`,
  );
}
