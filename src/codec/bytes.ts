/**
 * Copying a frame's bytes between a ring and a private buffer. Buffer.copy
 * costs ~100 ns whatever the size (it builds a view of the source range and
 * crosses into C++); a frame of a typical message is ~100 bytes, which 32-bit
 * words copy in a fifth of that. Frames start 8-byte aligned in a ring, and
 * the codec's buffers at 0, so short copies go word by word.
 *
 * A word copy rounds the length up to a multiple of 4: it may read up to 3
 * bytes past the end of the source range and write up to 3 past the end of
 * the destination range. Callers guarantee both are inside their buffers and
 * unused (a ring frame's padding, a scratch buffer's spare room).
 */

/** Longest copy done word by word; memcpy wins beyond. */
const WORD_COPY_MAX = 256;
const WORDS = Symbol('ringmaster.words');

type WithWords = Uint8Array & { [WORDS]?: Int32Array | null };

/** An Int32Array over the whole of `b` (cached on it), or null when `b` does not start on a word. */
function wordsOf(b: WithWords): Int32Array | null {
  let w = b[WORDS];
  if (w === undefined) {
    w = (b.byteOffset & 3) === 0 ? new Int32Array(b.buffer, b.byteOffset, b.byteLength >> 2) : null;
    b[WORDS] = w;
  }
  return w;
}

/** Copy `src[srcStart..srcStart+len)` to `dst[dstStart..)`; see the note above for what short copies may touch. */
export function copyFrameBytes(src: Uint8Array, srcStart: number, dst: Uint8Array, dstStart: number, len: number): void {
  if (len <= WORD_COPY_MAX && ((srcStart | dstStart) & 3) === 0) {
    const s = wordsOf(src);
    const d = wordsOf(dst);
    const n = (len + 3) >> 2;
    if (s !== null && d !== null && (srcStart >> 2) + n <= s.length && (dstStart >> 2) + n <= d.length) {
      for (let i = 0, si = srcStart >> 2, di = dstStart >> 2; i < n; i++) d[di + i] = s[si + i]!;
      return;
    }
  }
  Buffer.prototype.copy.call(src, dst, dstStart, srcStart, srcStart + len);
}
