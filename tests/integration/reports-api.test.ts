import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ErrorBodySchema } from '../../shared/errors.ts';
import {
  ReportedListSchema,
  ReportedResultSchema,
  ReportResultSchema,
  type ReportedComment,
} from '../../shared/reports.ts';
import type { Comment } from '../../shared/schemas.ts';
import {
  connectSocket,
  getJson,
  postJson,
  startTestApp,
  startTwoTestApps,
  uniqueArticle,
  type TestApp,
  type TestAppPair,
  type TestSocket,
} from '../helpers/test-app.ts';
import { TestClient } from '../helpers/test-client.ts';

const ADMIN_TOKEN = `admin-${nanoid(24)}`;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const newReader = () => `reader-${nanoid(12)}`;

/** A comment stored as new (201). */
const post = async (t: TestApp, articleId: string, body = 'a comment to report'): Promise<Comment> =>
  (await new TestClient(t.url).stored(articleId, { body })).comment;

const report = (t: TestApp, id: string, body: unknown, headers: Record<string, string> = {}) =>
  postJson(`${t.url}/api/comments/${id}/report`, body, headers);

async function queue(t: TestApp): Promise<ReportedComment[]> {
  const res = await getJson(`${t.url}/api/admin/reports`, admin);
  expect(res.status).toBe(200);
  return ReportedListSchema.parse(res.body).reported;
}

describe('reader reports over REST, live to moderators across two instances', () => {
  let pair: TestAppPair;
  let moderator: TestSocket;
  let reader: TestSocket;
  const heard: ReportedComment[] = [];
  const removed: Comment[] = [];
  const updated: Comment[] = [];
  const articleId = uniqueArticle();

  beforeAll(async () => {
    pair = await startTwoTestApps({ ADMIN_TOKEN, REPORT_HOLD_THRESHOLD: '3' });
    moderator = await connectSocket(pair.b.url);
    moderator.on('admin:report', (entry) => heard.push(entry));
    expect(await moderator.emitWithAck('admin:subscribe', { token: ADMIN_TOKEN })).toEqual({ ok: true });
    reader = await connectSocket(pair.b.url);
    reader.on('comment:removed', (c) => removed.push(c));
    reader.on('comment:updated', (c) => updated.push(c));
    expect(await reader.emitWithAck('article:subscribe', { articleId })).toMatchObject({ ok: true });
  });
  afterAll(async () => {
    moderator.disconnect();
    reader.disconnect();
    await pair.close();
  });

  it('refuses bad reports with a typed 400 or 404, and keeps serving', async () => {
    const comment = await post(pair.a, articleId);
    const bad = await report(pair.a, comment.id, { readerId: newReader(), reason: 'boring' });
    expect(bad.status).toBe(400);
    expect(ErrorBodySchema.parse(bad.body).error.code).toBe('invalid_input');
    const extra = await report(pair.a, comment.id, { readerId: newReader(), reason: 'spam', extra: 1 });
    expect(extra.status).toBe(400);
    const longNote = await report(pair.a, comment.id, {
      readerId: newReader(),
      reason: 'other',
      note: 'x'.repeat(501),
    });
    expect(longNote.status).toBe(400);
    const unknown = await report(pair.a, nanoid(), { readerId: newReader(), reason: 'spam' });
    expect(unknown.status).toBe(404);
    expect(ErrorBodySchema.parse(unknown.body).error.code).toBe('not_found');
    expect((await getJson(`${pair.a.url}/api/admin/reports`)).status).toBe(403);
  });

  it('takes a comment out of view at three readers, on both instances at once, and moderators see it live', async () => {
    const comment = await post(pair.a, articleId, 'abusive words here');
    const first = newReader();
    const firstAnswer = await report(pair.a, comment.id, { readerId: first, reason: 'abuse', note: 'insults me' });
    expect(firstAnswer.status).toBe(201);
    expect(ReportResultSchema.parse(firstAnswer.body)).toEqual({
      report: { commentId: comment.id, reason: 'abuse', created: true },
    });
    // One report per reader: a repeat changes nothing.
    const again = await report(pair.b, comment.id, { readerId: first, reason: 'spam' });
    expect(again.status).toBe(200);
    expect(ReportResultSchema.parse(again.body).report.created).toBe(false);
    await vi.waitFor(() => expect(heard.filter((e) => e.comment.id === comment.id).at(-1)?.reports).toBe(1));
    expect(removed.map((c) => c.id)).not.toContain(comment.id);

    // Four more readers at once, two on each instance: the third report overall hides it, once.
    const answers = await Promise.all(
      [pair.a, pair.b, pair.a, pair.b].map((t) => report(t, comment.id, { readerId: newReader(), reason: 'abuse' })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 403, 403]);
    await vi.waitFor(() => expect(removed.filter((c) => c.id === comment.id)).toHaveLength(1));
    expect(removed.find((c) => c.id === comment.id)).toMatchObject({
      status: 'removed',
      body: '',
      author: { name: '' },
    });
    const page = await getJson(`${pair.b.url}/api/articles/${articleId}/comments`);
    expect(JSON.stringify(page.body)).not.toContain('abusive words here');
    await vi.waitFor(() =>
      expect(heard.filter((e) => e.comment.id === comment.id).at(-1)).toMatchObject({
        state: 'hidden',
        reports: 3,
        reasons: { abuse: 3 },
        notes: ['insults me'],
      }),
    );
    expect((await queue(pair.b)).find((e) => e.comment.id === comment.id)).toMatchObject({
      state: 'hidden',
      comment: { originalBody: 'abusive words here', status: 'removed' },
    });

    // A moderator keeps it: restored for readers, out of the queue, and reports no longer hide it.
    const kept = await postJson(`${pair.b.url}/api/admin/reports/${comment.id}/keep`, {}, admin);
    expect(kept.status).toBe(200);
    expect(ReportedResultSchema.parse(kept.body).reported).toMatchObject({ state: 'closed', kept: true });
    await vi.waitFor(() =>
      expect(updated.find((c) => c.id === comment.id)).toMatchObject({ status: 'visible', body: 'abusive words here' }),
    );
    expect((await queue(pair.a)).map((e) => e.comment.id)).not.toContain(comment.id);
    for (let i = 0; i < 3; i++)
      expect((await report(pair.a, comment.id, { readerId: newReader(), reason: 'spam' })).status).toBe(201);
    expect(removed.filter((c) => c.id === comment.id)).toHaveLength(1);
    expect((await queue(pair.a)).find((e) => e.comment.id === comment.id)).toMatchObject({ state: 'open', kept: true });
  });

  it('a moderator removes a reported comment: it leaves the queue live', async () => {
    const comment = await post(pair.a, articleId, 'spam spam');
    await report(pair.a, comment.id, { readerId: newReader(), reason: 'spam' });
    await vi.waitFor(() => expect(heard.some((e) => e.comment.id === comment.id && e.state === 'open')).toBe(true));
    const res = await postJson(`${pair.a.url}/api/admin/comments/${comment.id}/remove`, {}, admin);
    expect(res.status).toBe(200);
    await vi.waitFor(() => expect(heard.filter((e) => e.comment.id === comment.id).at(-1)?.state).toBe('closed'));
    expect((await queue(pair.b)).map((e) => e.comment.id)).not.toContain(comment.id);
    const late = await report(pair.b, comment.id, { readerId: newReader(), reason: 'spam' });
    expect(late.status).toBe(403);
    expect(ErrorBodySchema.parse(late.body).error.message).toMatch(/removed/);
    // Nothing to keep any more.
    expect((await postJson(`${pair.b.url}/api/admin/reports/${comment.id}/keep`, {}, admin)).status).toBe(404);
  });

  it('counts reports and hides in /metrics', async () => {
    const text = await (await fetch(`${pair.a.url}/metrics`)).text();
    expect(text).toMatch(/comment_changes_total\{kind="reported",[^}]*\} [1-9]/);
    expect(text).toMatch(/comment_changes_total\{kind="hidden_by_reports",[^}]*\} [1-9]/);
  });
});

describe('report budgets', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_REPORTS_PER_MINUTE_IP: '2' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 429 past the per-address budget', async () => {
    const articleId = uniqueArticle();
    const comments = [await post(t, articleId), await post(t, articleId), await post(t, articleId)];
    const statuses: number[] = [];
    for (const comment of comments)
      statuses.push((await report(t, comment.id, { readerId: newReader(), reason: 'spam' })).status);
    expect(statuses).toEqual([201, 201, 429]);
  });
});
