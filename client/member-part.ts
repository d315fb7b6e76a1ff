/**
 * widget-member.js: sign-in from the host site, loaded when a page gives a widget a member token or
 * the server requires sign-in (client/parts.ts); readers of other sites never download it.
 */
import { MemberView } from './member/member-view.ts';
import { Membership } from './member/membership.ts';
import { registerPart } from './part-registry.ts';

registerPart('member', { Membership, MemberView });
