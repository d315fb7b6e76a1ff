import { afterAll, beforeAll, describe, expect, vi } from 'vitest';
import { test as it } from '../helpers/fixtures.ts';
import { nanoid } from 'nanoid';
import { CommentSchema, type Comment } from '../../shared/schemas.ts';
import { postJson, startTwoTestApps, uniqueArticle, type TestApp, type TestAppPair } from '../helpers/test-app.ts';
import { checkedAck } from '../helpers/acks.ts';

/** One sample of Prometheus text: `name{a="x",b="y"} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`Not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(app: TestApp): Promise<{ contentType: string | null; samples: Sample[] }> {
  const res = await fetch(`${app.url}/metrics`);
  expect(res.status).toBe(200);
  return { contentType: res.headers.get('content-type'), samples: parseSamples(await res.text()) };
}

/** The value of the one sample with this name whose labels include `labels`; 0 when absent (a counter never incremented). */
async function value(app: TestApp, name: string, labels: Record<string, string> = {}): Promise<number> {
  const { samples } = await scrape(app);
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  expect(found.length).toBeLessThanOrEqual(1);
  return found[0]?.value ?? 0;
}

describe('/metrics on two instances over Redis', () => {
  let pair: TestAppPair | undefined;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    pair = await startTwoTestApps();
    ({ a, b } = pair);
  });
  afterAll(async () => {
    await pair?.close();
  });

  it('serves Prometheus text with live_comments_ metrics labelled by instance, event-loop delay included', async () => {
    const { contentType, samples } = await scrape(a);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const names = new Set(samples.map((s) => s.name));
    for (const name of [
      'live_comments_connected_sockets',
      'live_comments_subscriptions',
      'live_comments_subscribed_articles',
      'live_comments_redis_connected',
      'live_comments_nodejs_eventloop_lag_p99_seconds',
      'live_comments_process_resident_memory_bytes',
    ]) {
      expect(names, name).toContain(name);
    }
    expect(samples.every((s) => s.name.startsWith('live_comments_'))).toBe(true);
    const sockets = samples.find((s) => s.name === 'live_comments_connected_sockets');
    expect(sockets?.labels.instance_id).toBe(a.app.config.instanceId);
    expect(await value(a, 'live_comments_redis_connected')).toBe(1);
  });

  it('counts connected sockets and subscriptions per instance', async ({ connect }) => {
    const articleId = uniqueArticle('m');
    const s1 = await connect(a.url);
    const s2 = await connect(a.url);
    await s1.emitWithAck('article:subscribe', { articleId });
    await s2.emitWithAck('article:subscribe', { articleId });
    await s2.emitWithAck('article:subscribe', { articleId: uniqueArticle('m') });
    expect(await value(a, 'live_comments_connected_sockets')).toBe(2);
    expect(await value(a, 'live_comments_subscriptions')).toBe(3);
    expect(await value(a, 'live_comments_subscribed_articles')).toBe(2);
    expect(await value(b, 'live_comments_connected_sockets')).toBe(0);
    s1.disconnect();
    s2.disconnect();
    await vi.waitFor(async () => expect(await value(a, 'live_comments_connected_sockets')).toBe(0));
    expect(await value(a, 'live_comments_subscriptions')).toBe(0);
  });

  it('counts posts, fan-out traffic both ways and the push latency of a remote change', async ({ connect }) => {
    const articleId = uniqueArticle('m');
    const watcher = await connect(a.url);
    const seen: Comment[] = [];
    watcher.on('comment:created', (c) => seen.push(CommentSchema.parse(c)));
    await watcher.emitWithAck('article:subscribe', { articleId });

    const before = {
      posted: await value(b, 'live_comments_comments_posted_total', { outcome: 'created' }),
      duplicate: await value(b, 'live_comments_comments_posted_total', { outcome: 'duplicate' }),
      published: await value(b, 'live_comments_fanout_published_total', { result: 'ok' }),
      received: await value(a, 'live_comments_fanout_received_total'),
      remotePushes: await value(a, 'live_comments_push_latency_seconds_count', { origin: 'remote' }),
    };
    const clientId = nanoid();
    expect(
      (
        await postJson(`${b.url}/api/articles/${articleId}/comments`, {
          author: { name: 'Ann' },
          body: 'one',
          clientId,
        })
      ).status,
    ).toBe(201);
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(await value(b, 'live_comments_comments_posted_total', { outcome: 'created' })).toBe(before.posted + 1);
    expect(await value(b, 'live_comments_fanout_published_total', { result: 'ok' })).toBe(before.published + 1);
    expect(await value(a, 'live_comments_fanout_received_total')).toBe(before.received + 1);
    expect(await value(a, 'live_comments_push_latency_seconds_count', { origin: 'remote' })).toBe(
      before.remotePushes + 1,
    );
    // The observation sits in the +Inf bucket like every other, and the sum is a sane non-negative number.
    expect(await value(a, 'live_comments_push_latency_seconds_bucket', { origin: 'remote', le: '+Inf' })).toBe(
      before.remotePushes + 1,
    );
    expect(await value(a, 'live_comments_push_latency_seconds_sum', { origin: 'remote' })).toBeGreaterThanOrEqual(0);

    // A retry with the same clientId stores nothing and is published again (subscribers drop the repeat by seq).
    expect(
      (
        await postJson(`${b.url}/api/articles/${articleId}/comments`, {
          author: { name: 'Ann' },
          body: 'one',
          clientId,
        })
      ).status,
    ).toBe(200);
    await vi.waitFor(() => expect(seen).toHaveLength(2));
    expect(seen[1]).toEqual(seen[0]);
    expect(await value(b, 'live_comments_comments_posted_total', { outcome: 'created' })).toBe(before.posted + 1);
    expect(await value(b, 'live_comments_comments_posted_total', { outcome: 'duplicate' })).toBe(before.duplicate + 1);
    expect(await value(b, 'live_comments_fanout_published_total', { result: 'ok' })).toBe(before.published + 2);
    expect(await value(a, 'live_comments_fanout_received_total')).toBe(before.received + 2);
  });

  it('counts rejected posts by code and transport', async ({ connect }) => {
    const articleId = uniqueArticle('m');
    const invalidHttp = await value(a, 'live_comments_comments_rejected_total', {
      code: 'invalid_input',
      transport: 'http',
    });
    const invalidSocket = await value(a, 'live_comments_comments_rejected_total', {
      code: 'invalid_input',
      transport: 'socket',
    });
    expect(
      (await postJson(`${a.url}/api/articles/${articleId}/comments`, { author: { name: 'Ann' }, body: '   ' })).status,
    ).toBe(400);
    expect(
      (await postJson(`${a.url}/api/articles/${articleId}/comments`, 'not json', { 'content-type': 'text/plain' }))
        .status,
    ).toBe(415);
    const socket = await connect(a.url);
    const ack = checkedAck(
      'comment:post',
      await socket.emitWithAck('comment:post', {
        articleId,
        author: { name: '' },
        body: 'x',
      }),
    );
    expect(ack.ok).toBe(false);
    expect(await value(a, 'live_comments_comments_rejected_total', { code: 'invalid_input', transport: 'http' })).toBe(
      invalidHttp + 2,
    );
    expect(
      await value(a, 'live_comments_comments_rejected_total', { code: 'invalid_input', transport: 'socket' }),
    ).toBe(invalidSocket + 1);
  });
});
