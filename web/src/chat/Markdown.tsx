/**
 * Markdown (GitHub flavour, highlighted code) split into top-level blocks, one memoized render
 * per block, so streaming text costs one block's parse per update. Links open in a new tab; raw
 * HTML in model output is dropped, so it cannot inject markup (see markdown-render.ts).
 */
import { memo, useMemo } from "react";
import { renderMarkdown } from "./markdown-render.js";
import { splitMarkdownBlocks } from "./markdown-blocks.js";

const MarkdownBlock = memo(function MarkdownBlock({ text }: { text: string }) {
  return renderMarkdown(text);
});

export function Markdown({ text }: { text: string }) {
  const blocks = useMemo(() => splitMarkdownBlocks(text), [text]);
  return (
    <div className="markdown">
      {blocks.map((block, index) => (
        <MarkdownBlock key={index} text={block} />
      ))}
    </div>
  );
}
