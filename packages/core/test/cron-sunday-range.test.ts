import { describe, expect, it } from "vitest";
import { cronFireTimes, parseCron, toEventBridgeCron, toNcrontab } from "../src/index.js";

// Day-of-week ranges that end at 7 (Sunday): Sunday is renumbered for every cloud, so the range must be split.
describe("day-of-week ranges ending at 7", () => {
  it("keeps Friday to Sunday on NCRONTAB and EventBridge", () => {
    expect(toNcrontab("0 0 * * 5-7")).toBe("0 0 0 * * 5-6,0");
    expect(toEventBridgeCron("0 0 * * 5-7")).toBe("cron(0 0 ? * 6-7,1 *)");
  });

  it("keeps every day for 0-7", () => {
    expect(toNcrontab("0 0 * * 0-7")).toBe("0 0 0 * * 0-6");
    expect(toEventBridgeCron("0 0 * * 0-7")).toBe("cron(0 0 ? * 1-7 *)");
  });

  it("fires on the same days as the original cron", () => {
    const from = new Date("2026-11-01T00:00:00Z");
    const to = new Date("2026-11-30T00:00:00Z");
    const days = (cron: string) => cronFireTimes(parseCron(cron), from, to).map((time) => time.getUTCDay());
    expect(days("0 0 * * 5-7")).toEqual(days("0 0 * * 5,6,0"));
    expect(new Set(days("0 0 * * 5-7"))).toEqual(new Set([5, 6, 0]));
  });
});
