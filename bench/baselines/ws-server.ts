/**
 * Baseline: a bare `ws` server. A subscriber names its article in the URL (`/?article=<id>`); a POST
 * broadcasts `["comment:created", comment]` to the article's sockets in a plain loop, the floor any
 * WebSocket fan-out pays. Started by the bench with PORT and HOST; reports stats over IPC.
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { startStatsResponder } from '../lib/stats-responder.ts';
import { createBareHandler } from './bare-http.ts';

const rooms = new Map<string, Set<WebSocket>>();

const server = createServer(
  createBareHandler((comment) => {
    const sockets = rooms.get(comment.articleId);
    if (!sockets) return;
    const data = Buffer.from(JSON.stringify(['comment:created', comment]));
    for (const socket of sockets) socket.send(data, { binary: false });
  }),
);

const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 64 * 1024 });
wss.on('connection', (socket, req) => {
  const articleId = new URL(req.url ?? '/', 'http://localhost').searchParams.get('article');
  if (!articleId) {
    socket.close(1008, 'article missing');
    return;
  }
  let sockets = rooms.get(articleId);
  if (!sockets) rooms.set(articleId, (sockets = new Set()));
  sockets.add(socket);
  socket.on('close', () => {
    sockets.delete(socket);
    if (sockets.size === 0 && rooms.get(articleId) === sockets) rooms.delete(articleId);
  });
});

startStatsResponder();
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => {
  for (const socket of wss.clients) socket.terminate();
  server.close(() => process.exit(0));
});
