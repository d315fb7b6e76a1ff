/**
 * widget-polling.js: engine.io-client's HTTP long-polling transport, loaded by widget.js only after a
 * WebSocket connection failed (client/connection-pool.ts); most readers never download it.
 */
import { XHR } from 'engine.io-client';
import { registerPart } from './part-registry.ts';

registerPart('polling', { Polling: XHR });
