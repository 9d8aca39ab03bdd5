import { describe, expect, it } from "vitest";
import { renderToStaticMarkup } from "react-dom/server";
import { renderMarkdown } from "../../web/src/chat/markdown-render.js";

const html = (text: string) => renderToStaticMarkup(renderMarkdown(text));

describe("the shared markdown pipeline", () => {
  it("renders GitHub-flavoured markdown with highlighted code", () => {
    expect(html("| a | b |\n| - | - |\n| 1 | 2 |")).toContain("<table>");
    expect(html("~~gone~~")).toContain("<del>gone</del>");
    expect(html("```ts\nconst x = 1;\n```")).toContain('<span class="hljs-keyword">const</span>');
  });

  it("never turns raw HTML from the model into markup", () => {
    const out = html('<img src=x onerror="alert(1)"> and <script>alert(2)</script>');
    expect(out).not.toContain("<img");
    expect(out).not.toContain("<script");
    expect(out).toContain("and");
  });

  it("drops unsafe link protocols and keeps safe ones", () => {
    expect(html("[click](javascript:alert(1))")).not.toContain("javascript:");
    expect(html("[docs](https://example.com/a)")).toContain('href="https://example.com/a"');
  });

  it("reuses the rendered element for the same text (the live block and the stored one)", () => {
    expect(renderMarkdown("same block")).toBe(renderMarkdown("same block"));
  });
});
