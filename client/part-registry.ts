/** Where the lazily loaded parts of the widget register (client/parts.ts loads them). */

import type { TransportCtor } from 'engine.io-client';
import type { MemberView } from './member/member-view.ts';
import type { Membership } from './member/membership.ts';
import type { NotifyOptIn } from './notify/notify-opt-in.ts';
import type { ReportPanel } from './report/report-panel.ts';
import type { RepliesToYou } from './session/replies-to-you.ts';
import type { OwnEditor } from './view/own-editor.ts';
import type { TypingSignals } from './typing/typing-signals.ts';
import type { copyLink, reveal } from './permalink/permalink.ts';

/**
 * The part for readers with comments of their own: editing and deleting them (client/view/own-editor.ts)
 * and "N new replies to you" (client/session/replies-to-you.ts), which only such a reader can have.
 */
export interface OwnPart {
  OwnEditor: typeof OwnEditor;
  RepliesToYou: typeof RepliesToYou;
}

/** Sign-in from the host site (client/member/). */
export interface MemberPart {
  Membership: typeof Membership;
  MemberView: typeof MemberView;
}

/** The form a reader reports a comment with (client/report/). */
export interface ReportPart {
  ReportPanel: typeof ReportPanel;
}

/** "Email me when someone replies" in the comment forms (client/notify/). */
export interface NotifyPart {
  NotifyOptIn: typeof NotifyOptIn;
}

/** engine.io-client's HTTP long-polling transport, for when WebSockets cannot get through. */
export interface PollingPart {
  Polling: TransportCtor;
}

/** Typing indicators (client/typing/). */
export interface TypingPart {
  TypingSignals: typeof TypingSignals;
}

/** Permalinks: the Link action and opening `#comment-<id>` (client/permalink/). */
export interface PermalinkPart {
  copyLink: typeof copyLink;
  reveal: typeof reveal;
}

export interface Parts {
  own: OwnPart;
  member: MemberPart;
  report: ReportPart;
  polling: PollingPart;
  notify: NotifyPart;
  typing: TypingPart;
  permalink: PermalinkPart;
}

const REGISTRY = Symbol.for('live-comments.parts');
type Registry = Partial<Parts>;
export const registry = (): Registry => ((window as unknown as Record<symbol, Registry>)[REGISTRY] ??= {});

/** Called by a part's script when it runs. */
export function registerPart<K extends keyof Parts>(name: K, part: Parts[K]): void {
  registry()[name] = part;
}
