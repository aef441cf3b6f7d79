import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';

/** Alias expansions a YAML file may make before it is refused. */
const MAX_YAML_ALIASES = 100;

export type PathSegment = string | number;
export type ConfigFormat = 'yaml' | 'json';

/** A parsed config file: its value, and where in the text each part of it was written. */
export interface ParsedDocument {
  value: unknown;
  /** 1-based line of the node at `path`, or of its nearest ancestor that exists; undefined when unknown. */
  lineOf(path: readonly PathSegment[]): number | undefined;
}

export interface SyntaxProblem {
  line?: number;
  message: string;
}

/** Formats by extension; anything else is refused rather than guessed. */
export function formatOf(file: string): ConfigFormat | null {
  const lower = file.toLowerCase();
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  if (lower.endsWith('.json')) return 'json';
  return null;
}

/** `tree.children[1].restart` → ['tree', 'children', 1, 'restart'] (the form problem paths are written in). */
export function splitPath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

export function joinPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

function locator(doc: Document, lines: LineCounter): ParsedDocument['lineOf'] {
  const lineAt = (offset: number | undefined): number | undefined => (offset === undefined ? undefined : lines.linePos(offset).line);
  return (path) => {
    let node: unknown = doc.contents;
    let line = lineAt((node as { range?: [number] } | null)?.range?.[0]);
    for (const seg of path) {
      if (isMap(node)) {
        // The key's line, not the value's: a block value starts on the line after its key.
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        line = lineAt((pair.key as { range?: [number] }).range?.[0]) ?? line;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
        node = node.items[seg];
        line = lineAt((node as { range?: [number] }).range?.[0]) ?? line;
      } else break;
    }
    return line;
  };
}

function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Where JSON.parse gave up, when its message does not say: the shortest
 * prefix that fails before its end. (Once a prefix holds an error every
 * longer one does, so a binary search finds it.)
 */
function firstBadOffset(text: string): number {
  const bad = (n: number): boolean => {
    try {
      JSON.parse(text.slice(0, n));
      return false;
    } catch (err) {
      // A prefix cut mid-value fails too, at (or "unexpectedly at") its end; only a failure before the end counts.
      const message = (err as Error).message;
      const at = /at position (\d+)/.exec(message);
      return at ? Number(at[1]) < n : !/Unexpected end/.test(message);
    }
  };
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bad(mid + 1)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * JSON goes through JSON.parse, so a `.json` file means exactly JSON (no
 * comments, no YAML-isms); it is parsed a second time as YAML, of which JSON
 * is a subset, only to learn the line of each value.
 */
function parseJson(text: string): { doc: ParsedDocument } | { problems: SyntaxProblem[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /at position (\d+)/.exec(message);
    const offset = at ? Number(at[1]) : /Unexpected end/.test(message) ? text.trimEnd().length : firstBadOffset(text);
    // V8 quotes the whole input in some messages; the line says where, so the quote goes.
    const reason = message
      .replace(/ (in JSON )?at position \d+.*$/s, '')
      .replace(/, ".*" is not valid JSON$/s, '')
      .replace(/\n/g, '\\n');
    return { problems: [{ line: lineOfOffset(text, offset), message: reason }] };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  return { doc: { value, lineOf: doc.errors.length === 0 ? locator(doc, lines) : () => undefined } };
}

function parseYaml(text: string): { doc: ParsedDocument } | { problems: SyntaxProblem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => ({
        line: e.linePos?.[0]?.line,
        message: (e.message.split('\n', 1)[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
      })),
    };
  }
  try {
    // The alias cap stops a "billion laughs" file from expanding without bound.
    return { doc: { value: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }), lineOf: locator(doc, lines) } };
  } catch (err) {
    return { problems: [{ message: (err as Error).message }] };
  }
}

export function parseText(text: string, format: ConfigFormat): { doc: ParsedDocument } | { problems: SyntaxProblem[] } {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return format === 'json' ? parseJson(body) : parseYaml(body);
}
