/**
 * Splits markdown into top-level blocks at blank lines that are outside fenced code, so a
 * streaming answer re-renders only its last block: earlier blocks keep their text, their memoized
 * render, and their height (no flicker, no jump). Joining the blocks with blank lines gives back
 * the same document for everything but loose lists, which render as adjacent lists.
 */
const FENCE = /^\s{0,3}(`{3,}|~{3,})/;

export function splitMarkdownBlocks(text: string): string[] {
  const blocks: string[] = [];
  let current: string[] = [];
  let fence: string | null = null;
  for (const line of text.split("\n")) {
    const match = FENCE.exec(line);
    if (match?.[1]) {
      const marker = match[1];
      if (fence === null) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = null;
    }
    if (fence === null && line.trim() === "" && current.length > 0) {
      blocks.push(current.join("\n"));
      current = [];
      continue;
    }
    if (line.trim() === "" && current.length === 0) continue;
    current.push(line);
  }
  if (current.length > 0) blocks.push(current.join("\n"));
  return blocks;
}
