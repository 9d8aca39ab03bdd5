/**
 * The timeline's rows: a user message (text, images, file references, and Edit), an assistant
 * message (markdown, collapsed thinking, tool cards, sources), and the step being streamed.
 */
import { memo, useState } from "react";
import * as Dialog from "@radix-ui/react-dialog";
import { Brain, ChevronRight, FileCode, Link2, Pencil } from "lucide-react";
import type { ChatMessageResponse, ChatMessagePart } from "../../../src/sdk/schemas/index.js";
import type { RenderBlock } from "./timeline-items.js";
import { Markdown } from "./Markdown.js";
import { ToolCard } from "./tools/ToolCard.js";
import { Lightbox } from "./Lightbox.js";
import { api } from "../app/api.js";

export function messageText(message: ChatMessageResponse): string {
  return message.content
    .filter((part) => part.type === "text")
    .map((part) => part.text ?? "")
    .join("\n");
}

export const UserRow = memo(function UserRow({ message, onEdit, editable }: { message: ChatMessageResponse; onEdit(id: number, text: string): void; editable: boolean }) {
  const [editing, setEditing] = useState(false);
  const text = messageText(message);
  const files = message.content.filter((part) => part.type === "file");
  const references = message.content.filter((part) => part.type === "file-reference");
  return (
    <div className="row row-user" data-message-id={message.id}>
      <div className="user-bubble">
        {editing ? (
          <EditForm
            initial={text}
            onCancel={() => setEditing(false)}
            onSave={(next) => {
              setEditing(false);
              onEdit(message.id, next);
            }}
          />
        ) : (
          <>
            {files.length > 0 ? (
              <div className="user-files">
                {files.map((part, index) => (
                  <FileThumb key={part.file_id ?? index} part={part} />
                ))}
              </div>
            ) : null}
            {references.map((part, index) => (
              <div key={index} className="file-reference">
                <FileCode size={13} aria-hidden /> {part.file_name}
                {part.start_line ? `:${part.start_line}${part.end_line && part.end_line !== part.start_line ? `-${part.end_line}` : ""}` : ""}
              </div>
            ))}
            {text ? <div className="user-text">{text}</div> : null}
          </>
        )}
      </div>
      {!editing && editable && text ? (
        <button type="button" className="btn btn-ghost btn-sm row-action" onClick={() => setEditing(true)} aria-label="Edit message">
          <Pencil size={13} aria-hidden /> Edit
        </button>
      ) : null}
    </div>
  );
});

function EditForm({ initial, onSave, onCancel }: { initial: string; onSave(text: string): void; onCancel(): void }) {
  const [text, setText] = useState(initial);
  const [confirming, setConfirming] = useState(false);
  return (
    <form
      className="edit-form"
      onSubmit={(event) => {
        event.preventDefault();
        if (text.trim()) setConfirming(true);
      }}
    >
      <label className="sr-only" htmlFor="edit-message">
        Edit message
      </label>
      <textarea
        id="edit-message"
        className="edit-textarea"
        value={text}
        autoFocus
        onChange={(event) => setText(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape") onCancel();
        }}
      />
      <div className="edit-actions">
        <span className="faint">Saving removes every message after this one.</span>
        <button type="button" className="btn btn-sm" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn btn-sm btn-primary" disabled={!text.trim()}>
          Save and resend
        </button>
      </div>
      <Dialog.Root open={confirming} onOpenChange={setConfirming}>
        <Dialog.Portal>
          <Dialog.Overlay className="dialog-overlay" />
          <Dialog.Content className="dialog-content">
            <Dialog.Title>Edit this message?</Dialog.Title>
            <Dialog.Description>Every message after it, and any queued messages, will be removed, and the agent will answer the edited message.</Dialog.Description>
            <div className="dialog-actions">
              <Dialog.Close className="btn">Cancel</Dialog.Close>
              <button type="button" className="btn btn-primary" onClick={() => onSave(text.trim())}>
                Edit and resend
              </button>
            </div>
          </Dialog.Content>
        </Dialog.Portal>
      </Dialog.Root>
    </form>
  );
}

function FileThumb({ part }: { part: ChatMessagePart }) {
  const src = part.file_id ? api.fileUrl(part.file_id) : part.data ? `data:${part.media_type ?? "image/png"};base64,${part.data}` : undefined;
  if (!src) return null;
  return <Lightbox src={src} alt={part.file_name || "Attached image"} thumbClassName="user-image" />;
}

/** `continued`: a later row of one long message (no gap above it). */
export const AssistantRow = memo(function AssistantRow({ blocks, running, continued }: { blocks: RenderBlock[]; running: boolean; continued: boolean }) {
  return (
    <div className={continued ? "row row-assistant row-continued" : "row row-assistant"}>
      <Blocks blocks={blocks} running={running} />
    </div>
  );
});

export function LiveRow({ blocks, running, continued }: { blocks: RenderBlock[]; running: boolean; continued: boolean }) {
  return (
    <div className={continued ? "row row-assistant row-live row-continued" : "row row-assistant row-live"} aria-live="off">
      <Blocks blocks={blocks} running={running} />
    </div>
  );
}

function Blocks({ blocks, running }: { blocks: RenderBlock[]; running: boolean }) {
  return (
    <>
      {blocks.map((block, index) => {
        const key = block.kind === "tool" ? `tool-${block.toolCallId}` : `${block.kind}-${index}`;
        switch (block.kind) {
          case "text":
            return <Markdown key={key} text={block.text} />;
          case "reasoning":
            return <Thinking key={key} text={block.text} active={running && index === blocks.length - 1} />;
          case "tool":
            return <ToolCard key={key} block={block} running={running} />;
          case "source":
            return (
              <a key={key} className="source-link" href={block.part.url} target="_blank" rel="noreferrer noopener">
                <Link2 size={13} aria-hidden /> {block.part.title || block.part.url}
              </a>
            );
          case "file":
            return <FileThumb key={key} part={block.part} />;
        }
      })}
    </>
  );
}

function Thinking({ text, active }: { text: string; active: boolean }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="thinking">
      <button type="button" className="thinking-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
        <ChevronRight size={13} className={open ? "rotated" : ""} aria-hidden />
        <Brain size={13} aria-hidden />
        <span className={active ? "shimmer" : ""}>{active ? "Thinking…" : "Thinking"}</span>
      </button>
      {open ? <div className="thinking-body">{text}</div> : null}
    </div>
  );
}
