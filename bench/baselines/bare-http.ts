import type { IncomingMessage, ServerResponse } from 'node:http';
import { nanoid } from 'nanoid';

/** Largest request body the baselines read, like the product's 64 KB limit. */
const MAX_BODY_BYTES = 64 * 1024;
const POST_PATH = /^\/api\/articles\/([A-Za-z0-9][A-Za-z0-9._:-]{0,127})\/comments$/;

/** The comment the baselines broadcast: the product's shape and size, so every server sends the same bytes per delivery. */
export interface BaselineComment {
  id: string;
  articleId: string;
  parentId: null;
  author: { name: string };
  body: string;
  createdAt: string;
  editedAt: null;
  status: 'visible';
  seq: number;
}

/** Answers with a length, not chunked: as Express does, and as the write path's lean posters read answers. */
function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

/** Gives a new comment its seq: in memory by default, or by storing it (bench/baselines/sqlite-insert.ts). */
export type Numbering = (comment: Omit<BaselineComment, 'seq'>) => number;

/**
 * The bare HTTP side shared by the baselines: `GET /healthz`, and `POST /api/articles/:articleId/comments`
 * with `{ author: { name }, body }`, which numbers the comment per article (`numbering`), hands it to
 * `broadcast`, and answers 201 like the product. Minimal checks only: these are floors, not products.
 */
export function createBareHandler(
  broadcast: (comment: BaselineComment) => void,
  numbering?: Numbering,
): (req: IncomingMessage, res: ServerResponse) => void {
  const seqs = new Map<string, number>();
  const inMemory: Numbering = ({ articleId }) => {
    const seq = (seqs.get(articleId) ?? 0) + 1;
    seqs.set(articleId, seq);
    return seq;
  };
  const number = numbering ?? inMemory;
  return (req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') {
      answer(res, 200, '{"status":"ok"}');
      return;
    }
    const match = req.method === 'POST' ? POST_PATH.exec(req.url ?? '') : null;
    if (!match) {
      answer(res, 404, '{"error":{"code":"not_found","message":"Not found"}}');
      return;
    }
    const articleId = match[1]!;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      let input: { author?: { name?: unknown }; body?: unknown };
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof input;
      } catch {
        input = {};
      }
      if (size > MAX_BODY_BYTES || typeof input.body !== 'string' || typeof input.author?.name !== 'string') {
        answer(res, 400, '{"error":{"code":"invalid_input","message":"Invalid comment"}}');
        return;
      }
      const unnumbered: Omit<BaselineComment, 'seq'> = {
        id: nanoid(),
        articleId,
        parentId: null,
        author: { name: input.author.name },
        body: input.body,
        createdAt: new Date().toISOString(),
        editedAt: null,
        status: 'visible',
      };
      const comment: BaselineComment = { ...unnumbered, seq: number(unnumbered) };
      broadcast(comment);
      answer(res, 201, JSON.stringify({ comment, authorToken: nanoid(43) }));
    });
  };
}
