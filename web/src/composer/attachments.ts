/**
 * Image attachments for a prompt: checked here first (the server checks again and its answer
 * wins), uploaded at once so sending is instant, previewed from a local object URL.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../app/api.js";
import { errorMessage } from "../ui/ErrorNotice.js";
import { attachmentProblem, MAX_ATTACHMENTS } from "./attachment-rules.js";

export interface Attachment {
  key: string;
  name: string;
  previewUrl: string;
  state: "uploading" | "ready" | "failed";
  fileId?: string;
  error?: string;
}

let attachmentCounter = 0;

export function useAttachments() {
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  const [problems, setProblems] = useState<string[]>([]);
  const live = useRef(attachments);
  live.current = attachments;
  useEffect(() => () => live.current.forEach((attachment) => URL.revokeObjectURL(attachment.previewUrl)), []);

  const add = useCallback((files: readonly File[]) => {
    const found: string[] = [];
    for (const file of files) {
      const problem = attachmentProblem(file);
      if (problem) {
        found.push(problem);
        continue;
      }
      if (live.current.length >= MAX_ATTACHMENTS) {
        found.push(`At most ${MAX_ATTACHMENTS} images can be attached to one message.`);
        break;
      }
      const key = `a${++attachmentCounter}`;
      const attachment: Attachment = { key, name: file.name || "pasted-image", previewUrl: URL.createObjectURL(file), state: "uploading" };
      live.current = [...live.current, attachment];
      setAttachments(live.current);
      api
        .uploadFile(file, attachment.name)
        .then(({ id }) => setAttachments((list) => list.map((item) => (item.key === key ? { ...item, state: "ready", fileId: id } : item))))
        .catch((error: unknown) =>
          setAttachments((list) => list.map((item) => (item.key === key ? { ...item, state: "failed", error: errorMessage(error) } : item))),
        );
    }
    setProblems(found);
  }, []);

  const remove = useCallback((key: string) => {
    setAttachments((list) => {
      const gone = list.find((item) => item.key === key);
      if (gone) URL.revokeObjectURL(gone.previewUrl);
      return list.filter((item) => item.key !== key);
    });
  }, []);

  const clear = useCallback(() => {
    setAttachments((list) => {
      list.forEach((item) => URL.revokeObjectURL(item.previewUrl));
      return [];
    });
    setProblems([]);
  }, []);

  return { attachments, problems, add, remove, clear, dismissProblems: () => setProblems([]) };
}
