import type { SharedConnection } from '../connection-pool.ts';
import { readClaims, type TokenClaims } from './token.ts';

/** How long before its `exp` a token is replaced through the page's `refreshSsoToken`. */
export const REFRESH_BEFORE_MS = 60_000;
/** How long `auth:set` / `auth:clear` wait for their ack. */
const ACK_TIMEOUT_MS = 10_000;
/** The longest delay setTimeout keeps (about 24.8 days); a later refresh is timed again when it fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** The page's hook for a fresh token (`el.refreshSsoToken`): a new token, or null when the reader signed out. */
export type RefreshHook = () => Promise<string | null>;

/** One widget on the connection, as sign-in sees it. */
export interface MemberWidget {
  /** Its element, whose `refreshSsoToken` is asked for a fresh token. */
  readonly host: { refreshSsoToken?: RefreshHook | null | undefined };
  /** The reader signed in, signed out, or their token changed. */
  update(): void;
}

/**
 * Sign-in of the page's reader on one comment server: the token lives on the page's one connection
 * to it (client/connection-pool.ts), so every widget talking to that server shares it: setting or
 * clearing it on any of them signs all of them in or out. The socket's handshake carries the token
 * (`auth: { ssoToken }`), so a reconnect signs in again by itself; a change on a live connection goes
 * as `auth:set` / `auth:clear`; REST calls send it as `Authorization: Bearer` (client/api-client.ts).
 * Before the token expires, and when the server says it has (`unauthenticated`), the page's
 * `refreshSsoToken` hook is asked for a new one.
 */
export class Membership {
  readonly #connection: SharedConnection;
  readonly #widgets = new Set<MemberWidget>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #refreshing: Promise<boolean> | null = null;

  constructor(connection: SharedConnection) {
    this.#connection = connection;
  }

  /** The member token in force; null for a guest. */
  get token(): string | null {
    return this.#connection.token;
  }

  /** The signed-in reader, as their token says; null for a guest. */
  get member(): TokenClaims | null {
    const token = this.#connection.token;
    return token === null ? null : readClaims(token);
  }

  attach(widget: MemberWidget): () => void {
    this.#widgets.add(widget);
    widget.update();
    return () => this.#widgets.delete(widget);
  }

  /** Signs the reader in with `token`, or out with null, on every widget of the connection, without a reload. */
  async set(token: string | null): Promise<void> {
    const connection = this.#connection;
    connection.token = token;
    this.#schedule();
    // Every widget of the connection renders: one that has not loaded sign-in yet loads it now.
    connection.signed();
    for (const widget of this.#widgets) widget.update();
    // Not connected: the next handshake carries it.
    if (!connection.isConnected) return;
    let answer: unknown;
    try {
      answer = await connection.socket
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck(token === null ? 'auth:clear' : 'auth:set', token === null ? {} : { token });
    } catch {
      // The ack was lost (the connection dropped): the reconnect's handshake carries the token.
      return;
    }
    const failure = (answer as { ok?: boolean; error?: { message?: string } } | null)?.error;
    // For the host site's developers: why the server refused the token (expired, bad signature, …).
    if (failure) console.warn(`live-comments: sign-in refused: ${failure.message ?? 'unknown reason'}`);
  }

  /**
   * Runs a write; when the server answers that the reader's token is missing or has expired
   * (`unauthenticated`), asks the page for a fresh one and runs it once more.
   */
  async retrying<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code !== 'unauthenticated' || !(await this.refresh())) throw error;
      return action();
    }
  }

  /** Asks the page's `refreshSsoToken` for a new token and signs in with it; true when it gave one. */
  refresh(): Promise<boolean> {
    return (this.#refreshing ??= this.#askPage().finally(() => {
      this.#refreshing = null;
    }));
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#widgets.clear();
  }

  async #askPage(): Promise<boolean> {
    // Several widgets may have one: the first attached that has it is asked.
    const hook = [...this.#widgets].map((widget) => widget.host.refreshSsoToken).find((f) => typeof f === 'function');
    if (!hook) return false;
    let token: string | null;
    try {
      token = (await hook()) || null;
    } catch (error) {
      console.warn('live-comments: refreshSsoToken failed', error);
      return false;
    }
    await this.set(token);
    return token !== null;
  }

  /** Times the refresh: a minute before the token's `exp`. */
  #schedule(): void {
    clearTimeout(this.#timer);
    const claims = this.member;
    if (!claims) return;
    const delay = claims.exp * 1000 - REFRESH_BEFORE_MS - Date.now();
    // Already in its last minute: refreshed when the server refuses it (retrying), not in a loop here.
    if (delay <= 0) return;
    this.#timer = setTimeout(
      () => (delay > MAX_DELAY_MS ? this.#schedule() : void this.refresh()),
      Math.min(delay, MAX_DELAY_MS),
    );
  }
}
