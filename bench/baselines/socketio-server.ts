/**
 * Baseline: a bare Socket.IO server with the product's server options. `article:subscribe
 * { articleId }` joins the room and acks; a POST does `io.to(room).emit('comment:created', comment)`.
 * With REDIS_URL, instances share rooms through @socket.io/redis-adapter (channel prefix REDIS_PREFIX).
 */
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { startStatsResponder } from '../lib/stats-responder.ts';
import { createBareHandler } from './bare-http.ts';

const server = createServer(
  createBareHandler((comment) => io.to(`article:${comment.articleId}`).emit('comment:created', comment)),
);
const io = new Server(server, { serveClient: false, maxHttpBufferSize: 64 * 1024 });

const redisUrl = process.env.REDIS_URL;
const clients: Redis[] = [];
if (redisUrl) {
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  clients.push(pub, sub);
  io.adapter(createAdapter(pub, sub, { key: `${process.env.REDIS_PREFIX ?? 'bench:'}socket.io` }));
}

io.on('connection', (socket) => {
  socket.on('article:subscribe', (payload: unknown, ack: unknown) => {
    const articleId =
      typeof payload === 'object' && payload !== null ? (payload as { articleId?: unknown }).articleId : undefined;
    const reply = typeof ack === 'function' ? (ack as (answer: object) => void) : () => undefined;
    if (typeof articleId !== 'string' || articleId.length === 0 || articleId.length > 128) {
      reply({ ok: false, error: { code: 'invalid_input', message: 'Invalid subscription' } });
      return;
    }
    void Promise.resolve(socket.join(`article:${articleId}`)).then(() => reply({ ok: true, lastSeq: 0, comments: [] }));
  });
});

startStatsResponder();
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => {
  void io.close(() => {
    for (const client of clients) client.disconnect();
    process.exit(0);
  });
});
