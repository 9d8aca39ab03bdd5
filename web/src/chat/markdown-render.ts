/**
 * One markdown pipeline for the whole app: remark (GitHub flavour) → rehype → highlighted code →
 * React elements. react-markdown builds a new processor on every render, and rehype-highlight
 * registers its ~37 languages each time one is built; while an answer streams that setup cost
 * more than the parse. Here the processor is frozen once, and rendered blocks are cached by their
 * text, so a block parsed while streaming is reused when the stored message replaces the live one.
 *
 * Safety matches react-markdown's defaults: raw HTML in model output is dropped by remark-rehype
 * (never markup; `raw` nodes, should a plugin add one, become text), and every URL attribute
 * goes through react-markdown's `defaultUrlTransform`, which drops `javascript:` and other
 * unsafe protocols. Links open in a new tab.
 */
import type { ReactElement } from "react";
import { Fragment, jsx, jsxs } from "react/jsx-runtime";
import { unified } from "unified";
import remarkParse from "remark-parse";
import remarkGfm from "remark-gfm";
import remarkRehype from "remark-rehype";
import rehypeHighlight from "rehype-highlight";
import { toJsxRuntime, type Components } from "hast-util-to-jsx-runtime";
import { urlAttributes } from "html-url-attributes";
import { visit } from "unist-util-visit";
import { defaultUrlTransform } from "react-markdown";
import type { Root } from "hast";

/** Rendered blocks kept: a long chat on screen plus the answer streaming into it. */
const RENDER_CACHE_BLOCKS = 2_000;

const processor = unified().use(remarkParse).use(remarkGfm).use(remarkRehype).use(rehypeHighlight).freeze();

// Fixed for the whole app: the cache is keyed by text alone.
const components: Partial<Components> = {
  a: (props) => jsx("a", { ...props, target: "_blank", rel: "noreferrer noopener" }),
};

const cache = new Map<string, ReactElement>();

export function renderMarkdown(text: string): ReactElement {
  const cached = cache.get(text);
  if (cached) {
    // Re-inserted so the map's order stays least recently used first.
    cache.delete(text);
    cache.set(text, cached);
    return cached;
  }
  const tree = processor.runSync(processor.parse(text));
  sanitize(tree);
  const element = toJsxRuntime(tree, { Fragment, jsx, jsxs, components, ignoreInvalidStyle: true, passKeys: true });
  cache.set(text, element);
  if (cache.size > RENDER_CACHE_BLOCKS) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return element;
}

function sanitize(tree: Root): void {
  visit(tree, (node, index, parent) => {
    if (node.type === "raw" && parent && typeof index === "number") {
      parent.children[index] = { type: "text", value: node.value };
      return;
    }
    if (node.type !== "element") return;
    for (const [attribute, tags] of Object.entries(urlAttributes)) {
      if (!Object.hasOwn(node.properties, attribute)) continue;
      if (tags === null || tags.includes(node.tagName)) {
        node.properties[attribute] = defaultUrlTransform(String(node.properties[attribute] ?? ""));
      }
    }
  });
}
