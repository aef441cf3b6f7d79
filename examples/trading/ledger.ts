/**
 * The record of every order: sent (by the strategy), rejected (by risk, or
 * by execution when the exchange or its breaker turned it away), filled (by
 * execution). Never faulted: it is what the run is checked
 * against. Notes from different stages may arrive in any order (each sender
 * has its own ring), so an outcome can come before its "sent" note.
 *
 * Persistent: every note is an event in the system's journal, so the ledger
 * covers every run so far, a run killed with SIGKILL included. Orders still
 * open when a run ended are accounted for at the start of the next one: the
 * ones the run's reconciliation found dead-lettered were told to the ledger
 * (`dead-lettered`); the rest were in flight inside a process that died, and
 * the next run (a different `run` in the ledger's config) books them as
 * interrupted.
 */
import { defineActor } from '../../src/actor/index.js';
import type { LedgerNote } from './shared.js';

export type LedgerStatus = 'open' | 'filled' | 'rejected' | 'orphan' | 'dead-lettered' | 'interrupted';

export interface LedgerCounts {
  sent: number;
  filled: number;
  rejected: number;
  /** Dead-lettered in an earlier run (this run's dead letters are reconciled by the caller). */
  deadLettered: number;
  /** Open when an earlier run ended without its reconciliation (the process was killed): lost in flight with it. */
  interrupted: number;
  /** Runs this ledger has seen, this one included. */
  runs: number;
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

export type LedgerAsk =
  | { type: 'counts' }
  | { type: 'ids'; status: LedgerStatus; offset?: number; limit?: number }
  /** The end of a run: these open orders died as dead letters (answered with how many were open). */
  | { type: 'dead-lettered'; ids: string[] };

export interface LedgerConfig {
  /** This process's run: a new value books every order still open from earlier runs as interrupted. */
  run?: string;
}

/** What the journal holds: the notes, and the ledger's own bookkeeping between runs. */
type LedgerEvent = LedgerNote | { type: 'run'; run: string } | { type: 'dead-lettered'; ids: string[] };

interface LedgerState {
  run: string | null;
  runs: number;
  deadLettered: string[];
  interrupted: string[];
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

function note(state: LedgerState, msg: LedgerEvent): void {
  if (msg.type === 'run') {
    state.run = msg.run;
    state.runs++;
    state.interrupted.push(...state.open);
    state.open.clear();
    return;
  }
  if (msg.type === 'dead-lettered') {
    for (const id of msg.ids) {
      if (!state.open.delete(id)) continue;
      state.deadLettered.push(id);
    }
    return;
  }
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
    case 'dead-lettered':
      return state.deadLettered;
    case 'interrupted':
      return state.interrupted;
  }
}

export default defineActor<LedgerState, LedgerNote | LedgerAsk, LedgerConfig>({
  init: () => ({
    run: null,
    runs: 0,
    deadLettered: [],
    interrupted: [],
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

  // No snapshots: the state holds Sets and Maps, which a snapshot would give back as plain
  // objects; replaying the notes is quick (100k events in about a quarter of a second).
  persistence: {
    apply(state, event: LedgerEvent) {
      note(state, event);
      return state;
    },
  },

  async receive(state, msg, ctx) {
    const run = ctx.config.run;
    // The first message of a new run, before anything of that run is booked.
    if (run !== undefined && state.run !== run) await ctx.persist({ type: 'run', run });
    switch (msg.type) {
      case 'counts':
        return {
          sent: state.sent.size,
          filled: state.filled.length,
          rejected: state.rejected.length,
          deadLettered: state.deadLettered.length,
          interrupted: state.interrupted.length,
          runs: state.runs,
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
      case 'dead-lettered': {
        const open = msg.ids.filter((id) => state.open.has(id));
        if (open.length > 0) await ctx.persist({ type: 'dead-lettered', ids: open });
        return open.length;
      }
      default:
        // Duplicates and repeats are booked by `note` as it always did; persisting them keeps replay identical.
        await ctx.persist(msg);
        return undefined;
    }
  },
});
