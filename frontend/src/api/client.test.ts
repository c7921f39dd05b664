// The token rules of the client, against a scripted fetch: one refresh for concurrent callers,
// a retry with the new access token, and a refused refresh ending the session.
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { ErrorEnvelope, GatewayMessage } from "./types";

const store = new Map<string, string>();
vi.stubGlobal("localStorage", {
  getItem: (k: string) => store.get(k) ?? null,
  setItem: (k: string, v: string) => void store.set(k, v),
  removeItem: (k: string) => void store.delete(k),
});

const { api, tokens } = await import("./client");
type ApiError = import("./client").ApiError;

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
      if (refuseRefresh) return new Response(JSON.stringify({ error: { code: "unauthorized", message: "The refresh token is not valid.", request_id: "r0" } } satisfies ErrorEnvelope), { status: 401 });
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
    const envelope: ErrorEnvelope = {
      error: { code: "validation_error", message: "The request is not valid.", details: [{ field: "email", problem: "value is not a valid email address" }], request_id: "r1" },
    };
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify(envelope), { status: 422 })));
    await expect(api("POST", "/api/auth/register", { auth: false, body: {} })).rejects.toMatchObject({
      status: 422,
      code: "validation_error",
      message: "The request is not valid.",
      details: [{ field: "email", problem: "value is not a valid email address" }],
      requestId: "r1",
      fromGateway: false,
    });
  });

  it("tells a 404 not_found, the API's or the gateway's, from other refusals by status and code", async () => {
    const answer = async (status: number, body: unknown) => {
      vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify(body), { status })));
      return api("GET", "/api/somewhere", { auth: false }).then(
        () => null,
        (error: unknown) => error as ApiError,
      );
    };
    // What http.py's error map answers for a route it does not have.
    const noRoute = await answer(404, { error: { code: "not_found", message: "No route matches GET /api/somewhere.", request_id: "r2" } } satisfies ErrorEnvelope);
    expect(noRoute).toMatchObject({ code: "not_found", notFound: true, fromGateway: false });
    // API Gateway's own 404 ({"message": ...}).
    const gateway = await answer(404, { message: "Not Found" } satisfies GatewayMessage);
    expect(gateway).toMatchObject({ code: "not_found", notFound: true, fromGateway: true });
    // Whatever its sentence says, only the code counts.
    const forbidden = await answer(403, { error: { code: "forbidden", message: "No route matches your role.", request_id: "r3" } } satisfies ErrorEnvelope);
    expect(forbidden).toMatchObject({ status: 403, code: "forbidden", notFound: false });
  });
});
