/**
 * widget-typing.js: typing indicators (client/typing/), loaded when the reader first types in a form
 * or someone else on the article starts writing (client/parts.ts).
 */
import { registerPart } from './part-registry.ts';
import { TypingSignals } from './typing/typing-signals.ts';

registerPart('typing', { TypingSignals });
