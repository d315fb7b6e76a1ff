import { createReadStream } from 'node:fs';
import { pipeline, Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ImportFileError } from './errors.ts';

/** An import's bytes, decompressed when they were gzipped, with the count of bytes read as sent. */
export interface ImportInput {
  stream: Readable;
  /** Bytes read from the source so far (compressed, when it is). */
  bytesRead(): number;
}

/** Refuses a stream past `limit` bytes with an ImportFileError. */
function byteLimit(limit: number, what: string, count: (n: number) => void = () => undefined): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      count(seen);
      if (seen > limit) done(new ImportFileError(`The ${what} is larger than ${limit} bytes`));
      else done(null, chunk);
    },
  });
}

/** The first bytes of a stream, put back so that they are read again. */
function peek(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onReadable = (): void => {
      const chunk = stream.read() as Buffer | null;
      if (chunk === null) return;
      cleanup();
      stream.unshift(chunk);
      resolve(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.alloc(0));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const cleanup = (): void => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

const noop = (): void => undefined;

/**
 * The bytes of an import, from a file path (`-`: standard input) or a stream: gzip is recognised by its
 * magic bytes and decompressed on the fly. `maxBytes` bounds what is sent, `maxInflatedBytes` what it
 * decompresses to (so a small gzip bomb cannot fill the disk of the staging area).
 */
export async function openImportInput(
  source: string | Readable,
  limits: { maxBytes?: number; maxInflatedBytes?: number } = {},
): Promise<ImportInput> {
  let read = 0;
  const raw = typeof source === 'string' ? (source === '-' ? process.stdin : createReadStream(source)) : source;
  const counted = pipeline(
    raw,
    byteLimit(limits.maxBytes ?? Number.POSITIVE_INFINITY, 'file', (n) => (read = n)),
    noop,
  );
  const first = await peek(counted);
  const gzipped = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
  const stream = gzipped
    ? pipeline(
        counted,
        createGunzip(),
        byteLimit(limits.maxInflatedBytes ?? Number.POSITIVE_INFINITY, 'decompressed file'),
        noop,
      )
    : counted;
  return { stream, bytesRead: () => read };
}
