import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import { waitingOutRateLimit } from "./saga";

const busy = (retryAfter: number | null) => new ApiError(429, "rate_limited", "Airtable's rate limit was reached; retry later.", [], null, retryAfter);

describe("waitingOutRateLimit", () => {
  it("waits out a 429 as Retry-After says and returns the next answer", async () => {
    const call = vi.fn().mockRejectedValueOnce(busy(0)).mockResolvedValueOnce("done");
    const waits: number[] = [];
    await expect(waitingOutRateLimit(call, (s) => waits.push(s))).resolves.toBe("done");
    expect(call).toHaveBeenCalledTimes(2);
    expect(waits).toEqual([0]);
  });

  it("gives up after its attempts and on a wait longer than a minute", async () => {
    const always = vi.fn().mockRejectedValue(busy(0));
    await expect(waitingOutRateLimit(always, () => undefined, 3)).rejects.toThrow("rate limit");
    expect(always).toHaveBeenCalledTimes(3);
    const long = vi.fn().mockRejectedValue(busy(3600));
    await expect(waitingOutRateLimit(long, () => undefined)).rejects.toThrow("rate limit");
    expect(long).toHaveBeenCalledTimes(1);
  });

  it("never retries another error", async () => {
    const refused = vi.fn().mockRejectedValue(new ApiError(422, "validation_error", "Not valid."));
    await expect(waitingOutRateLimit(refused, () => undefined)).rejects.toThrow("Not valid.");
    expect(refused).toHaveBeenCalledTimes(1);
  });
});
