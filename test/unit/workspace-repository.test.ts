/** Which `repository` values are paths on the server, and when a parameter may change. */
import { describe, expect, it } from "vitest";
import { localRepositoryPath } from "../../src/workspaces/provisioners/repository.js";
import { changeParameters, templateParameterSchema } from "../../src/workspaces/parameters.js";

describe("localRepositoryPath", () => {
  it.each([
    ["/srv/repo", "/srv/repo"],
    ["/srv/repo/../other", "/srv/other"],
    ["~/code/app", "/home/u/code/app"],
    ["~", "/home/u"],
    ["file:///srv/my%20repo", "/srv/my repo"],
  ])("%s is the path %s", (value, expected) => {
    expect(localRepositoryPath(value, "/home/u")).toBe(expected);
  });

  it.each(["https://github.com/a/b.git", "ssh://git@host/a/b", "git@github.com:a/b.git", "git://host/x", "relative/dir", ""])(
    "%s is left to the setup script",
    (value) => {
      expect(localRepositoryPath(value, "/home/u")).toBeUndefined();
    },
  );
});

describe("changeParameters", () => {
  const declared = [
    templateParameterSchema.parse({ name: "repository", type: "string", mutable: false }),
    templateParameterSchema.parse({ name: "size", type: "number", validation_min: 1, validation_max: 8, default: 2 }),
  ];

  it("changes a mutable value at any time, validating it", () => {
    expect(changeParameters(declared, { repository: "/a", size: 2 }, { size: 4 }, true)).toEqual({ ok: true, values: { repository: "/a", size: 4 } });
    const invalid = changeParameters(declared, { repository: "/a", size: 2 }, { size: 99 }, true);
    expect(invalid.ok).toBe(false);
  });

  it("changes an immutable value only before the first successful build", () => {
    expect(changeParameters(declared, { repository: "/a" }, { repository: "/b" }, false)).toEqual({ ok: true, values: { repository: "/b", size: 2 } });
    const refused = changeParameters(declared, { repository: "/a" }, { repository: "/b" }, true);
    expect(refused).toEqual({
      ok: false,
      problems: [{ field: "parameters.repository", detail: 'Parameter "repository" cannot change once the workspace has been built; create a new workspace instead.' }],
    });
    // Sending the same value is not a change.
    expect(changeParameters(declared, { repository: "/a" }, { repository: "/a" }, true).ok).toBe(true);
  });

  it("refuses unknown names and drops stored values the template no longer declares", () => {
    expect(changeParameters(declared, { gone: "x" }, { nope: 1 }, false).ok).toBe(false);
    expect(changeParameters(declared, { gone: "x", repository: "/a" }, {}, true)).toEqual({ ok: true, values: { repository: "/a", size: 2 } });
  });
});
