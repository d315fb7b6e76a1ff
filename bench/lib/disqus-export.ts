/**
 * A synthetic Disqus export for the import benchmark: `posts` posts in `threads` threads, written as
 * gzipped XML the way Disqus ships it, streamed to disk so the generator's memory does not grow with
 * the file. Deterministic for a given size (seeded PRNG), so every run imports the same file.
 *
 * The mix is what real exports hold: about 40% replies (to an earlier post of the same thread), 2%
 * deleted, 1% spam, HTML bodies with paragraphs, line breaks, entities and links, some non-Latin text.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { createGzip, constants } from 'node:zlib';
import { seededRandom } from '../scenarios/common.ts';

const WORDS = (
  'the a of to and in that is for it on with as was he be at by this had not are but from or have an they ' +
  'which one you were all we her she there would their will when who him been has more if no out so said ' +
  'what up its about than into them can only other new some could time these two may then do first any my ' +
  'now such like our over man me even most made after also did many before must through back years where ' +
  'election minister policy summit report market council budget vote treaty economy energy climate trade'
).split(' ');
const NON_LATIN = ['東京', 'Привет', 'مرحبا', 'שלום', 'Grüße', 'café', 'naïve', '😀'];
const NAMES = ['Alice', 'Bob', 'Carol', 'Dmitri', 'Eun-ji', 'Fatima', 'Günter', 'Hiro', 'Ines', 'José'];

function sentence(random: () => number): string {
  const length = 6 + Math.floor(random() * 14);
  const words: string[] = [];
  for (let i = 0; i < length; i++) {
    const roll = random();
    words.push(
      roll < 0.02 ? NON_LATIN[Math.floor(random() * NON_LATIN.length)]! : WORDS[Math.floor(random() * WORDS.length)]!,
    );
  }
  const text = words.join(' ');
  return `${text[0]!.toUpperCase()}${text.slice(1)}${random() < 0.1 ? ' &amp; more' : ''}.`;
}

/** An HTML body of one to four paragraphs, about 300 characters on average. */
function body(random: () => number): string {
  const paragraphs: string[] = [];
  const count = 1 + Math.floor(random() * random() * 4);
  for (let p = 0; p < count; p++) {
    let text = sentence(random);
    if (random() < 0.5) text += `${random() < 0.3 ? '<br>' : ' '}${sentence(random)}`;
    if (random() < 0.08)
      text += ` See <a href="https://example.org/source/${Math.floor(random() * 1000)}" rel="nofollow">the source</a>.`;
    if (random() < 0.05) text += ' &quot;Quoted&quot; &mdash; <b>indeed</b>.';
    paragraphs.push(`<p>${text}</p>`);
  }
  return paragraphs.join('');
}

export interface DisqusExportShape {
  posts: number;
  threads: number;
  /** Posts that are deleted or spam (skipped, or kept as placeholders when they have replies). */
  deleted: number;
  spam: number;
  bytes: number;
}

/** Writes the export to `path` (gzipped) and says what is in it. */
export async function writeDisqusExport(
  path: string,
  posts: number,
  threads: number,
  seed = 12,
): Promise<DisqusExportShape> {
  const random = seededRandom(seed);
  const gzip = createGzip({ level: constants.Z_BEST_SPEED });
  const file = createWriteStream(path);
  gzip.pipe(file);
  let bytes = 0;
  const write = async (chunk: string) => {
    bytes += Buffer.byteLength(chunk);
    if (!gzip.write(chunk)) await once(gzip, 'drain');
  };
  await write(
    '<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">\n',
  );
  const start = Date.UTC(2020, 0, 1) / 1000;
  for (let t = 0; t < threads; t++) {
    await write(
      `<thread dsq:id="${t + 1}"><id>article-${t + 1}</id><forum>bench</forum><link>https://news.example.com/${2020 + (t % 5)}/article-${t + 1}/</link>` +
        `<title>Article ${t + 1}</title><createdAt>${new Date((start + t * 3600) * 1000).toISOString()}</createdAt>` +
        `<isClosed>${t % 50 === 0}</isClosed><isDeleted>false</isDeleted></thread>\n`,
    );
  }
  const postsOf: number[][] = Array.from({ length: threads }, () => []);
  let deleted = 0;
  let spam = 0;
  for (let p = 0; p < posts; p++) {
    const thread = Math.floor(random() * threads);
    const earlier = postsOf[thread]!;
    const parent = earlier.length > 0 && random() < 0.4 ? earlier[Math.floor(random() * earlier.length)]! : null;
    const id = 100_000 + p;
    earlier.push(id);
    const roll = random();
    const isDeleted = roll < 0.02;
    const isSpam = !isDeleted && roll < 0.03;
    if (isDeleted) deleted += 1;
    if (isSpam) spam += 1;
    const name = NAMES[Math.floor(random() * NAMES.length)]!;
    const user = Math.floor(random() * 5000);
    await write(
      `<post dsq:id="${id}"><id/><message><![CDATA[${body(random)}]]></message>` +
        `<createdAt>${new Date((start + thread * 3600 + 60 + p) * 1000).toISOString()}</createdAt>` +
        `<isDeleted>${isDeleted}</isDeleted><isSpam>${isSpam}</isSpam>` +
        `<author><email>reader${user}@example.com</email><name>${name} ${user}</name><isAnonymous>false</isAnonymous><username>reader${user}</username></author>` +
        `<ipAddress>198.51.${user % 250}.${user % 200}</ipAddress><thread dsq:id="${thread + 1}"/>` +
        `${parent === null ? '' : `<parent dsq:id="${parent}"/>`}</post>\n`,
    );
  }
  await write('</disqus>\n');
  gzip.end();
  await once(file, 'close');
  return { posts, threads, deleted, spam, bytes };
}
