/**
 * The prompt box of the new-chat page and the chat view: text (Enter sends, Shift+Enter breaks
 * the line), images by button, paste or drag-and-drop, and slots for the pickers and Stop.
 * Sending waits for uploads to finish; a failed upload blocks sending until it is removed.
 */
import { useRef, useState, type ClipboardEvent, type DragEvent, type FormEvent, type KeyboardEvent, type ReactNode } from "react";
import { ArrowUp, ImagePlus, X } from "lucide-react";
import type { ChatInputPart } from "../../../src/sdk/schemas/index.js";
import { useAttachments } from "./attachments.js";
import { ALLOWED_IMAGE_TYPES } from "./attachment-rules.js";

interface ComposerProps {
  placeholder: string;
  /** Resolves when the server accepted the message; the box is cleared then. */
  onSend(content: ChatInputPart[]): Promise<unknown>;
  disabled?: boolean;
  busy?: boolean;
  toolbar?: ReactNode;
  actions?: ReactNode;
  autoFocus?: boolean;
  initialText?: string;
}

export function Composer({ placeholder, onSend, disabled, busy, toolbar, actions, autoFocus, initialText }: ComposerProps) {
  const [text, setText] = useState(initialText ?? "");
  const [dragging, setDragging] = useState(false);
  const [sending, setSending] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const { attachments, problems, add, remove, clear, dismissProblems } = useAttachments();
  const uploading = attachments.some((item) => item.state === "uploading");
  const failed = attachments.some((item) => item.state === "failed");
  const canSend = !disabled && !sending && !uploading && !failed && (text.trim() !== "" || attachments.length > 0);

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    if (!canSend) return;
    const content: ChatInputPart[] = [
      ...attachments.flatMap((item) => (item.fileId ? [{ type: "file" as const, file_id: item.fileId }] : [])),
      ...(text.trim() ? [{ type: "text" as const, text }] : []),
    ];
    setSending(true);
    try {
      await onSend(content);
      setText("");
      clear();
    } finally {
      setSending(false);
      input.current?.focus();
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  };
  const onPaste = (event: ClipboardEvent) => {
    const files = [...event.clipboardData.files];
    if (files.length === 0) return;
    event.preventDefault();
    add(files);
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    add([...event.dataTransfer.files]);
  };

  return (
    <form
      className={`composer ${dragging ? "composer-dragging" : ""}`}
      onSubmit={(event) => void submit(event)}
      onDragOver={(event) => {
        if ([...event.dataTransfer.types].includes("Files")) {
          event.preventDefault();
          setDragging(true);
        }
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      aria-busy={sending || uploading}
    >
      {attachments.length > 0 ? (
        <ul className="attachments" aria-label="Attachments">
          {attachments.map((item) => (
            <li key={item.key} className={`attachment attachment-${item.state}`} title={item.error ?? item.name}>
              <img src={item.previewUrl} alt={item.name} />
              {item.state === "uploading" ? <span className="attachment-overlay"><span className="spinner" aria-label={`Uploading ${item.name}`} /></span> : null}
              {item.state === "failed" ? <span className="attachment-overlay attachment-error">Failed</span> : null}
              <button type="button" className="attachment-remove" aria-label={`Remove ${item.name}`} onClick={() => remove(item.key)}>
                <X size={12} aria-hidden />
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {[...problems, ...attachments.flatMap((item) => (item.error ? [`${item.name}: ${item.error}`] : []))].map((problem) => (
        <div key={problem} className="alert alert-error composer-problem" role="alert">
          {problem}
          <button type="button" className="btn btn-ghost btn-sm" onClick={dismissProblems} aria-label="Dismiss">
            <X size={12} aria-hidden />
          </button>
        </div>
      ))}
      <label className="sr-only" htmlFor="composer-input">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={input}
        className="composer-input"
        placeholder={placeholder}
        value={text}
        rows={1}
        autoFocus={autoFocus}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
        disabled={disabled}
      />
      <div className="composer-bar">
        <div className="composer-toolbar">
          <button type="button" className="btn btn-ghost btn-icon btn-sm" aria-label="Attach images" title="Attach images" onClick={() => fileInput.current?.click()}>
            <ImagePlus size={15} aria-hidden />
          </button>
          <input
            ref={fileInput}
            type="file"
            accept={ALLOWED_IMAGE_TYPES.join(",")}
            multiple
            hidden
            aria-hidden
            tabIndex={-1}
            data-testid="attach-input"
            onChange={(event) => {
              add([...(event.target.files ?? [])]);
              event.target.value = "";
            }}
          />
          {toolbar}
        </div>
        <div className="composer-actions">
          {actions}
          <button type="submit" className="btn btn-primary btn-icon btn-sm send-button" disabled={!canSend} aria-label={busy ? "Queue message" : "Send message"} title={busy ? "Queue message (Enter)" : "Send (Enter)"}>
            {sending ? <span className="spinner" aria-hidden /> : <ArrowUp size={15} aria-hidden />}
          </button>
        </div>
      </div>
    </form>
  );
}
