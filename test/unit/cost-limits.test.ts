import { describe, expect, it } from "vitest";
import { periodBounds } from "../../src/cost/periods.js";
import { chooseLimit, type UsageLimitSettings } from "../../src/cost/limits.js";

const iso = (bounds: { start: Date; end: Date }) => [bounds.start.toISOString(), bounds.end.toISOString()];

describe("periodBounds (UTC calendar periods)", () => {
  it("a day runs midnight to midnight", () => {
    expect(iso(periodBounds("day", new Date("2026-03-10T23:59:59.999Z")))).toEqual(["2026-03-10T00:00:00.000Z", "2026-03-11T00:00:00.000Z"]);
  });
  it("a week starts on Monday, also seen from a Sunday and from the Monday itself", () => {
    const week = ["2026-03-09T00:00:00.000Z", "2026-03-16T00:00:00.000Z"];
    expect(iso(periodBounds("week", new Date("2026-03-15T18:00:00Z")))).toEqual(week);
    expect(iso(periodBounds("week", new Date("2026-03-09T00:00:00Z")))).toEqual(week);
  });
  it("a month starts on the 1st and December rolls into January", () => {
    expect(iso(periodBounds("month", new Date("2026-12-31T12:00:00Z")))).toEqual(["2026-12-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z"]);
    expect(iso(periodBounds("month", new Date("2028-02-29T00:00:00Z")))).toEqual(["2028-02-01T00:00:00.000Z", "2028-03-01T00:00:00.000Z"]);
  });
});

describe("chooseLimit: user override, else the highest group, else the default", () => {
  const on: UsageLimitSettings = { enabled: true, defaultLimitMicros: 500, period: "week", updatedAt: new Date(0) };
  it("is nothing while limits are disabled, whatever the overrides", () => {
    expect(chooseLimit({ ...on, enabled: false }, 10, [20])).toBeUndefined();
  });
  it("takes the user's own override over every group, even a higher one", () => {
    expect(chooseLimit(on, 10, [20, 30])).toEqual({ limitMicros: 10, source: "user", period: "week" });
  });
  it("takes the highest of the user's groups over the default", () => {
    expect(chooseLimit(on, null, [20, 3000, 7])).toEqual({ limitMicros: 3000, source: "group", period: "week" });
  });
  it("falls back to the default", () => {
    expect(chooseLimit(on, null, [])).toEqual({ limitMicros: 500, source: "default", period: "week" });
  });
});
