/**
 * Bounded capture of a process's combined output: the first HEAD_BYTES and the last TAIL_BYTES
 * are kept, everything between is counted and dropped. Memory stays constant however much a
 * process prints, and the model sees both how a command started and how it ended.
 *
 * Invariants:
 * - Bytes pass through unchanged (binary, NUL, invalid UTF-8) except for two edits: a line longer
 *   than MAX_LINE_BYTES is cut and gets LINE_TRUNCATED_MARKER, and a dropped middle is replaced by
 *   the gap marker in the snapshot.
 * - Cuts never split a UTF-8 character: the line cut moves back to a character start, the head
 *   cut moves back and the tail start moves forward. Writes arrive in arbitrary chunks, so an
 *   incomplete character at the end of a chunk is held back until the next write (or end()).
 * - Truncation metadata is reported only when bytes were omitted between head and tail;
 *   original_bytes counts the output after long lines were cut, so
 *   original_bytes = retained_bytes + omitted_bytes.
 */
import type { Truncation } from "./protocol.js";

/** Head and tail sizes from behavior.md section 6: 32 KiB in all, the execute tool's output cap. */
export const HEAD_BYTES = 16 * 1024;
export const TAIL_BYTES = 16 * 1024;
/** One minified bundle or progress bar must not fill the whole head (behavior.md section 6). */
export const MAX_LINE_BYTES = 2048;
export const LINE_TRUNCATED_MARKER = " ... [truncated]";
const MARKER_BYTES = Buffer.from(LINE_TRUNCATED_MARKER);
const NEWLINE = 0x0a;
/** A UTF-8 character is at most 4 bytes, so at most 3 continuation bytes follow its lead byte. */
const MAX_CONTINUATION_BYTES = 3;

export function gapMarker(omitted: number): string {
  return `\n\n... [omitted ${omitted} bytes] ...\n\n`;
}

function isContinuation(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}

/** Bytes in the UTF-8 sequence a lead byte starts; 1 for ASCII and for bytes that cannot lead. */
function sequenceLength(byte: number): number {
  if (byte >= 0xc0 && byte <= 0xdf) return 2;
  if (byte >= 0xe0 && byte <= 0xef) return 3;
  if (byte >= 0xf0 && byte <= 0xf7) return 4;
  return 1;
}

/** Length of the incomplete character at the end of `data` (0 when it ends on a boundary). */
export function incompleteSuffixLength(data: Buffer): number {
  for (let k = 1; k <= Math.min(MAX_CONTINUATION_BYTES, data.length); k++) {
    const byte = data[data.length - k];
    if (byte === undefined) return 0;
    if (isContinuation(byte)) continue;
    return sequenceLength(byte) > k ? k : 0;
  }
  return 0;
}

/** Number of continuation bytes at the start of `data` (they belong to a character cut off before). */
export function leadingContinuationLength(data: Buffer): number {
  let n = 0;
  while (n < Math.min(MAX_CONTINUATION_BYTES, data.length) && isContinuation(data[n])) n++;
  return n;
}

export interface OutputSnapshot {
  bytes: Buffer;
  truncated?: Truncation;
}

export class HeadTailBuffer {
  private readonly head = Buffer.alloc(HEAD_BYTES);
  private headLength = 0;
  /** Ring of the latest TAIL_BYTES after the head filled: oldest byte at tailStart. */
  private readonly tail = Buffer.alloc(TAIL_BYTES);
  private tailStart = 0;
  private tailLength = 0;
  /** Bytes accepted after line cutting (head + tail + dropped middle). */
  private total = 0;
  /** Bytes of the current line accepted so far (marker excluded). */
  private lineLength = 0;
  /** The current line was cut: drop the rest of it up to the newline. */
  private lineCut = false;
  /** An incomplete UTF-8 character from the end of the last write. */
  private carry: Buffer = Buffer.alloc(0);
  private ended = false;

  write(chunk: Buffer): void {
    if (this.ended || chunk.length === 0) return;
    let data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const hold = incompleteSuffixLength(data);
    this.carry = Buffer.from(data.subarray(data.length - hold));
    data = data.subarray(0, data.length - hold);
    this.shapeLines(data);
  }

  /** The stream is over: a held-back partial character is passed through as it is. */
  end(): void {
    if (this.ended) return;
    const rest = this.carry;
    this.carry = Buffer.alloc(0);
    this.shapeLines(rest);
    this.ended = true;
  }

  /** Bytes accepted so far (after long lines were cut). */
  get size(): number {
    return this.total;
  }

  snapshot(): OutputSnapshot {
    const tail = this.linearTail();
    const head = this.head.subarray(0, this.headLength);
    if (this.total === this.headLength + this.tailLength) return { bytes: Buffer.concat([head, tail]) };
    const keptHead = head.subarray(0, head.length - incompleteSuffixLength(head));
    const keptTail = tail.subarray(leadingContinuationLength(tail));
    const retained = keptHead.length + keptTail.length;
    const omitted = this.total - retained;
    return {
      bytes: Buffer.concat([keptHead, Buffer.from(gapMarker(omitted)), keptTail]),
      truncated: { original_bytes: this.total, retained_bytes: retained, omitted_bytes: omitted, strategy: "head_tail" },
    };
  }

  /** Splits at newlines so each line's length is known; `data` starts on a character boundary. */
  private shapeLines(data: Buffer): void {
    let start = 0;
    while (start < data.length) {
      const newline = data.indexOf(NEWLINE, start);
      const end = newline === -1 ? data.length : newline;
      this.appendLinePart(data.subarray(start, end));
      if (newline === -1) return;
      this.append(data.subarray(newline, newline + 1));
      this.lineLength = 0;
      this.lineCut = false;
      start = newline + 1;
    }
  }

  private appendLinePart(part: Buffer): void {
    if (part.length === 0 || this.lineCut) return;
    const room = MAX_LINE_BYTES - this.lineLength;
    if (part.length <= room) {
      this.append(part);
      this.lineLength += part.length;
      return;
    }
    // part[cut] is the first byte not kept; if it continues a character, keep none of that character.
    let cut = room;
    for (let steps = 0; steps < MAX_CONTINUATION_BYTES && cut > 0 && isContinuation(part[cut]); steps++) cut--;
    if (isContinuation(part[cut])) cut = room; // not UTF-8 at all: a plain byte cut is the best there is
    this.append(part.subarray(0, cut));
    this.append(MARKER_BYTES);
    this.lineLength += cut;
    this.lineCut = true;
  }

  private append(data: Buffer): void {
    this.total += data.length;
    let rest = data;
    if (this.headLength < HEAD_BYTES) {
      const n = Math.min(HEAD_BYTES - this.headLength, rest.length);
      rest.copy(this.head, this.headLength, 0, n);
      this.headLength += n;
      rest = rest.subarray(n);
    }
    if (rest.length === 0) return;
    if (rest.length >= TAIL_BYTES) {
      rest.copy(this.tail, 0, rest.length - TAIL_BYTES);
      this.tailStart = 0;
      this.tailLength = TAIL_BYTES;
      return;
    }
    for (let offset = 0; offset < rest.length; ) {
      const writeAt = (this.tailStart + this.tailLength) % TAIL_BYTES;
      const n = Math.min(rest.length - offset, TAIL_BYTES - writeAt);
      rest.copy(this.tail, writeAt, offset, offset + n);
      offset += n;
      const overflow = Math.max(0, this.tailLength + n - TAIL_BYTES);
      this.tailLength = Math.min(TAIL_BYTES, this.tailLength + n);
      this.tailStart = (this.tailStart + overflow) % TAIL_BYTES;
    }
  }

  private linearTail(): Buffer {
    const firstPart = this.tail.subarray(this.tailStart, Math.min(TAIL_BYTES, this.tailStart + this.tailLength));
    const wrapped = this.tailLength - firstPart.length;
    return Buffer.concat([firstPart, this.tail.subarray(0, wrapped)]);
  }
}
