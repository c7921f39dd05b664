// The token rules of the client, against a scripted fetch: one refresh for concurrent callers,
// a retry with the new access token, and a refused refresh ending the session.
import { beforeEach, describe, expect, it, vi } from "vitest";

const store = new Map<string, string>();
vi.stubGlobal("localStorage", {
  getItem: (k: string) => store.get(k) ?? null,
  setItem: (k: string, v: string) => void store.set(k, v),
  removeItem: (k: string) => void store.delete(k),
});

const { api, tokens } = await import("./client");

type Call = { url: string; auth: string | null; body: unknown };

function scriptedServer(validToken: { current: string }, refreshes: { count: number }, refuseRefresh = false) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (url: string, init: RequestInit) => {
    const headers = init.headers as Record<string, string>;
    const body = init.body ? JSON.parse(init.body as string) : null;
    calls.push({ url, auth: headers.Authorization ?? null, body });
    if (url === "/api/auth/refresh") {
      refreshes.count += 1;
      await new Promise((r) => setTimeout(r, 20));
      if (refuseRefresh) return new Response(JSON.stringify({ error: { code: "unauthorized", message: "The refresh token is not valid." } }), { status: 401 });
      validToken.current = `access-${refreshes.count}`;
      return new Response(JSON.stringify({ access_token: validToken.current, refresh_token: `refresh-${refreshes.count}`, token_type: "bearer", expires_in: 900, user: { id: "u1", email: "a@b.c" } }), { status: 200 });
    }
    if (headers.Authorization !== `Bearer ${validToken.current}`) return new Response(JSON.stringify({ message: "Forbidden" }), { status: 403 });
    return new Response(JSON.stringify({ ok: url }), { status: 200 });
  });
  vi.stubGlobal("fetch", fetchMock);
  return calls;
}

describe("api client tokens", () => {
  beforeEach(() => {
    tokens.clear();
    store.clear();
  });

  it("refreshes once for concurrent requests whose access token expired, then retries each", async () => {
    tokens.set({ access_token: "expired", refresh_token: "refresh-0", token_type: "bearer", expires_in: 900, user: { id: "u1" } as never });
    const valid = { current: "not-yet" };
    const refreshes = { count: 0 };
    const calls = scriptedServer(valid, refreshes);
    const results = await Promise.all([api("GET", "/api/a"), api("GET", "/api/b"), api("GET", "/api/c")]);
    expect(results).toEqual([{ ok: "/api/a" }, { ok: "/api/b" }, { ok: "/api/c" }]);
    expect(refreshes.count).toBe(1);
    expect(calls.filter((c) => c.url === "/api/auth/refresh")[0].body).toEqual({ refresh_token: "refresh-0" });
    expect(tokens.access).toBe("access-1");
    expect(localStorage.getItem("pyairtable.refresh_token")).toBe("refresh-1");
  });

  it("restores a session from the persisted refresh token alone (a reload), once", async () => {
    localStorage.setItem("pyairtable.refresh_token", "refresh-0");
    const refreshes = { count: 0 };
    scriptedServer({ current: "none" }, refreshes);
    await Promise.all([api("GET", "/api/a"), api("GET", "/api/b")]);
    expect(refreshes.count).toBe(1);
  });

  it("ends the session when the refresh token is refused", async () => {
    tokens.set({ access_token: "expired", refresh_token: "spent", token_type: "bearer", expires_in: 900, user: { id: "u1" } as never });
    const ended = vi.fn();
    const unsubscribe = tokens.subscribe((body) => body === null && ended());
    scriptedServer({ current: "never" }, { count: 0 }, true);
    await expect(api("GET", "/api/a")).rejects.toMatchObject({ status: 401, message: "The refresh token is not valid." });
    expect(tokens.access).toBeNull();
    expect(localStorage.getItem("pyairtable.refresh_token")).toBeNull();
    expect(ended).toHaveBeenCalled();
    unsubscribe();
  });

  it("shows the API's own sentence and field problems for a refused request", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ error: { code: "validation_error", message: "The request is not valid.", details: [{ field: "email", message: "is not a valid email address" }], request_id: "r1" } }), { status: 422 })));
    await expect(api("POST", "/api/auth/register", { auth: false, body: {} })).rejects.toMatchObject({
      status: 422,
      code: "validation_error",
      message: "The request is not valid.",
      details: [{ field: "email", message: "is not a valid email address" }],
    });
  });
});
