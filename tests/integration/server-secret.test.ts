import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, vi } from 'vitest';
import { test as it } from '../helpers/fixtures.ts';
import { TestClient } from '../helpers/test-client.ts';
import { AdminFeedSchema, BanResultSchema } from '../../shared/moderation.ts';
import { authorKey, ipKey, normaliseAuthorName } from '../../server/abuse/keys.ts';
import { Keyring } from '../../server/keys/keyring.ts';
import {
  postJson,
  REDIS_URL,
  startTestApp,
  startTwoTestApps,
  tempDir,
  uniqueArticle,
  uniquePrefix,
  type TestApp,
} from '../helpers/test-app.ts';

const ADMIN_TOKEN = randomBytes(18).toString('base64url');
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** A post by `name`, its answer read by status (tests/helpers/test-client.ts). */
const post = (app: TestApp, articleId: string, name: string) =>
  new TestClient(app.url).post(articleId, { name, body: `from ${name}` });

/** The author key moderators see on the newest comment of the article. */
async function moderatorsKey(app: TestApp, articleId: string): Promise<string | null> {
  const res = await fetch(`${app.url}/api/admin/feed?articleId=${articleId}&limit=1`, { headers: admin });
  const feed = AdminFeedSchema.parse(await res.json());
  return feed.comments[0]?.authorKey ?? null;
}

/** What a key was before keyed pseudonyms: plain SHA-256 of the name and the address. */
const oldAuthorKey = (name: string, ip: string) =>
  createHash('sha256')
    .update(`author\0${normaliseAuthorName(name)}\0${ip}`)
    .digest('base64url')
    .slice(0, 32);

describe('the server secret', () => {
  it('without SECRET_KEY: generated once, kept in the store and shared, so a ban made on one instance holds on the other and after a restart', async ({
    defer,
  }) => {
    const pair = await startTwoTestApps({ ADMIN_TOKEN });
    defer(() => pair.close());
    const { a, b } = pair;
    expect(a.app.keys.id).toBe(b.app.keys.id);

    const articleId = uniqueArticle('secret');
    expect((await post(a, articleId, 'Mallory')).status).toBe(201);
    const key = await moderatorsKey(a, articleId);
    expect(key).toBe(authorKey(a.app.keys, 'Mallory', '127.0.0.1'));
    expect(key).not.toBe(oldAuthorKey('Mallory', '127.0.0.1'));

    const comment = AdminFeedSchema.parse(
      await (await fetch(`${a.url}/api/admin/feed?articleId=${articleId}`, { headers: admin })).json(),
    ).comments[0]!;
    const ban = await postJson(`${a.url}/api/admin/bans`, { commentId: comment.id }, admin);
    expect(BanResultSchema.parse(ban.body).ban.authorKey).toBe(key);

    const refused = await post(b, articleId, 'mallory');
    expect(refused).toMatchObject({ status: 403, error: { code: 'forbidden' } });
    expect((await post(b, articleId, 'Alice')).status).toBe(201);

    // A restart reads the kept secret back.
    const sqlitePath = a.app.config.sqlitePath;
    await a.app.close();
    const again = await startTestApp({ sqlitePath, env: { ADMIN_TOKEN } });
    defer(() => again.app.close());
    expect(again.app.keys.id).toBe(b.app.keys.id);
    expect((await post(again, articleId, 'Mallory')).status).toBe(403);
  });

  it('with SECRET_KEY: keys are made with it, nothing is kept in the store, and a different secret makes different keys', async ({
    defer,
  }) => {
    const temp = tempDir();
    defer(() => temp.cleanup());
    const secret = randomBytes(32).toString('base64url');
    const app = await startTestApp({ sqlitePath: join(temp.dir, 'c.db'), env: { ADMIN_TOKEN, SECRET_KEY: secret } });
    defer(() => app.app.close());
    const articleId = uniqueArticle('env');
    expect((await post(app, articleId, 'Ann')).status).toBe(201);
    expect(await moderatorsKey(app, articleId)).toBe(authorKey(new Keyring(secret), 'Ann', '127.0.0.1'));
    expect(await moderatorsKey(app, articleId)).not.toBe(authorKey(new Keyring(`${secret}x`), 'Ann', '127.0.0.1'));
    // Nothing was kept: the first proposal wins.
    expect(await app.app.store.keepSecret('secret_key', 'probe')).toBe('probe');
  });

  it('refuses to start with a SECRET_KEY shorter than 32 bytes', async () => {
    await expect(startTestApp({ env: { SECRET_KEY: 'too-short' } })).rejects.toThrow(
      /SECRET_KEY: must be at least 32 bytes/,
    );
  });

  it('keeps the rate-limit keys in Redis keyed: no address, no plain hash of it', async ({ defer }) => {
    const prefix = uniquePrefix();
    const app = await startTestApp({
      redisPrefix: prefix,
      env: { RATE_LIMIT_POSTS_PER_MINUTE_IP: '50', RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '50' },
    });
    defer(() => app.close());
    const redis = new Redis(REDIS_URL);
    defer(() => void redis.disconnect());
    // The limiter's own Redis connection may still be connecting (the in-memory budget answers meanwhile).
    const stored = await vi.waitFor(async () => {
      expect((await post(app, uniqueArticle('rl'), 'Ann')).status).toBe(201);
      const found = (await redis.keys(`${prefix}rl:*`)).sort();
      expect(found).toHaveLength(2);
      return found;
    });
    expect(stored).toEqual(
      [
        `${prefix}rl:post-author::${authorKey(app.app.keys, 'Ann', '127.0.0.1')}`,
        `${prefix}rl:post-ip::${ipKey(app.app.keys, '127.0.0.1')}`,
      ].sort(),
    );
    const plainIp = createHash('sha256').update('ip\u0000127.0.0.1').digest('base64url').slice(0, 32);
    for (const key of stored) {
      expect(key).not.toContain('127.0.0.1');
      expect(key).not.toContain(plainIp);
      expect(key).not.toContain(oldAuthorKey('Ann', '127.0.0.1'));
      // They expire by themselves, after the one-minute window.
      expect(await redis.pttl(key)).toBeGreaterThan(0);
    }
  });
});
