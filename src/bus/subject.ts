/**
 * Subjects and subscription patterns for pub/sub, in the NATS style:
 *
 *   subject   trade.signal.BTC      dot-separated tokens, all concrete
 *   pattern   trade.*.BTC           `*` stands for exactly one token
 *             market.>              `>` stands for one or more tokens; last only
 *
 * Both validators return the tokens so a caller on a hot path splits only once.
 */

import { InvalidSubjectError } from '../errors.js';

/**
 * Longest subject or pattern accepted, in UTF-16 code units. Subjects become
 * Map keys, metric labels and log fields; a bound keeps all three cheap and
 * catches a payload passed where a subject was meant.
 */
export const MAX_SUBJECT_LENGTH = 256;

export const SINGLE_WILDCARD = '*';
export const TAIL_WILDCARD = '>';

type Kind = 'subject' | 'pattern';

/** Checks a subject given to publish: no wildcards, since a message goes to one concrete subject. */
export function validateSubject(subject: unknown, where: string): string[] {
  return tokenize('subject', subject, where);
}

/** Checks a subscription pattern: like a subject, but `*` anywhere and `>` as the last token. */
export function validatePattern(pattern: unknown, where: string): string[] {
  return tokenize('pattern', pattern, where);
}

/** True when `pattern` matches `subject`; both must already be valid. Linear, for one-off checks. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    // `>` needs at least one token left, so `market.>` does not match `market`.
    if (p[i] === TAIL_WILDCARD) return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== SINGLE_WILDCARD && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

function tokenize(kind: Kind, value: unknown, where: string): string[] {
  if (typeof value !== 'string') {
    throw new InvalidSubjectError(kind, String(value), where, `must be a string, got ${value === null ? 'null' : typeof value}`);
  }
  if (value.length === 0) throw new InvalidSubjectError(kind, value, where, 'is empty');
  if (value.length > MAX_SUBJECT_LENGTH) {
    throw new InvalidSubjectError(kind, value, where, `is ${value.length} characters long; the limit is ${MAX_SUBJECT_LENGTH}`);
  }
  const tokens = value.split('.');
  let at = 0; // character offset of tokens[i], so the message can point into the value
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const reason = tokenFault(kind, t, i, tokens.length);
    if (reason !== undefined) {
      throw new InvalidSubjectError(kind, value, where, `token ${i + 1} (at character ${at}) ${reason}`, i + 1);
    }
    at += t.length + 1;
  }
  return tokens;
}

/** What is wrong with token `i` of `count`, or undefined; a plain function so the valid path allocates nothing. */
function tokenFault(kind: Kind, t: string, i: number, count: number): string | undefined {
  if (t === '') return i === 0 ? 'is empty: leading dot' : i === count - 1 ? 'is empty: trailing dot' : "is empty: '..'";
  const ws = /\s/.exec(t);
  // Whitespace would survive into log lines and metric labels looking like two values.
  if (ws) return `${JSON.stringify(t)} contains whitespace ${JSON.stringify(ws[0])}`;
  if (t === SINGLE_WILDCARD || t === TAIL_WILDCARD) {
    if (kind === 'subject') return `is the wildcard '${t}'; a published subject must name concrete tokens`;
    if (t === TAIL_WILDCARD && i !== count - 1) return "is '>' but not the last token; '>' already matches everything after it";
    return undefined;
  }
  // NATS takes `a*` as a literal; we refuse it so nobody mistakes it for a prefix wildcard.
  if (t.includes(SINGLE_WILDCARD) || t.includes(TAIL_WILDCARD)) {
    return `${JSON.stringify(t)} mixes a wildcard with other characters; '*' and '>' must be whole tokens`;
  }
  return undefined;
}
