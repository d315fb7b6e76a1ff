/**
 * The machine's floor for the write path: Node's own HTTP server, no framework, `JSON.parse` of the
 * body, the same better-sqlite3 insert as the Express baseline (bench/baselines/sqlite-insert.ts)
 * and the same 201 answer. What is left of a post when validation, moderation, security headers,
 * logging, fan-out and Express are all taken away: no server on this stack can post faster here.
 */
import { createServer } from 'node:http';
import { startStatsResponder } from '../lib/stats-responder.ts';
import { createBareHandler } from './bare-http.ts';
import { openBaselineStore } from './sqlite-insert.ts';

const store = openBaselineStore('node-sqlite');
const server = createServer(
  createBareHandler(
    () => undefined,
    (comment) =>
      store.insert({
        id: comment.id,
        articleId: comment.articleId,
        name: comment.author.name,
        body: comment.body,
        createdAt: comment.createdAt,
      }),
  ),
);

startStatsResponder();
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  store.close();
  process.exit(0);
});
