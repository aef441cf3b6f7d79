/**
 * Which subscribers want a subject: a trie of pattern tokens, so matching walks
 * the subject's tokens (and the `*` branches beside them) instead of testing
 * every subscription. With n subject tokens the walk visits at most 2^n nodes
 * however many subscriptions there are, and in practice only the few branches
 * that exist.
 *
 *   root
 *   ├─ "trade"
 *   │   ├─ "signal"        rest {b}    trade.signal.>
 *   │   │   └─ "BTC"       here {a}    trade.signal.BTC
 *   │   └─ star
 *   │       └─ "BTC"       here {c}    trade.*.BTC
 *   └─ star                rest {d}    *.>
 */

import { TAIL_WILDCARD, SINGLE_WILDCARD, validatePattern, validateSubject } from './subject.js';

interface TrieNode<T> {
  /** Literal next tokens. Patterns are validated, so no key is ever `*` or `>`. */
  readonly children: Map<string, TrieNode<T>>;
  /** The `*` branch, apart from the literals so a subject token is never compared with it. */
  star: TrieNode<T> | undefined;
  /** Values whose pattern ends at this node. */
  readonly here: Set<T>;
  /** Values whose pattern is this node's prefix plus `>`; `>` is always last, so a leaf set is the whole branch. */
  readonly rest: Set<T>;
}

function node<T>(): TrieNode<T> {
  return { children: new Map(), star: undefined, here: new Set(), rest: new Set() };
}

function isEmpty<T>(n: TrieNode<T>): boolean {
  return n.children.size === 0 && n.star === undefined && n.here.size === 0 && n.rest.size === 0;
}

function collect<T>(n: TrieNode<T>, tokens: readonly string[], i: number, out: Set<T>): void {
  if (i === tokens.length) {
    for (const v of n.here) out.add(v);
    return;
  }
  // A token is still left here, which is exactly the "one or more" that `>` needs.
  for (const v of n.rest) out.add(v);
  const lit = n.children.get(tokens[i]!);
  if (lit !== undefined) collect(lit, tokens, i + 1, out);
  if (n.star !== undefined) collect(n.star, tokens, i + 1, out);
}

/**
 * A set of (pattern, value) pairs. Values are compared as Set members
 * (identity for objects), so the same actor id subscribed twice is one pair.
 */
export class SubjectTrie<T> {
  readonly #root: TrieNode<T> = node();
  /** Patterns per value: makes removeValue and duplicate checks O(patterns of that value). */
  readonly #byValue = new Map<T, Set<string>>();
  #size = 0;
  #nodes = 0;

  /** Number of (pattern, value) pairs. */
  get size(): number {
    return this.#size;
  }

  /** Trie nodes below the root; for tests and memory diagnostics, it returns to 0 when the trie is emptied. */
  get nodeCount(): number {
    return this.#nodes;
  }

  /** Adds the pair; false if it was already there. Throws InvalidSubjectError for a malformed pattern. */
  add(pattern: string, value: T, where = 'SubjectTrie.add'): boolean {
    const tokens = validatePattern(pattern, where);
    let patterns = this.#byValue.get(value);
    if (patterns?.has(pattern)) return false;
    let n = this.#root;
    const tail = tokens[tokens.length - 1] === TAIL_WILDCARD;
    const depth = tail ? tokens.length - 1 : tokens.length;
    for (let i = 0; i < depth; i++) {
      const t = tokens[i]!;
      let next = t === SINGLE_WILDCARD ? n.star : n.children.get(t);
      if (next === undefined) {
        next = node();
        if (t === SINGLE_WILDCARD) n.star = next;
        else n.children.set(t, next);
        this.#nodes++;
      }
      n = next;
    }
    (tail ? n.rest : n.here).add(value);
    if (patterns === undefined) this.#byValue.set(value, (patterns = new Set()));
    patterns.add(pattern);
    this.#size++;
    return true;
  }

  /** Removes the pair; false if it was not there. Nodes left with nothing below them are dropped. */
  remove(pattern: string, value: T, where = 'SubjectTrie.remove'): boolean {
    const tokens = validatePattern(pattern, where);
    const patterns = this.#byValue.get(value);
    if (patterns === undefined || !patterns.delete(pattern)) return false;
    if (patterns.size === 0) this.#byValue.delete(value);
    this.#detach(tokens, value);
    this.#size--;
    return true;
  }

  /** Removes every pattern of `value` (say, an actor that stopped); returns how many. */
  removeValue(value: T): number {
    const patterns = this.#byValue.get(value);
    if (patterns === undefined) return 0;
    this.#byValue.delete(value);
    // The stored patterns were validated on add; splitting is all that is needed.
    for (const p of patterns) this.#detach(p.split('.'), value);
    this.#size -= patterns.size;
    return patterns.size;
  }

  /** The values of every pattern matching `subject`, each once. Throws InvalidSubjectError for a malformed subject. */
  match(subject: string, where = 'SubjectTrie.match'): Set<T> {
    const out = new Set<T>();
    collect(this.#root, validateSubject(subject, where), 0, out);
    return out;
  }

  /** The patterns `value` is subscribed with, in the order they were added. */
  patternsOf(value: T): string[] {
    const patterns = this.#byValue.get(value);
    return patterns === undefined ? [] : [...patterns];
  }

  /** Every pair, grouped by value in the order values were first added; a copy, safe to keep as a snapshot. */
  entries(): Array<[string, T]> {
    const out: Array<[string, T]> = [];
    for (const [value, patterns] of this.#byValue) for (const p of patterns) out.push([p, value]);
    return out;
  }

  /** Takes `value` off the node of `tokens` (known to hold it) and prunes back up while nodes are empty. */
  #detach(tokens: readonly string[], value: T): void {
    const tail = tokens[tokens.length - 1] === TAIL_WILDCARD;
    const depth = tail ? tokens.length - 1 : tokens.length;
    const path: TrieNode<T>[] = [this.#root];
    let n = this.#root;
    for (let i = 0; i < depth; i++) {
      const t = tokens[i]!;
      // The pair is recorded in #byValue, so every node on its path exists.
      n = (t === SINGLE_WILDCARD ? n.star : n.children.get(t))!;
      path.push(n);
    }
    (tail ? n.rest : n.here).delete(value);
    for (let i = depth; i > 0 && isEmpty(path[i]!); i--) {
      const parent = path[i - 1]!;
      if (tokens[i - 1] === SINGLE_WILDCARD) parent.star = undefined;
      else parent.children.delete(tokens[i - 1]!);
      this.#nodes--;
    }
  }
}
