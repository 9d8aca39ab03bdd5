/**
 * Markdown through react-markdown (GitHub flavour, highlighted code), one memoized render per
 * block so streaming text costs one block's parse per update. Links open in a new tab; raw HTML
 * in model output is not rendered (react-markdown's default), so it cannot inject markup.
 */
import { memo, useMemo } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import remarkGfm from "remark-gfm";
import rehypeHighlight from "rehype-highlight";
import { splitMarkdownBlocks } from "./markdown-blocks.js";

const remarkPlugins = [remarkGfm];
const rehypePlugins = [rehypeHighlight];
const components: Components = {
  a: ({ node: _node, ...props }) => <a {...props} target="_blank" rel="noreferrer noopener" />,
};

const MarkdownBlock = memo(function MarkdownBlock({ text }: { text: string }) {
  return (
    <ReactMarkdown remarkPlugins={remarkPlugins} rehypePlugins={rehypePlugins} components={components}>
      {text}
    </ReactMarkdown>
  );
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
