import type { SsoInfo } from '../../shared/schemas.ts';
import { EN_MEMBER } from '../i18n/en-parts.ts';
import type { Strings } from '../i18n/strings.ts';
import type { CommentForm } from '../view/comment-form.ts';
import { h } from '../view/dom.ts';
import type { MemberWidget, Membership, RefreshHook } from './membership.ts';

/** What one widget gives sign-in: its element, its forms, and what the server said of sign-in. */
export interface MemberViewHost {
  /** The `<live-comments>` element: its `refreshSsoToken`, and where `live-comments:login-required` is dispatched. */
  readonly host: HTMLElement & { refreshSsoToken?: RefreshHook | null | undefined };
  readonly forms: readonly CommentForm[];
  /** SSO_MODE and SSO_LOGIN_URL, from the last page answer. */
  sso(): SsoInfo | undefined;
  /** The reader signed in or out (their likes are someone else's now). */
  changed(): void;
  /** The comment server (`base`) and the widget's article. */
  readonly config: { readonly base: URL; readonly articleId: string; readonly strings: Strings };
  /** Comments of the signed-in member on this article, posted from any browser: Edit and Delete are theirs. */
  mine(commentIds: string[]): void;
}

/** The event a widget dispatches when a reader who must sign in (SSO_MODE=required) starts to write. */
export const LOGIN_REQUIRED_EVENT = 'live-comments:login-required';

/**
 * Sign-in as one widget shows it: a signed-in reader's forms say "Commenting as <name>" instead of
 * asking a name; with SSO_MODE=required and nobody signed in, focusing a form dispatches
 * `live-comments:login-required` on the element (bubbling, composed, cancelable) and, unless the
 * page cancels it, shows a "Sign in to comment" link to SSO_LOGIN_URL.
 */
export class MemberView implements MemberWidget {
  readonly host: MemberViewHost['host'];
  readonly #view: MemberViewHost;
  readonly #membership: Membership;
  readonly #detach: () => void;
  /** Per form: the "Commenting as" line, the sign-in link, and the name typed before signing in. */
  readonly #parts = new Map<CommentForm, { line: HTMLElement; login: HTMLElement; guestName: string | null }>();
  #signedIn: boolean | null = null;
  /** The token the member's comments were last asked with (a new token, a new member perhaps: ask again). */
  #mineFor: string | null = null;

  constructor(membership: Membership, view: MemberViewHost) {
    this.#membership = membership;
    this.#view = view;
    view.config.strings.add(EN_MEMBER);
    this.host = view.host;
    for (const form of view.forms) {
      const line = h('p', { class: 'signed-in', part: 'signed-in', attrs: { hidden: '' } });
      const login = h('p', { class: 'login', attrs: { hidden: '' } });
      form.element.prepend(line, login);
      form.element.addEventListener('focusin', (event) => {
        // Once per visit of the form, not at every field.
        if (!form.element.contains(event.relatedTarget as Node | null)) this.#loginRequired(login);
      });
      this.#parts.set(form, { line, login, guestName: null });
    }
    this.#detach = membership.attach(this);
  }

  update(): void {
    const member = this.#membership.member;
    for (const [form, parts] of this.#parts) {
      const label = form.element.querySelector<HTMLElement>(`label[for="${form.name.id}"]`);
      form.name.hidden = member !== null;
      if (label) label.hidden = member !== null;
      parts.line.hidden = member === null;
      if (member) {
        parts.login.hidden = true;
        parts.line.replaceChildren(
          ...this.#view.config.strings.nodes('commentingAs', {
            name: h('strong', { text: member.name, attrs: { dir: 'auto' } }),
          }),
        );
        // The form sends the name (the server takes the token's); what the guest had typed comes back on sign-out.
        parts.guestName ??= form.name.value;
        form.name.value = member.name;
      } else if (parts.guestName !== null) {
        form.name.value = parts.guestName;
        parts.guestName = null;
      }
    }
    const signedIn = member !== null;
    if (this.#signedIn !== null && this.#signedIn !== signedIn) this.#view.changed();
    if (signedIn && this.#membership.token !== this.#mineFor) void this.#findMine();
    this.#signedIn = signedIn;
  }

  /**
   * Asks the server which comments of this article are the member's (`GET /api/me/comments?articleId=`),
   * so their Edit and Delete show on every device, not only in the browser that posted them. A failure
   * costs only that: the reader still edits what this browser posted.
   */
  async #findMine(): Promise<void> {
    const token = this.#membership.token;
    const member = this.#membership.member;
    // An expired token would only be refused: the refreshed one asks (update runs again with it).
    if (token === null || member === null || member.exp * 1000 <= Date.now()) return;
    this.#mineFor = token;
    const { base, articleId } = this.#view.config;
    const url = new URL('api/me/comments', base);
    url.searchParams.set('articleId', articleId);
    try {
      const response = await fetch(url, {
        headers: { authorization: `Bearer ${token}` },
        credentials: 'omit',
        cache: 'no-store',
        mode: 'cors',
      });
      if (!response.ok) return;
      // Read loosely (no schema library in this part): only string ids are taken.
      const answer = (await response.json()) as { comments?: unknown };
      const ids = Array.isArray(answer.comments)
        ? answer.comments
            .map((comment: unknown) => (comment as { id?: unknown } | null)?.id)
            .filter((id): id is string => typeof id === 'string')
        : [];
      if (ids.length > 0 && this.#membership.token === token) this.#view.mine(ids);
    } catch {
      // Offline or refused: nothing more to show.
    }
  }

  stop(): void {
    this.#detach();
  }

  #loginRequired(login: HTMLElement): void {
    const sso = this.#view.sso();
    if (sso?.mode !== 'required' || this.#membership.member) return;
    const proceed = this.host.dispatchEvent(
      new CustomEvent(LOGIN_REQUIRED_EVENT, { bubbles: true, composed: true, cancelable: true }),
    );
    const url = sso.loginUrl;
    if (!proceed || url === undefined || !/^https?:/i.test(url)) return;
    login.replaceChildren(
      h('a', { part: 'login-link', text: this.#view.config.strings.text('signIn'), attrs: { href: url } }),
    );
    login.hidden = false;
  }
}
