import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArticleSchema, CommentPageSchema } from '../../shared/schemas.ts';
import { parseSeed } from '../../server/seed/parse-seed.ts';
import { getJson, startTestApp, tempDir } from '../helpers/test-app.ts';

const seed = parseSeed(readFileSync(new URL('../../server/seed/data/putin-china-visit.txt', import.meta.url), 'utf8'));

describe('the sample article', () => {
  const temp = tempDir();
  const sqlitePath = join(temp.dir, 'demo.db');
  afterAll(() => temp.cleanup());

  it('is imported once with all eight comments intact, replies under the comment they answer, and survives restarts without duplicates', async () => {
    for (let start = 0; start < 2; start++) {
      const server = await startTestApp({ sqlitePath, env: { SEED_DEMO: 'true' } });
      try {
        const page = CommentPageSchema.parse(
          (await getJson(`${server.url}/api/articles/putin-china-visit/comments?order=oldest&limit=100`)).body,
        );
        expect(page.lastSeq).toBe(8);
        expect(page.comments).toHaveLength(8);
        const byAuthor = new Map(page.comments.map((c) => [c.author.name, c]));
        for (const original of seed.comments) {
          const stored = byAuthor.get(original.author);
          expect(stored?.body).toBe(original.body);
          expect(stored?.createdAt).toBe(original.createdAt);
        }
        const john = byAuthor.get('John Crulz')!;
        expect(byAuthor.get('Anita Drake')?.parentId).toBe(john.id);
        expect(byAuthor.get('Eduardo Lopez')?.parentId).toBe(john.id);
        // Oldest first: John's replies follow him directly.
        const order = page.comments.map((c) => c.author.name);
        expect(order.slice(order.indexOf('John Crulz'), order.indexOf('John Crulz') + 3)).toEqual([
          'John Crulz',
          'Anita Drake',
          'Eduardo Lopez',
        ]);
        expect(byAuthor.get('Jasmine Hinds')?.body).toContain('😮');
        expect(byAuthor.get('Madison Neal')?.body).toContain('Sino\u2011Russian');

        const article = ArticleSchema.parse((await getJson(`${server.url}/api/articles/putin-china-visit`)).body);
        expect(article.title).toBe("Putin's Diplomatic Mission in China");
        expect(article.sections).toHaveLength(7);
      } finally {
        await server.close();
      }
    }
  });

  it('answers 404 for an article with no stored text', async () => {
    const server = await startTestApp();
    try {
      const res = await getJson(`${server.url}/api/articles/some-other-article`);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: { code: 'not_found' } });
    } finally {
      await server.close();
    }
  });
});
