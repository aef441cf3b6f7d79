/**
 * The record of every order: sent (by the strategy), rejected (by risk, or
 * by execution when the exchange or its breaker turned it away), filled (by
 * execution). Never faulted: it is what the run is checked
 * against. Notes from different stages may arrive in any order (each sender
 * has its own ring), so an outcome can come before its "sent" note.
 */
import { defineActor } from '../../src/actor/index.js';
import type { LedgerNote } from './shared.js';

export type LedgerStatus = 'open' | 'filled' | 'rejected' | 'orphan';

export interface LedgerCounts {
  sent: number;
  filled: number;
  rejected: number;
  /** Sent, no outcome yet: in flight, or dead-lettered on the way. */
  open: number;
  /** An outcome for an order never reported sent: must stay 0. */
  orphans: number;
  /** A second outcome for one order (a redelivery after its notes went out). */
  duplicates: number;
  rejectReasons: Record<string, number>;
  /** The first full reason seen of each kind, e.g. circuit → "circuit open: the exchange breaker rejects orders (…)". */
  reasonExamples: Record<string, string>;
}

export type LedgerAsk = { type: 'counts' } | { type: 'ids'; status: LedgerStatus; offset?: number; limit?: number };

interface LedgerState {
  sent: Set<string>;
  outcome: Map<string, 'filled' | 'rejected'>;
  open: Set<string>;
  orphans: Set<string>;
  filled: string[];
  rejected: string[];
  duplicates: number;
  rejectReasons: Map<string, number>;
  reasonExamples: Map<string, string>;
}

/**
 * Replies are paged: a reply to the main thread must fit in half of its
 * 64 KiB inbox ring, and a run makes far more ids than that holds.
 */
const PAGE = 500;

function note(state: LedgerState, msg: LedgerNote): void {
  if (msg.type === 'sent') {
    if (state.sent.has(msg.id)) return;
    state.sent.add(msg.id);
    if (state.outcome.has(msg.id)) state.orphans.delete(msg.id);
    else state.open.add(msg.id);
    return;
  }
  if (state.outcome.has(msg.id)) {
    state.duplicates++;
    return;
  }
  state.outcome.set(msg.id, msg.type);
  if (state.sent.has(msg.id)) state.open.delete(msg.id);
  else state.orphans.add(msg.id);
  if (msg.type === 'filled') state.filled.push(msg.id);
  else {
    state.rejected.push(msg.id);
    // "position AAPL would be 500 (limit ±400)" → "position": few kinds, many orders.
    const kind = msg.reason.split(' ')[0]!;
    state.rejectReasons.set(kind, (state.rejectReasons.get(kind) ?? 0) + 1);
    if (!state.reasonExamples.has(kind)) state.reasonExamples.set(kind, msg.reason);
  }
}

function ids(state: LedgerState, status: LedgerStatus): string[] {
  switch (status) {
    case 'open':
      return [...state.open];
    case 'orphan':
      return [...state.orphans];
    case 'filled':
      return state.filled;
    case 'rejected':
      return state.rejected;
  }
}

export default defineActor<LedgerState, LedgerNote | LedgerAsk>({
  init: () => ({
    sent: new Set(),
    outcome: new Map(),
    open: new Set(),
    orphans: new Set(),
    filled: [],
    rejected: [],
    duplicates: 0,
    rejectReasons: new Map(),
    reasonExamples: new Map(),
  }),

  receive(state, msg) {
    switch (msg.type) {
      case 'counts':
        return {
          sent: state.sent.size,
          filled: state.filled.length,
          rejected: state.rejected.length,
          open: state.open.size,
          orphans: state.orphans.size,
          duplicates: state.duplicates,
          rejectReasons: Object.fromEntries(state.rejectReasons),
          reasonExamples: Object.fromEntries(state.reasonExamples),
        } satisfies LedgerCounts;
      case 'ids': {
        const all = ids(state, msg.status);
        const offset = msg.offset ?? 0;
        return { total: all.length, ids: all.slice(offset, offset + Math.min(msg.limit ?? PAGE, PAGE)) };
      }
      default:
        note(state, msg);
        return undefined;
    }
  },
});
