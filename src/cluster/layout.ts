import { Packr, Unpackr } from 'msgpackr/pack';
import type { Codec, Envelope } from '../codec/envelope.js';
import { StringMemo } from '../codec/header.js';
import { DecodeError } from '../errors.js';
import { systemToken } from '../persistence/jetstream-layout.js';

/**
 * How the cluster lays itself out on NATS (pure: no client here). Every
 * subject of a system's cluster is under `rm.<system>.c.` (the system's name
 * made a subject token as the JetStream journal does it):
 *
 * | subject | who subscribes | carries |
 * |---|---|---|
 * | `rm.<system>.c.hb` | every node | heartbeats: `{ node, iid, actors, topics }`, every `heartbeatMs` |
 * | `rm.<system>.c.bye` | every node | a node that stops cleanly: `{ node, iid }` |
 * | `rm.<system>.c.who` | every node | a joining node's request; each node answers with its heartbeat |
 * | `rm.<system>.c.claim` | every node | a joining node's claim of its name and actor ids (claims.ts); objections go to its reply subject |
 * | `rm.<system>.c.n.<node>.ping` | the node | "is this name taken?": the live node answers |
 * | `rm.<system>.c.n.<node>.m` | the node | messages to its actors and answers to its asks: frames |
 * | `rm.<system>.c.n.<node>.w` | the node | watches of its actors, and what ended that other nodes' actors watched (watches.ts) |
 *
 * A frame is `[u8 length, sender's node][u16 length, to][envelope]`: the
 * envelope is the codec's own wire form (the one a ring carries, which
 * leaves the receiver's id out), so what crosses the network is decoded by
 * the same bounded, prototype-safe code as what crosses a ring.
 */

/** A node's name: one subject token, short and plain. */
export const NODE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The main thread of node `node` as a sender other nodes see (`$system@n1`). */
export const systemAt = (node: string): string => `$system@${node}`;

/** The node a `$system@<node>` id names, or undefined for any other id. */
export function nodeOfSystemId(id: string): string | undefined {
  return id.startsWith('$system@') ? id.slice(8) : undefined;
}

export interface Subjects {
  hb: string;
  bye: string;
  who: string;
  claim: string;
  ping(node: string): string;
  mail(node: string): string;
  watch(node: string): string;
}

export function subjects(system: string): Subjects {
  const base = `rm.${systemToken(system)}.c`;
  return { hb: `${base}.hb`, bye: `${base}.bye`, who: `${base}.who`, claim: `${base}.claim`, ping: (n) => `${base}.n.${n}.ping`, mail: (n) => `${base}.n.${n}.m`, watch: (n) => `${base}.n.${n}.w` };
}

/** Longest actor id a frame carries, UTF-8 bytes. */
const MAX_ID_BYTES = 0xffff;

/** Node names and actor ids as UTF-8, kept: a node sends to the same few ids over and over (cleared past ID_CACHE). */
const utf8 = new Map<string, Buffer>();
const ID_CACHE = 4096;

function utf8Of(s: string): Buffer {
  let b = utf8.get(s);
  if (b === undefined) {
    if (utf8.size >= ID_CACHE) utf8.clear();
    utf8.set(s, (b = Buffer.from(s, 'utf8')));
  }
  return b;
}

/** A frame's buffer for an envelope of `size` bytes, its head (sender's node, receiver's id) written; the envelope goes at the offset returned. */
function frameFor(node: string, to: string, size: number): [Buffer, number] {
  const n = utf8Of(node);
  const t = utf8Of(to);
  if (n.length > 255 || t.length > MAX_ID_BYTES) throw new DecodeError(`cluster frame to '${to}': the node name or actor id is too long`);
  const out = Buffer.allocUnsafe(1 + n.length + 2 + t.length + size);
  out[0] = n.length;
  n.copy(out, 1);
  out.writeUInt16BE(t.length, 1 + n.length);
  t.copy(out, 3 + n.length);
  return [out, 3 + n.length + t.length];
}

/** A frame: the envelope bytes (the codec's) behind the sender's node and the receiver's id. */
export function encodeFrame(node: string, to: string, envelope: Uint8Array): Uint8Array {
  const [out, at] = frameFor(node, to, envelope.length);
  out.set(envelope, at);
  return out;
}

/**
 * `env` encoded by `codec` straight into a frame: `encodeFrame(node, to,
 * codec.encodeToBytes(env))` with one allocation and one copy fewer (the
 * envelope is copied once, from the codec's scratch buffer into the frame).
 */
export function encodeEnvelopeFrame(node: string, to: string, codec: Codec, env: Envelope): Uint8Array {
  const size = codec.encode(env);
  const [out, at] = frameFor(node, to, size);
  codec.encoded.copy(out, at, codec.encodedStart, codec.encodedEnd);
  return out;
}

/** A frame around envelope bytes passed on as they are, `bytes[offset..offset+length]` (a proxy ring's frame). */
export function copyEnvelopeFrame(node: string, to: string, bytes: Uint8Array, offset: number, length: number): Uint8Array {
  const [out, at] = frameFor(node, to, length);
  out.set(bytes.subarray(offset, offset + length), at);
  return out;
}

/** A frame's parts; the envelope is where `offset` says. Throws DecodeError for bytes that are not a frame. */
export function readFrame(data: Uint8Array): { node: string; to: string; offset: number } {
  return new FrameReader().read(data);
}

/**
 * Reads frames one after another (a node's incoming mail): the sender's
 * node and the receiver's id are the same strings frame after frame, so
 * each is kept with its bytes and not decoded again while it repeats.
 */
export class FrameReader {
  readonly #node = new StringMemo();
  readonly #to = new StringMemo();

  /** `readFrame`, of `data`. */
  read(data: Uint8Array): { node: string; to: string; offset: number } {
    const b = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (b.length < 3) throw new DecodeError(`cluster frame of ${b.length} bytes is too short`);
    const nl = b[0]!;
    if (b.length < 3 + nl) throw new DecodeError(`cluster frame of ${b.length} bytes is too short for its node name`);
    const tl = b.readUInt16BE(1 + nl);
    const offset = 3 + nl + tl;
    if (b.length <= offset) throw new DecodeError(`cluster frame of ${b.length} bytes is too short for its receiver and envelope`);
    const node = this.#node.read(b, 1, nl);
    if (!NODE_NAME.test(node)) throw new DecodeError(`cluster frame: the sender's node name ${JSON.stringify(node.slice(0, 70))} is not one`);
    return { node, to: this.#to.read(b, 3 + nl, tl), offset };
  }
}

/** What a node says of itself in a heartbeat (and in its answer to `who`). */
export interface Beat {
  node: string;
  /** This run of the node: a node restarted under the same name has a new one. */
  iid: string;
  /** The actor ids it hosts. */
  actors: string[];
  /** The topic patterns its own subscribers (actors, main thread) have: a publish elsewhere that matches one comes to it. */
  topics: string[];
}

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

export function encodeBeat(b: Beat): Uint8Array {
  return packr.pack(b);
}

/** A heartbeat's body, or null for bytes that are not one (msgpackr without records builds plain objects only). */
export function decodeBeat(data: Uint8Array): Beat | null {
  let v: unknown;
  try {
    v = unpackr.unpack(data);
  } catch {
    return null;
  }
  const b = v as Partial<Beat> | null;
  if (typeof b !== 'object' || b === null || typeof b.node !== 'string' || !NODE_NAME.test(b.node) || typeof b.iid !== 'string') return null;
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((a): a is string => typeof a === 'string') : []);
  return { node: b.node, iid: b.iid, actors: strings(b.actors), topics: strings(b.topics) };
}
