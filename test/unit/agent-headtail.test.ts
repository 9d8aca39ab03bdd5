import { describe, expect, it } from "vitest";
import { gapMarker, HEAD_BYTES, HeadTailBuffer, LINE_TRUNCATED_MARKER, MAX_LINE_BYTES, TAIL_BYTES } from "../../src/agent/headtail.js";

function capture(chunks: (Buffer | string)[], end = true): ReturnType<HeadTailBuffer["snapshot"]> {
  const buffer = new HeadTailBuffer();
  for (const chunk of chunks) buffer.write(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  if (end) buffer.end();
  return buffer.snapshot();
}

/** Splits `data` into chunks of `size` bytes (the last may be shorter). */
function chunked(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

describe("HeadTailBuffer", () => {
  it("keeps small output exactly, without truncation metadata", () => {
    const snapshot = capture(["hello\n", "world\n"]);
    expect(snapshot.bytes.toString()).toBe("hello\nworld\n");
    expect(snapshot.truncated).toBeUndefined();
  });

  it("passes binary and NUL bytes through untouched", () => {
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x00, 0x80, 0x0a, 0xc3, 0x00, 0x01, 0xe2, 0x82]);
    const snapshot = capture(chunked(binary, 3));
    expect(snapshot.bytes.equals(binary)).toBe(true);
    expect(snapshot.truncated).toBeUndefined();
  });

  it("keeps exactly head + tail bytes when the output just fits", () => {
    const line = `${"x".repeat(99)}\n`;
    const data = Buffer.from(line.repeat((HEAD_BYTES + TAIL_BYTES) / 100).slice(0, HEAD_BYTES + TAIL_BYTES));
    const snapshot = capture(chunked(data, 777));
    expect(snapshot.bytes.equals(data)).toBe(true);
    expect(snapshot.truncated).toBeUndefined();
  });

  it("drops the middle past the cap and marks the gap with the omitted byte count", () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${String(i).padStart(4, "0")}\n`).join("");
    const data = Buffer.from(lines);
    const snapshot = capture(chunked(data, 1000));
    const omitted = data.length - HEAD_BYTES - TAIL_BYTES;
    const marker = gapMarker(omitted);
    expect(snapshot.truncated).toEqual({
      original_bytes: data.length,
      retained_bytes: HEAD_BYTES + TAIL_BYTES,
      omitted_bytes: omitted,
      strategy: "head_tail",
    });
    expect(snapshot.bytes.toString()).toBe(`${lines.slice(0, HEAD_BYTES)}${marker}${lines.slice(-TAIL_BYTES)}`);
    expect(marker).toBe(`\n\n... [omitted ${omitted} bytes] ...\n\n`);
  });

  it("cuts a long line at MAX_LINE_BYTES with a marker, even when it arrives in many chunks", () => {
    const long = "a".repeat(MAX_LINE_BYTES * 3);
    const data = Buffer.from(`start\n${long}\nend\n`);
    const snapshot = capture(chunked(data, 100));
    expect(snapshot.bytes.toString()).toBe(`start\n${"a".repeat(MAX_LINE_BYTES)}${LINE_TRUNCATED_MARKER}\nend\n`);
  });

  it("keeps a line of exactly MAX_LINE_BYTES whole and counts line length across chunk boundaries", () => {
    const exact = "b".repeat(MAX_LINE_BYTES);
    expect(capture([exact.slice(0, 1000), exact.slice(1000), "\n"]).bytes.toString()).toBe(`${exact}\n`);
    expect(capture([exact.slice(0, 1000), `${exact.slice(1000)}c`, "\n"]).bytes.toString()).toBe(`${exact}${LINE_TRUNCATED_MARKER}\n`);
  });

  it("never splits a UTF-8 character when cutting a long line", () => {
    // "é" is 2 bytes; one ASCII byte first puts a character across the 2048-byte boundary.
    const line = `x${"é".repeat(MAX_LINE_BYTES)}`;
    const snapshot = capture(chunked(Buffer.from(`${line}\n`), 333));
    const text = snapshot.bytes.toString("utf8");
    expect(text).not.toContain("\uFFFD");
    expect(text).toBe(`x${"é".repeat((MAX_LINE_BYTES - 2) / 2)}${LINE_TRUNCATED_MARKER}\n`);
  });

  it("keeps multi-byte characters whole when a write ends in the middle of one", () => {
    const data = Buffer.from("€uro ✓ 𝄞\n");
    const snapshot = capture(chunked(data, 1));
    expect(snapshot.bytes.equals(data)).toBe(true);
  });

  it("moves the head cut back and the tail start forward to character boundaries", () => {
    // 3-byte characters: 16384 is not a multiple of 3, so both cuts would land inside one.
    const lines = Array.from({ length: 4000 }, () => `${"✓".repeat(20)}\n`).join("");
    const data = Buffer.from(lines);
    const snapshot = capture(chunked(data, 4096));
    const text = snapshot.bytes.toString("utf8");
    expect(text).not.toContain("\uFFFD");
    const truncated = snapshot.truncated;
    expect(truncated).toBeDefined();
    if (!truncated) return;
    expect(truncated.retained_bytes).toBeLessThan(HEAD_BYTES + TAIL_BYTES);
    expect(truncated.retained_bytes + truncated.omitted_bytes).toBe(data.length);
    expect(text).toContain(`[omitted ${truncated.omitted_bytes} bytes]`);
    const [head, tail] = text.split(gapMarker(truncated.omitted_bytes));
    expect(Buffer.byteLength(head ?? "") + Buffer.byteLength(tail ?? "")).toBe(truncated.retained_bytes);
    expect(lines.startsWith(head ?? "-")).toBe(true);
    expect(lines.endsWith(tail ?? "-")).toBe(true);
  });

  it("holds back a trailing partial character until it completes (snapshot while running)", () => {
    const buffer = new HeadTailBuffer();
    const euro = Buffer.from("€");
    buffer.write(Buffer.concat([Buffer.from("a"), euro.subarray(0, 1)]));
    expect(buffer.snapshot().bytes.toString()).toBe("a");
    buffer.write(euro.subarray(1));
    expect(buffer.snapshot().bytes.toString()).toBe("a€");
  });

  it("keeps memory bounded for large output", () => {
    const buffer = new HeadTailBuffer();
    const block = Buffer.from(`${"z".repeat(1023)}\n`);
    for (let i = 0; i < 10_000; i++) buffer.write(block);
    buffer.end();
    const snapshot = buffer.snapshot();
    expect(buffer.size).toBe(block.length * 10_000);
    expect(snapshot.bytes.length).toBe(HEAD_BYTES + TAIL_BYTES + gapMarker(block.length * 10_000 - HEAD_BYTES - TAIL_BYTES).length);
  });
});
