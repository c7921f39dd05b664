// Who is signed in: restored from the persisted refresh token at start, cleared at logout.
import { useSyncExternalStore } from "react";
import { ApiError, api, refreshSession, tokens } from "../api/client";
import type { LoginIn, RegisterIn, TokensOut, UserOut } from "../api/types";
import { queryClient } from "../queryClient";

export type SessionState =
  | { status: "loading"; user: null }
  | { status: "signed-in"; user: UserOut }
  | { status: "signed-out"; user: null; reason?: string };

let state: SessionState = tokens.refresh ? { status: "loading", user: null } : { status: "signed-out", user: null };
const subscribers = new Set<() => void>();
let signingOut = false;

function setState(next: SessionState): void {
  state = next;
  subscribers.forEach((notify) => notify());
}

tokens.subscribe((body: TokensOut | null) => {
  if (body) setState({ status: "signed-in", user: body.user });
  else if (state.status !== "signed-out") {
    queryClient.clear();
    setState({ status: "signed-out", user: null, reason: state.status === "signed-in" && !signingOut ? "Your session has ended. Please sign in again." : undefined });
  }
});

/** Restore the session of a reload: one refresh with the persisted token. */
export function restoreSession(): void {
  if (!tokens.refresh) return;
  refreshSession().catch((error: unknown) => {
    if (!(error instanceof ApiError) || (error.status !== 401 && error.status !== 403)) {
      // The server is unreachable: keep the token, show the sign-in page with why.
      setState({ status: "signed-out", user: null, reason: error instanceof Error ? error.message : "Could not restore your session." });
    }
  });
}

export function useSession(): SessionState {
  return useSyncExternalStore(
    (notify) => {
      subscribers.add(notify);
      return () => subscribers.delete(notify);
    },
    () => state,
  );
}

export function updateUser(user: UserOut): void {
  if (state.status === "signed-in") setState({ status: "signed-in", user });
}

export async function signIn(identifier: string, password: string): Promise<UserOut> {
  const body: LoginIn = identifier.includes("@") ? { email: identifier, password } : { username: identifier, password };
  const tokenBody = await api<TokensOut>("POST", "/api/auth/login", { body, auth: false });
  tokens.set(tokenBody);
  return tokenBody.user;
}

export async function register(form: RegisterIn): Promise<UserOut> {
  const tokenBody = await api<TokensOut>("POST", "/api/auth/register", { body: form, auth: false });
  tokens.set(tokenBody);
  return tokenBody.user;
}

/** Revoke the session on the server, then forget every token and cached answer. */
export async function signOut(): Promise<void> {
  const refresh = tokens.refresh;
  try {
    if (tokens.access || refresh) await api("POST", "/api/auth/logout", { body: { refresh_token: refresh ?? undefined } });
  } catch {
    // The session is forgotten here whatever the server answered.
  } finally {
    signingOut = true;
    tokens.clear();
    signingOut = false;
  }
}
