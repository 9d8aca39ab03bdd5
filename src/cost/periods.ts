/**
 * Usage-limit periods (behavior.md section 7): calendar periods in UTC. A day starts at midnight,
 * a week on Monday 00:00, a month on the 1st; the period containing `now` is [start, end).
 * Pure: no clock is read here, callers pass `now`.
 */
import type { UsageLimitPeriod } from "../sdk/schemas/cost.js";

export interface PeriodBounds {
  start: Date;
  end: Date;
}

const DAY_MS = 86_400_000;

export function periodBounds(period: UsageLimitPeriod, now: Date): PeriodBounds {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  const midnight = Date.UTC(year, month, now.getUTCDate());
  switch (period) {
    case "day":
      return { start: new Date(midnight), end: new Date(midnight + DAY_MS) };
    case "week": {
      // getUTCDay: 0 is Sunday; days since Monday are (day + 6) mod 7.
      const sinceMonday = (now.getUTCDay() + 6) % 7;
      const start = midnight - sinceMonday * DAY_MS;
      return { start: new Date(start), end: new Date(start + 7 * DAY_MS) };
    }
    case "month":
      // Date.UTC rolls month 12 over into January of the next year.
      return { start: new Date(Date.UTC(year, month, 1)), end: new Date(Date.UTC(year, month + 1, 1)) };
  }
}
