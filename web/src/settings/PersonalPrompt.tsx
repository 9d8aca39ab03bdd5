/** The personal prompt: added to every chat of this user as `<user-instructions>`. */
import { useEffect, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, queryKeys } from "../app/api.js";
import { ErrorNotice } from "../ui/ErrorNotice.js";

export function PersonalPrompt() {
  const queryClient = useQueryClient();
  const prompt = useQuery({ queryKey: queryKeys.userPrompt, queryFn: () => api.getUserPrompt() });
  const [text, setText] = useState("");
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (prompt.data) setText(prompt.data.custom_prompt);
  }, [prompt.data]);
  const save = useMutation({
    mutationFn: () => api.putUserPrompt(text),
    onSuccess: (data) => {
      queryClient.setQueryData(queryKeys.userPrompt, data);
      setSaved(true);
    },
  });
  const dirty = prompt.data !== undefined && text !== prompt.data.custom_prompt;
  return (
    <section className="settings-section" aria-labelledby="personal-prompt-title">
      <h2 id="personal-prompt-title">Personal instructions</h2>
      <p className="muted">Added to every chat you start, after the system prompt. Use it for how you like to work: conventions, tools, tone.</p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate();
        }}
      >
        <label className="field">
          <span className="sr-only">Personal instructions</span>
          <textarea
            className="textarea"
            value={text}
            placeholder="For example: Prefer small commits. Run the tests before you push."
            onChange={(event) => {
              setText(event.target.value);
              setSaved(false);
            }}
            disabled={prompt.isPending}
            aria-label="Personal instructions"
          />
        </label>
        {save.isError ? <ErrorNotice error={save.error} /> : null}
        {prompt.isError ? <ErrorNotice error={prompt.error} /> : null}
        <div className="form-actions">
          {saved && !dirty ? (
            <span className="faint" role="status">
              Saved
            </span>
          ) : null}
          <button type="submit" className="btn btn-primary" disabled={!dirty || save.isPending}>
            Save
          </button>
        </div>
      </form>
    </section>
  );
}
