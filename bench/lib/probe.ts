/**
 * Preloaded into the product's server process (`node --import tsx --import ./bench/lib/probe.ts server/main.ts`)
 * so the unchanged entry point reports CPU, memory and event-loop delay to the load generator over IPC.
 */
import { startStatsResponder } from './stats-responder.ts';

startStatsResponder();
