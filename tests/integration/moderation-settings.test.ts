import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ModerationSettingsAnswerSchema, ModerationSettingsSchema } from '../../shared/moderation-settings.ts';
import { ErrorBodySchema } from '../../shared/errors.ts';
import { storeTest } from '../helpers/fixtures.ts';
import { storeFactories } from '../helpers/store-factories.ts';
import {
  getJson,
  startTestApp,
  startTwoTestApps,
  uniqueArticle,
  type TestApp,
  type TestAppPair,
} from '../helpers/test-app.ts';
import { TestClient } from '../helpers/test-client.ts';

const ADMIN_TOKEN = `admin-${nanoid(24)}`;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

async function put(url: string, body: unknown, headers: Record<string, string> = admin) {
  const res = await fetch(`${url}/api/admin/settings/moderation`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown, cache: res.headers.get('cache-control') };
}

const settingsOf = async (t: TestApp) =>
  ModerationSettingsAnswerSchema.parse((await getJson(`${t.url}/api/admin/settings/moderation`, admin)).body);

/** A post on a fresh article, its answer read by status. */
const post = (t: TestApp, body: string) => new TestClient(t.url).post(uniqueArticle(), { body });

describe.each(storeFactories)('moderation settings in the store: %s', (_name, makeStore) => {
  const it = storeTest(makeStore);

  it('keeps the last saved settings with a version that grows by one per save', async ({ newStore }) => {
    const store = await newStore();
    expect(await store.moderationSettings()).toBeNull();
    expect(await store.saveModerationSettings('{"maxLinks":1}', '2026-01-01T00:00:00.000Z')).toBe(1);
    expect(await store.saveModerationSettings('{"maxLinks":5}', '2026-01-02T00:00:00.000Z')).toBe(2);
    expect(await store.moderationSettings()).toEqual({
      version: 2,
      settings: '{"maxLinks":5}',
      updatedAt: '2026-01-02T00:00:00.000Z',
    });
  });
});

describe('GET/PUT /api/admin/settings/moderation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { ADMIN_TOKEN } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers the empty defaults before any change', async () => {
    expect(await settingsOf(t)).toEqual({ settings: ModerationSettingsSchema.parse({}), version: 0 });
  });

  it('is for moderators only', async () => {
    expect((await getJson(`${t.url}/api/admin/settings/moderation`)).status).toBe(403);
    expect((await put(t.url, { bannedWords: ['x'] }, {})).status).toBe(403);
    expect((await put(t.url, { bannedWords: ['x'] }, { authorization: 'Bearer not-the-token-at-all' })).status).toBe(
      403,
    );
  });

  it('refuses invalid settings with the field named, and changes nothing', async () => {
    const before = await settingsOf(t);
    const res = await put(t.url, { maxLinks: -1, bannedWords: ['x'.repeat(65)] });
    expect(res.status).toBe(400);
    const paths = ErrorBodySchema.parse(res.body).error.issues?.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['maxLinks', 'bannedWords.0']));
    expect((await put(t.url, { unknownSetting: true })).status).toBe(400);
    expect(await settingsOf(t)).toEqual(before);
  });

  it('applies a change at once, and a later PUT replaces it whole', async () => {
    expect((await post(t, 'what a load of merde')).status).toBe(201);
    const res = await put(t.url, { bannedWords: ['merde'], maxLinks: 0 });
    expect(res.status).toBe(200);
    expect(res.cache).toBe('no-store');
    const answer = ModerationSettingsAnswerSchema.parse(res.body);
    expect(answer.settings).toMatchObject({ bannedWords: ['merde'], maxLinks: 0, suspectWords: [] });
    expect(answer.version).toBeGreaterThan(0);
    expect(await settingsOf(t)).toEqual(answer);
    expect((await post(t, 'what a load of merde')).status).toBe(400);
    expect((await post(t, 'see https://a.example')).status).toBe(202);
    await put(t.url, {});
    expect((await post(t, 'what a load of merde')).status).toBe(201);
  });
});

describe('moderation settings on two instances', () => {
  let pair: TestAppPair;
  beforeAll(async () => {
    pair = await startTwoTestApps({ ADMIN_TOKEN });
  });
  afterAll(async () => {
    await pair.close();
  });

  it('a change on one instance takes effect on the other, and on an instance started later', async () => {
    const word = `spamword${nanoid(6)
      .replace(/[^a-z]/gi, '')
      .toLowerCase()}`;
    expect((await post(pair.b, `hello ${word}`)).status).toBe(201);
    const saved = ModerationSettingsAnswerSchema.parse((await put(pair.a.url, { bannedWords: [word] })).body);
    // Announced over Redis: B reloads from the store without waiting for its periodic look (30 s).
    await vi.waitFor(async () => expect((await settingsOf(pair.b)).version).toBe(saved.version), {
      timeout: 5000,
      interval: 50,
    });
    expect((await settingsOf(pair.b)).settings.bannedWords).toEqual([word]);
    const refused = await post(pair.b, `hello ${word}`);
    expect(refused.status).toBe(400);
    expect('error' in refused && refused.error.message).toContain(word);
    // A third instance on the same store starts with the stored settings.
    const c = await startTestApp({ sqlitePath: pair.a.app.config.sqlitePath, env: { ADMIN_TOKEN } });
    try {
      expect(await settingsOf(c)).toEqual(saved);
      expect((await post(c, `hello ${word}`)).status).toBe(400);
    } finally {
      await c.close();
    }
  });
});
