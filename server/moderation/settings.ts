import {
  DEFAULT_MODERATION_SETTINGS,
  ModerationSettingsChangedSchema,
  ModerationSettingsSchema,
  type ModerationSettings,
  type ModerationSettingsAnswer,
} from '../../shared/moderation-settings.ts';
import type { Logger } from '../logger.ts';
import type { RedisClient } from '../redis/clients.ts';
import type { CommentStore } from '../storage/port.ts';
import type { ModerationPipeline } from './pipeline/pipeline.ts';

/** How instances tell each other that the settings changed; each one then reloads them from the store. */
export interface SettingsLink {
  publish(version: number): Promise<void>;
  /** Calls `onChange` with the announced version of every change another instance announces. */
  listen(onChange: (version: number) => void): Promise<void>;
  close(): Promise<void>;
}

/**
 * Redis pub/sub on `{prefix}moderation-settings`: a classic channel, also on a Redis Cluster (where a
 * PUBLISH reaches every node: rare, tiny messages). At most once, like all pub/sub: the keeper also
 * looks at the store's version now and then, so a lost message only delays a change.
 */
export class RedisSettingsLink implements SettingsLink {
  readonly #channel: string;

  constructor(
    private readonly publisher: RedisClient,
    private readonly subscriber: RedisClient,
    prefix: string,
    private readonly logger: Logger,
  ) {
    this.#channel = `${prefix}moderation-settings`;
  }

  async publish(version: number): Promise<void> {
    await this.publisher.publish(this.#channel, JSON.stringify({ version }));
  }

  async listen(onChange: (version: number) => void): Promise<void> {
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel !== this.#channel) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const message = ModerationSettingsChangedSchema.safeParse(parsed);
      if (message.success) onChange(message.data.version);
      else this.logger.warn({ channel }, 'invalid moderation settings message dropped');
    });
    await this.subscriber.subscribe(this.#channel);
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }
}

export interface SettingsKeeperDeps {
  store: CommentStore;
  pipeline: ModerationPipeline;
  logger: Logger;
  /** Absent: this instance alone (or instances sharing a store without Redis: they meet at the next look). */
  link?: SettingsLink | undefined;
  /** How often the store's version is looked at, in case a message was lost (default 30 s). */
  checkEveryMs?: number;
  now?: () => Date;
}

/**
 * Keeps the pipeline's settings in step with the store on every instance: loads them at start, saves a
 * moderator's change and applies it here at once, announces it, and reloads when another instance
 * announces one (or when a periodic look finds a newer version).
 */
export class ModerationSettingsKeeper {
  #version = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #loading: Promise<void> = Promise.resolve();
  readonly #deps: SettingsKeeperDeps;

  constructor(deps: SettingsKeeperDeps) {
    this.#deps = deps;
  }

  /** The settings in force here, and their version. */
  current(): ModerationSettingsAnswer {
    return { settings: this.#deps.pipeline.settings, version: this.#version };
  }

  async start(): Promise<void> {
    await this.reload();
    // Not awaited: with Redis unreachable the subscription waits (ioredis queues it and subscribes once
    // connected, again after every reconnect), and an instance must start without Redis. Until then the
    // periodic check below picks changes up. Once subscribed it reads the store again: a change saved
    // while the subscription was on its way was announced before this instance could hear it.
    this.#deps.link
      ?.listen((version) => {
        if (version > this.#version) void this.reload();
      })
      .then(() => this.reload())
      .catch((error: unknown) => {
        if (this.#stopped) return;
        this.#deps.logger.warn(
          { err: error },
          'moderation settings: not listening for changes (Redis); checking the store instead',
        );
      });
    this.#timer = setInterval(() => void this.reload(), this.#deps.checkEveryMs ?? 30_000);
    this.#timer.unref();
  }

  /** Reads the store's settings and applies them when newer; one read at a time. */
  reload(): Promise<void> {
    this.#loading = this.#loading.then(async () => {
      try {
        const row = await this.#deps.store.moderationSettings();
        if (row === null || row.version <= this.#version) return;
        this.#apply(this.#parse(row.settings), row.version);
      } catch (error) {
        this.#deps.logger.warn({ err: error }, 'moderation settings could not be read; keeping those in force');
      }
    });
    return this.#loading;
  }

  /** A moderator's change: stored, applied here, announced to the other instances. */
  async save(settings: ModerationSettings): Promise<ModerationSettingsAnswer> {
    const version = await this.#deps.store.saveModerationSettings(
      JSON.stringify(settings),
      (this.#deps.now?.() ?? new Date()).toISOString(),
    );
    if (version > this.#version) this.#apply(settings, version);
    try {
      await this.#deps.link?.publish(version);
    } catch (error) {
      this.#deps.logger.warn(
        { err: error, version },
        'moderation settings change not announced; other instances see it within 30 s',
      );
    }
    return { settings, version };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#loading;
    await this.#deps.link?.close();
  }

  #parse(text: string): ModerationSettings {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      raw = undefined;
    }
    const parsed = ModerationSettingsSchema.safeParse(raw);
    if (parsed.success) return parsed.data;
    this.#deps.logger.error('stored moderation settings are not valid; using the defaults');
    return DEFAULT_MODERATION_SETTINGS;
  }

  #apply(settings: ModerationSettings, version: number): void {
    this.#deps.pipeline.configure(settings);
    this.#version = version;
    this.#deps.logger.info({ version }, 'moderation settings applied');
  }
}
