import { SubjectTrie } from './trie.js';

/** One subscription: who listens (an actor id, or the system itself) to which pattern. */
export interface Subscription {
  pattern: string;
  subscriber: string;
}

/** A change every thread's copy of the table must apply. */
export type SubscriptionChange = { op: 'sub' | 'unsub'; pattern: string; subscriber: string };

/**
 * The system's subscription table, kept on the main thread and keyed by
 * subscriber id, not by incarnation: an actor that restarts keeps its
 * subscriptions (messages published meanwhile wait in its inbox like any
 * other mail). Each worker holds a copy (`SubjectTrie`) and matches its own
 * publishes against it, so a publish goes straight from the publisher's
 * thread into each subscriber's ring; this table only hands out the copies
 * and the changes.
 */
export class SubscriptionTable {
  readonly #trie = new SubjectTrie<string>();
  readonly #onChange: (change: SubscriptionChange) => void;

  constructor(onChange: (change: SubscriptionChange) => void) {
    this.#onChange = onChange;
  }

  /** Returns false when `subscriber` already had `pattern` (nothing changes). */
  subscribe(subscriber: string, pattern: string, where = 'subscribe'): boolean {
    if (!this.#trie.add(pattern, subscriber, where)) return false;
    this.#onChange({ op: 'sub', pattern, subscriber });
    return true;
  }

  unsubscribe(subscriber: string, pattern: string): boolean {
    if (!this.#trie.remove(pattern, subscriber)) return false;
    this.#onChange({ op: 'unsub', pattern, subscriber });
    return true;
  }

  /** Drop every subscription of `subscriber` (it left the tree). */
  removeSubscriber(subscriber: string): number {
    const patterns = this.#trie.patternsOf(subscriber);
    for (const pattern of patterns) this.unsubscribe(subscriber, pattern);
    return patterns.length;
  }

  match(subject: string, where?: string): Set<string> {
    return this.#trie.match(subject, where);
  }

  patternsOf(subscriber: string): string[] {
    return this.#trie.patternsOf(subscriber);
  }

  /** Every subscription, for a new thread's copy. */
  list(): Subscription[] {
    return this.#trie.entries().map(([pattern, subscriber]) => ({ pattern, subscriber }));
  }

  get size(): number {
    return this.#trie.size;
  }
}

/** A thread's copy of the table, built from a list and kept current by changes. */
export function replicaOf(list: readonly Subscription[]): SubjectTrie<string> {
  const trie = new SubjectTrie<string>();
  for (const s of list) trie.add(s.pattern, s.subscriber);
  return trie;
}

export function applyChange(trie: SubjectTrie<string>, change: SubscriptionChange): void {
  if (change.op === 'sub') trie.add(change.pattern, change.subscriber);
  else trie.remove(change.pattern, change.subscriber);
}
