import { expect } from 'chai';
import fc from 'fast-check';
import { InvalidSubjectError, RingmasterError } from '../../src/errors.js';
import { MAX_SUBJECT_LENGTH, subjectMatches, validatePattern, validateSubject } from '../../src/bus/subject.js';
import { SubjectTrie } from '../../src/bus/trie.js';

/** The obvious matcher, written apart from the source so the property test has an independent oracle. */
function refMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  if (p[p.length - 1] === '>') {
    if (s.length < p.length) return false; // `>` takes at least one token
    return p.slice(0, -1).every((t, i) => t === '*' || t === s[i]);
  }
  return p.length === s.length && p.every((t, i) => t === '*' || t === s[i]);
}

function sorted<T>(xs: Iterable<T>): T[] {
  return [...xs].sort();
}

function trieOf(...pairs: Array<[string, string]>): SubjectTrie<string> {
  const t = new SubjectTrie<string>();
  for (const [p, v] of pairs) t.add(p, v);
  return t;
}

function caught(f: () => unknown): InvalidSubjectError {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(InvalidSubjectError);
    return e as InvalidSubjectError;
  }
  throw new Error('expected an InvalidSubjectError');
}

describe('bus subject trie', () => {
  it('matches literal patterns only on the same tokens', () => {
    const t = trieOf(['trade.signal.BTC', 'a'], ['trade.signal', 'b']);
    expect(sorted(t.match('trade.signal.BTC'))).to.deep.equal(['a']);
    expect(sorted(t.match('trade.signal'))).to.deep.equal(['b']);
    expect(t.match('trade').size).to.equal(0);
    expect(t.match('trade.signal.BTC.x').size).to.equal(0);
  });

  it('lets * stand for exactly one token', () => {
    const t = trieOf(['trade.*', 'a'], ['*', 'b']);
    expect(sorted(t.match('trade.x'))).to.deep.equal(['a']);
    expect(sorted(t.match('trade'))).to.deep.equal(['b']);
    expect(t.match('trade.x.y').size).to.equal(0);
  });

  it('lets > stand for one or more tokens, never zero', () => {
    const t = trieOf(['market.>', 'a'], ['>', 'all']);
    expect(sorted(t.match('market.BTC'))).to.deep.equal(['a', 'all']);
    expect(sorted(t.match('market.BTC.ask.1'))).to.deep.equal(['a', 'all']);
    expect(sorted(t.match('market'))).to.deep.equal(['all']);
  });

  it('combines * and > in one pattern', () => {
    const t = trieOf(['*.signal.>', 'a'], ['*.*.BTC', 'b']);
    expect(sorted(t.match('trade.signal.BTC'))).to.deep.equal(['a', 'b']);
    expect(sorted(t.match('risk.signal.ETH.spot'))).to.deep.equal(['a']);
    expect(t.match('trade.signal').size).to.equal(0);
  });

  it('returns a value once when several of its patterns match', () => {
    const t = trieOf(['trade.BTC', 'a'], ['trade.*', 'a'], ['trade.>', 'a'], ['>', 'a'], ['trade.*', 'b']);
    expect(sorted(t.match('trade.BTC'))).to.deep.equal(['a', 'b']);
    expect(t.size).to.equal(5);
  });

  it('keeps a pair once and says so when it is added again', () => {
    const t = new SubjectTrie<string>();
    expect(t.add('a.*', 'x')).to.equal(true);
    expect(t.add('a.*', 'x')).to.equal(false);
    expect(t.add('a.*', 'y')).to.equal(true);
    expect(t.size).to.equal(2);
    expect(t.patternsOf('x')).to.deep.equal(['a.*']);
  });

  it('removes one pair and leaves the others', () => {
    const t = trieOf(['a.*', 'x'], ['a.*', 'y'], ['a.b', 'x']);
    expect(t.remove('a.*', 'x')).to.equal(true);
    expect(t.remove('a.*', 'x')).to.equal(false);
    expect(t.remove('a.c', 'x')).to.equal(false);
    expect(t.remove('a.b', 'y')).to.equal(false);
    expect(sorted(t.match('a.b'))).to.deep.equal(['x', 'y']);
    expect(sorted(t.match('a.c'))).to.deep.equal(['y']);
    expect(t.size).to.equal(2);
  });

  it('removes every pattern of a value at once', () => {
    const t = trieOf(['a.>', 'x'], ['b.*', 'x'], ['c', 'x'], ['a.>', 'y']);
    expect(t.removeValue('x')).to.equal(3);
    expect(t.removeValue('x')).to.equal(0);
    expect(t.patternsOf('x')).to.deep.equal([]);
    expect(t.entries()).to.deep.equal([['a.>', 'y']]);
    expect(sorted(t.match('a.q'))).to.deep.equal(['y']);
    expect(t.match('c').size).to.equal(0);
  });

  it('drops nodes nothing hangs from any more, and keeps shared prefixes', () => {
    const t = new SubjectTrie<string>();
    t.add('a.b.c', 'x'); // a, b, c
    t.add('a.*.c', 'x'); // *, c under a
    t.add('a.b.>', 'y'); // the > set lives on b: no new node
    expect(t.nodeCount).to.equal(5);
    t.remove('a.b.c', 'x');
    expect(t.nodeCount).to.equal(4); // c under b goes, b stays for a.b.>
    t.remove('a.b.>', 'y');
    expect(t.nodeCount).to.equal(3);
    t.removeValue('x');
    expect([t.nodeCount, t.size]).to.deep.equal([0, 0]);
  });

  it('gives entries as a copy that rebuilds the same trie', () => {
    const t = trieOf(['a.*', 'x'], ['>', 'y'], ['a.b', 'x']);
    const snap = t.entries();
    t.removeValue('x');
    expect(snap).to.deep.equal([['a.*', 'x'], ['a.b', 'x'], ['>', 'y']]);
    const copy = trieOf(...snap);
    expect([copy.size, copy.nodeCount]).to.deep.equal([3, 3]);
  });

  it('compares values as Set members, so objects match by identity', () => {
    const a = { id: 'a' };
    const t = new SubjectTrie<{ id: string }>();
    t.add('x', a);
    expect(t.add('x', { id: 'a' })).to.equal(true);
    expect(t.match('x').size).to.equal(2);
    expect(t.match('x').has(a)).to.equal(true);
  });
});

describe('bus subject validation', () => {
  const badSubjects: Array<[unknown, string, number | undefined]> = [
    ['', 'is empty', undefined],
    ['trade..BTC', "token 2 (at character 6) is empty: '..'", 2],
    ['.trade', 'token 1 (at character 0) is empty: leading dot', 1],
    ['trade.', 'token 2 (at character 6) is empty: trailing dot', 2],
    ['trade.BT C', 'token 2 (at character 6) "BT C" contains whitespace " "', 2],
    ['trade.\tBTC', 'contains whitespace "\\t"', 2],
    ['trade.*', "token 2 (at character 6) is the wildcard '*'", 2],
    ['trade.>', "token 2 (at character 6) is the wildcard '>'", 2],
    ['trade.BTC*', 'token 2 (at character 6) "BTC*" mixes a wildcard', 2],
    ['x'.repeat(MAX_SUBJECT_LENGTH + 1), `is ${MAX_SUBJECT_LENGTH + 1} characters long; the limit is ${MAX_SUBJECT_LENGTH}`, undefined],
    [42, 'must be a string, got number', undefined],
    [null, 'must be a string, got null', undefined],
  ];
  for (const [value, reason, token] of badSubjects) {
    const shown = typeof value === 'string' && value.length > 24 ? `of ${value.length} characters` : JSON.stringify(value);
    it(`refuses the subject ${shown} naming the fault and the caller`, () => {
      const e = caught(() => validateSubject(value, 'ctx.publish'));
      expect(e).to.be.instanceOf(RingmasterError);
      expect([e.code, e.name, e.where, e.token]).to.deep.equal(['ERR_INVALID_SUBJECT', 'InvalidSubjectError', 'ctx.publish', token]);
      expect(e.message).to.match(/^ctx\.publish: invalid subject "/);
      expect(e.message).to.include(reason);
      if (typeof value === 'string' && value.length < 80) expect(e.message).to.include(JSON.stringify(value));
    });
  }

  it('refuses patterns with > before the end or wildcards inside a token', () => {
    const e = caught(() => validatePattern('market.>.BTC', 'ctx.subscribe'));
    expect(e.message).to.equal(
      `ctx.subscribe: invalid pattern "market.>.BTC": token 2 (at character 7) is '>' but not the last token; '>' already matches everything after it`,
    );
    expect(caught(() => validatePattern('a.b>', 'ctx.subscribe')).token).to.equal(2);
    expect(caught(() => validatePattern('*a', 'ctx.subscribe')).message).to.include('"*a" mixes a wildcard');
    expect(caught(() => validatePattern('a..*', 'ctx.subscribe')).token).to.equal(2);
  });

  it('accepts wildcards as whole pattern tokens and returns the tokens', () => {
    for (const p of ['>', '*', '*.*', 'a.>', '*.signal.>']) expect(validatePattern(p, 'test').join('.')).to.equal(p);
    expect(validateSubject('x'.repeat(MAX_SUBJECT_LENGTH), 'test')).to.have.length(1);
    expect(validateSubject('trade.signal.BTC-USD_1', 'test')).to.deep.equal(['trade', 'signal', 'BTC-USD_1']);
  });

  it('checks what the trie is given, under the name of the caller when one is passed', () => {
    const t = new SubjectTrie<string>();
    expect(caught(() => t.add('a.>.b', 'x', 'ctx.subscribe')).where).to.equal('ctx.subscribe');
    expect(caught(() => t.add('a.>.b', 'x')).where).to.equal('SubjectTrie.add');
    expect(caught(() => t.match('a.*')).where).to.equal('SubjectTrie.match');
    expect(caught(() => t.remove('', 'x')).where).to.equal('SubjectTrie.remove');
    expect(t.size).to.equal(0);
  });
});

describe('bus subject trie (property: agrees with a linear scan over all patterns)', () => {
  // Three letters and short subjects, so patterns overlap and collide often.
  const token = fc.constantFrom('a', 'b', 'c');
  const subject = fc.array(token, { minLength: 1, maxLength: 4 }).map((ts) => ts.join('.'));
  const pattern = fc
    .tuple(fc.array(fc.constantFrom('a', 'b', 'c', '*'), { maxLength: 4 }), fc.boolean())
    .filter(([ts, tail]) => ts.length > 0 || tail)
    .map(([ts, tail]) => (tail ? [...ts, '>'] : ts).join('.'));
  const value = fc.constantFrom('v0', 'v1', 'v2', 'v3');
  type Op = { add: [string, string] } | { remove: [string, string] } | { removeValue: string } | { match: string };
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.tuple(pattern, value).map((pv) => ({ add: pv })) },
    { weight: 3, arbitrary: fc.tuple(pattern, value).map((pv) => ({ remove: pv })) },
    { weight: 1, arbitrary: value.map((v) => ({ removeValue: v })) },
    { weight: 4, arbitrary: subject.map((s) => ({ match: s })) },
  );
  // Every subject of up to four tokens over the alphabet: 3 + 9 + 27 + 81.
  const allSubjects: string[] = [];
  for (let n = 1, level = ['']; n <= 4; n++) {
    level = level.flatMap((pre) => ['a', 'b', 'c'].map((t) => (pre ? `${pre}.${t}` : t)));
    allSubjects.push(...level);
  }

  it('matches, counts and prunes like the model under random add/remove sequences', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const trie = new SubjectTrie<string>();
        const model = new Map<string, [string, string]>(); // key `${pattern} ${value}`
        const expected = (s: string) => sorted(new Set([...model.values()].filter(([p]) => refMatches(p, s)).map(([, v]) => v)));
        for (const o of ops) {
          if ('add' in o) {
            const k = o.add.join(' ');
            expect(trie.add(...o.add)).to.equal(!model.has(k));
            model.set(k, o.add);
          } else if ('remove' in o) {
            expect(trie.remove(...o.remove)).to.equal(model.delete(o.remove.join(' ')));
          } else if ('removeValue' in o) {
            const mine = [...model].filter(([, [, v]]) => v === o.removeValue);
            for (const [k] of mine) model.delete(k);
            expect(trie.removeValue(o.removeValue)).to.equal(mine.length);
          } else {
            expect(sorted(trie.match(o.match))).to.deep.equal(expected(o.match));
          }
          expect(trie.size).to.equal(model.size);
        }
        for (const s of allSubjects) expect(sorted(trie.match(s)), s).to.deep.equal(expected(s));
        expect(sorted(trie.entries().map((e) => e.join(' ')))).to.deep.equal(sorted(model.keys()));
        // Pruning: after any history the trie holds exactly the nodes a fresh build of its pairs needs.
        expect(trie.nodeCount).to.equal(trieOf(...trie.entries()).nodeCount);
        for (const v of ['v0', 'v1', 'v2', 'v3']) trie.removeValue(v);
        expect([trie.size, trie.nodeCount]).to.deep.equal([0, 0]);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same answer from subjectMatches as from the linear reference', () => {
    fc.assert(
      fc.property(pattern, subject, (p, s) => {
        expect(subjectMatches(p, s)).to.equal(refMatches(p, s));
      }),
      { numRuns: 2000 },
    );
  });
});
