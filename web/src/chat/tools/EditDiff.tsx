/** edit_files arguments as a diff: per file, each search block removed and its replacement added. */
import { field, stringField } from "./tool-data.js";

export function EditDiff({ files }: { files: unknown }) {
  if (!Array.isArray(files)) return null;
  return (
    <div className="edit-diff">
      {files.map((file, fileIndex) => {
        const path = stringField(file, "path") ?? "";
        const edits = field(file, "edits");
        return (
          <div key={`${path}-${fileIndex}`} className="diff-file">
            <div className="diff-file-name">{path}</div>
            {Array.isArray(edits)
              ? edits.map((edit, index) => (
                  <pre key={index} className="diff-hunk">
                    {lines(stringField(edit, "search")).map((line, i) => (
                      <span key={`d${i}`} className="diff-line diff-del">
                        -{line}
                        {"\n"}
                      </span>
                    ))}
                    {lines(stringField(edit, "replace")).map((line, i) => (
                      <span key={`a${i}`} className="diff-line diff-add">
                        +{line}
                        {"\n"}
                      </span>
                    ))}
                  </pre>
                ))
              : null}
          </div>
        );
      })}
    </div>
  );
}

function lines(text: string | undefined): string[] {
  if (text === undefined || text === "") return [];
  return text.replace(/\n$/, "").split("\n");
}
