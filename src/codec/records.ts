import { Packr, Unpackr } from 'msgpackr/pack';
import { DecodeError } from '../errors.js';
import { StringMemo } from './header.js';

/**
 * msgpackr records: an object whose keys were seen before is packed as a
 * structure id and its values, without the key strings, and decoded by a
 * generated reader into an object of a stable shape (about half the decode
 * time of the same object as a map, a third fewer bytes for a tick).
 *
 * The structures (the key lists) are kept per ring, in the ring's own
 * dictionary area, so whoever reads the ring finds every structure its
 * frames use: a restarted receiver that reads frames written before its
 * restart, and a restarted sender that goes on numbering where the last one
 * stopped. The sender appends a structure and publishes it before it commits
 * the first frame that uses it; the receiver reloads the table whenever the
 * published length grew, so a frame never names a structure its reader
 * cannot have.
 *
 * A dictionary entry: u16 key count, then per key a u16 byte length and the
 * key in UTF-8 (little-endian). Past MAX_SHARED_STRUCTURES shapes, or when the
 * area is full, objects are packed as plain maps.
 */

/** Structures per ring: the one-byte record ids 0x40..0x5f. */
export const MAX_SHARED_STRUCTURES = 32;
/** Longest key, in UTF-8 bytes, and most keys, of an object packed as a record. */
const MAX_KEY_BYTES = 0xffff;
const MAX_KEYS = 0xffff;

/** A ring's dictionary area as its reader sees it (a RingView fits). */
export interface DictSource {
  readonly dict: Buffer;
  dictLength(): number;
}

/** A ring's dictionary area as its single writer sees it (a RingWriter fits). */
export interface DictSink extends DictSource {
  publishDict(length: number): void;
}

/** A key list as msgpackr keeps it (it hangs the reader it compiles for it on the array). */
type Structure = string[] & { read?: () => unknown; undefinedId?: number };

/** Every entry published in `dict`, in id order; stops at the first malformed one. */
function readDict(dict: Buffer, length: number): string[][] {
  const out: string[][] = [];
  // A private copy: the writer may append meanwhile, and nothing decoded may alias shared memory.
  const b = Buffer.from(Uint8Array.prototype.slice.call(dict, 0, Math.min(length, dict.length)));
  let p = 0;
  while (p + 2 <= b.length && out.length < MAX_SHARED_STRUCTURES) {
    const n = b.readUInt16LE(p);
    let q = p + 2;
    const keys: string[] = [];
    for (let i = 0; i < n; i++) {
      if (q + 2 > b.length) return out;
      const len = b.readUInt16LE(q);
      if (q + 2 + len > b.length) return out;
      keys.push(b.toString('utf8', q + 2, q + 2 + len));
      q += 2 + len;
    }
    out.push(keys);
    p = q;
  }
  return out;
}

/**
 * The sending side of one ring's records: a Packr whose shared structures
 * are that ring's dictionary. Exactly one per ring writer.
 */
export class RecordEncoder {
  readonly packr: Packr;
  readonly #dict: DictSink;
  readonly #table: Structure[];
  /** Bytes of the dictionary area used (what was published). */
  #used: number;

  constructor(dict: DictSink) {
    this.#dict = dict;
    this.#used = dict.dictLength();
    // A sender taking over a ring (a restart) continues its table: the ids already in it keep their meaning.
    this.#table = readDict(dict.dict, this.#used);
    this.packr = new Packr({
      structures: this.#table,
      maxSharedStructures: MAX_SHARED_STRUCTURES,
      // Past the shared ones, a new shape is a plain map, never a definition repeated in every frame.
      maxOwnStructures: 0,
      shouldShareStructure: (keys: string[]) => this.#share(keys),
    });
  }

  /** Structures in this ring's table. */
  get size(): number {
    return this.#table.length;
  }

  /**
   * msgpackr is about to give `keys` the next id: append it to the ring's
   * dictionary and publish it first, or refuse (the object is then a map).
   * The id it will get is the table's length, checked, so the ring's table
   * and msgpackr's can never disagree.
   */
  #share(keys: string[]): boolean {
    const t = this.#table as Structure[] & { nextId?: number; sharedLength?: number };
    const id = (t.nextId ?? 0x40) - 0x40;
    if (id !== t.length || id !== (t.sharedLength ?? 0) || id >= MAX_SHARED_STRUCTURES || keys.length > MAX_KEYS) return false;
    // Another writer appended (an older outbox of this thread to the same ring): this table is stale, so share nothing.
    if (this.#dict.dictLength() !== this.#used) return false;
    const dict = this.#dict.dict;
    let need = 2;
    for (const k of keys) {
      const len = Buffer.byteLength(k, 'utf8');
      if (len > MAX_KEY_BYTES) return false;
      need += 2 + len;
    }
    let p = this.#used;
    if (p + need > dict.length) return false;
    dict.writeUInt16LE(keys.length, p);
    p += 2;
    for (const k of keys) {
      const len = dict.write(k, p + 2, 'utf8');
      dict.writeUInt16LE(len, p);
      p += 2 + len;
    }
    this.#used = p;
    this.#dict.publishDict(p);
    return true;
  }
}

/**
 * The receiving side of one ring's records: an Unpackr whose structures are
 * that ring's dictionary, reloaded when it grew. An id the dictionary does
 * not hold (a corrupt frame) fails the decode instead of being read as a
 * number.
 */
export class RecordDecoder {
  /** The sender's id as last read from this ring (the same string, unallocated, while it does not change). */
  readonly from = new StringMemo();
  readonly #dict: DictSource;
  readonly #unpackr: Unpackr;
  #loaded = -1;

  constructor(dict: DictSource, options: { copyBuffers: boolean; mapsAsObjects: boolean }) {
    this.#dict = dict;
    this.#unpackr = new Unpackr({ ...options, structures: [], maxSharedStructures: MAX_SHARED_STRUCTURES });
  }

  /** The Unpackr with every structure published so far (call right before each unpack). */
  current(): Unpackr {
    const len = this.#dict.dictLength();
    if (len !== this.#loaded) this.#reload(len);
    return this.#unpackr;
  }

  /** An Unpackr over the same structures that reads maps with keys of any type (as Map): for refused frames only. */
  lenient(): Unpackr {
    return new RecordDecoder(this.#dict, { copyBuffers: true, mapsAsObjects: false }).current();
  }

  #reload(len: number): void {
    const u = this.#unpackr as Unpackr & { structures: Structure[] & { sharedLength?: number } };
    const old = u.structures;
    const loaded = readDict(this.#dict.dict, len);
    const table: Structure[] & { sharedLength?: number } = [];
    // Keep the structures already known (and the readers msgpackr compiled for them).
    for (let i = 0; i < loaded.length; i++) table.push(i < old.length && old[i]!.undefinedId === undefined ? old[i]! : loaded[i]!);
    // Every other id of the one-byte range (token & 0x3f) refuses, rather than reading as an integer.
    for (let i = loaded.length; i < 64; i++) table.push(undefinedStructure(i));
    table.sharedLength = table.length;
    u.structures = table;
    this.#loaded = len;
  }
}

function undefinedStructure(i: number): Structure {
  const s: Structure = [];
  s.undefinedId = i;
  s.read = () => {
    throw new DecodeError(`record structure ${i} is not defined in this ring`);
  };
  return s;
}
