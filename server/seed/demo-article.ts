import { readFileSync } from 'node:fs';
import type { Article } from '../../shared/schemas.ts';
import type { CommentService } from '../comments/service.ts';
import { parseSeed, type SeedComment } from './parse-seed.ts';

/** The sample article the product was specified from; the demo page shows it. */
export const DEMO_ARTICLE_ID = 'putin-china-visit';

export interface DemoArticle {
  article: Article;
  comments: SeedComment[];
  /** 1-based comment number → 1-based number of the earlier comment it answers. */
  replies: ReadonlyMap<number, number>;
}

const dataUrl = (name: string) => new URL(`./data/${name}`, import.meta.url);

export function loadDemoArticle(): DemoArticle {
  const parsed = parseSeed(readFileSync(dataUrl(`${DEMO_ARTICLE_ID}.txt`), 'utf8'));
  const replyFile = JSON.parse(readFileSync(dataUrl(`${DEMO_ARTICLE_ID}.replies.json`), 'utf8')) as {
    replies: Record<string, number>;
  };
  const replies = new Map(Object.entries(replyFile.replies).map(([child, parent]) => [Number(child), parent]));
  for (const [child, parent] of replies) {
    if (!(parent >= 1 && parent < child && child <= parsed.comments.length))
      throw new Error(`Bad reply mapping ${child} -> ${parent}`);
  }
  return {
    article: { articleId: DEMO_ARTICLE_ID, title: parsed.title, sections: parsed.sections },
    comments: parsed.comments,
    replies,
  };
}

/**
 * Imports the sample thread with its original timestamps. Idempotent: each comment carries a fixed
 * clientId, so instances starting together, or a restart, never duplicate it. Returns how many were new.
 */
export async function importDemoArticle(service: CommentService, demo: DemoArticle): Promise<number> {
  if ((await service.lastSeq(demo.article.articleId)) > 0) return 0;
  const ids: string[] = [];
  let created = 0;
  for (const [index, seed] of demo.comments.entries()) {
    const parentNumber = demo.replies.get(index + 1);
    const parentId = parentNumber === undefined ? null : (ids[parentNumber - 1] ?? null);
    const outcome = await service.importComment(
      demo.article.articleId,
      {
        author: { name: seed.author },
        body: seed.body,
        parentId,
        clientId: `seed-${demo.article.articleId}-${String(index + 1).padStart(2, '0')}`,
      },
      seed.createdAt,
    );
    ids.push(outcome.comment.id);
    if (outcome.created) created++;
  }
  return created;
}
