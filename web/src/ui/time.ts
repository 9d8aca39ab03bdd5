/** Short human times for lists ("now", "5m", "3h", "2d", then a date). */
export function relativeTime(timestamp: string, now: Date = new Date()): string {
  const seconds = Math.max(0, (now.getTime() - new Date(timestamp).getTime()) / 1000);
  if (seconds < 45) return "now";
  if (seconds < 3600) return `${Math.round(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)}h`;
  if (seconds < 7 * 86_400) return `${Math.round(seconds / 86_400)}d`;
  return new Date(timestamp).toLocaleDateString(undefined, { month: "short", day: "numeric" });
}
