// The one way the UI talks to the API: same origin (/api/*), JSON, the error envelope turned
// into an ApiError whose message is the API's own sentence.
import type { ApiErrorDetail, ErrorEnvelope, RefreshIn, TokensOut } from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ApiErrorDetail[] = [],
    readonly requestId: string | null = null,
    readonly retryAfter: number | null = null,
    readonly fromGateway = false,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /**
   * A 404 `not_found`, from the API's error map or the gateway's own 404. The API answers a
   * route it does not have (http.py's `_no_route`) and an object it cannot find with the same
   * code, so only a request whose route names no object can read this as "the route is not
   * deployed" (QueryView's `feature`).
   */
  get notFound(): boolean {
    return this.status === 404 && (this.fromGateway || this.code === "not_found");
  }
}

const REFRESH_KEY = "pyairtable.refresh_token";

// The access token lives only in memory; the refresh token is persisted so a reload keeps the
// session (it is single use: every refresh rotates it).
let accessToken: string | null = null;
let refreshing: Promise<TokensOut> | null = null;
const listeners = new Set<(body: TokensOut | null) => void>();

export const tokens = {
  get access(): string | null {
    return accessToken;
  },
  get refresh(): string | null {
    try {
      return localStorage.getItem(REFRESH_KEY);
    } catch {
      return null;
    }
  },
  set(body: TokensOut): void {
    accessToken = body.access_token;
    localStorage.setItem(REFRESH_KEY, body.refresh_token);
    listeners.forEach((listener) => listener(body));
  },
  clear(): void {
    accessToken = null;
    refreshing = null;
    try {
      localStorage.removeItem(REFRESH_KEY);
    } catch {
      /* storage unavailable: nothing persisted */
    }
    listeners.forEach((listener) => listener(null));
  },
  subscribe(listener: (body: TokensOut | null) => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

/** One refresh for every caller that needs it at the same time (a refresh token is single use). */
export function refreshSession(): Promise<TokensOut> {
  if (refreshing) return refreshing;
  const token = tokens.refresh;
  if (!token) return Promise.reject(new ApiError(401, "unauthorized", "Please sign in."));
  const sent: RefreshIn = { refresh_token: token };
  const attempt = request<TokensOut>("POST", "/api/auth/refresh", { body: sent, auth: false })
    .then((body) => {
      tokens.set(body);
      return body;
    })
    .catch((error: unknown) => {
      // A refused refresh token ends the session; a network failure keeps it for a retry.
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) tokens.clear();
      throw error;
    })
    .finally(() => {
      if (refreshing === attempt) refreshing = null;
    });
  refreshing = attempt;
  return attempt;
}

export type Query = Record<string, string | number | boolean | undefined | null | (string | number)[]>;

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  auth?: boolean;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(key, String(v)));
    else params.append(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.auth !== false && accessToken) headers.Authorization = `Bearer ${accessToken}`;
  let response: Response;
  try {
    response = await fetch(buildUrl(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(0, "network_error", "The server could not be reached. Check your connection and try again.");
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.ok) return data as T;
  throw toError(response, data);
}

/** The API's envelope: what ErrorEnvelope requires, present and of its type. */
function isEnvelope(data: unknown): data is ErrorEnvelope {
  const error = (data as { error?: unknown } | null)?.error as Partial<ErrorEnvelope["error"]> | null | undefined;
  return typeof error === "object" && error !== null && typeof error.code === "string" && typeof error.message === "string";
}

function toError(response: Response, data: unknown): ApiError {
  const requestId = response.headers.get("x-request-id") ?? response.headers.get("apigw-requestid");
  const retryAfter = Number(response.headers.get("retry-after")) || null;
  if (isEnvelope(data)) {
    const { code, message, details, request_id } = data.error;
    return new ApiError(response.status, code, message, details ?? [], request_id || requestId, retryAfter);
  }
  // API Gateway's own answers ({"message": ...}) carry no envelope: say what they mean.
  const gateway: Record<number, [string, string]> = {
    401: ["unauthorized", "Please sign in to continue."],
    403: ["forbidden", "Your session is no longer valid. Please sign in again."],
    404: ["not_found", "This part of the API is not available on this deployment."],
    413: ["payload_too_large", "The request is too large."],
    429: ["rate_limited", "Too many requests. Please wait a moment and try again."],
    503: ["unavailable", "The service is unavailable right now. Please try again shortly."],
  };
  const [code, message] = gateway[response.status] ?? [
    response.status >= 500 ? "internal_error" : "error",
    response.status >= 500 ? "The server had a problem answering. Please try again." : `The request failed (${response.status}).`,
  ];
  return new ApiError(response.status, code, message, [], requestId, retryAfter, true);
}

/** A request with the caller's credentials: refreshes once (shared) when the access token is missing or refused. */
export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  if (options.auth === false) return request<T>(method, path, options);
  if (!accessToken && tokens.refresh) await refreshSession();
  const sentWith = accessToken;
  try {
    return await request<T>(method, path, options);
  } catch (error) {
    // The gateway's 401/403 (no envelope) means the access token was missing, expired or revoked.
    const refused = error instanceof ApiError && (error.status === 401 || (error.status === 403 && error.fromGateway));
    if (!refused || !tokens.refresh) throw error;
    if (accessToken === sentWith) await refreshSession();
    return request<T>(method, path, options);
  }
}

export const get = <T>(path: string, query?: Query, signal?: AbortSignal) => api<T>("GET", path, { query, signal });
export const post = <T>(path: string, body?: unknown, query?: Query) => api<T>("POST", path, { body, query });
export const patch = <T>(path: string, body?: unknown, query?: Query) => api<T>("PATCH", path, { body, query });
export const put = <T>(path: string, body?: unknown, query?: Query) => api<T>("PUT", path, { body, query });
export const del = <T>(path: string, query?: Query) => api<T>("DELETE", path, { query });

/** A presigned upload: the file PUT straight to the bucket with the ticket's headers, with
 * progress (fetch cannot report upload progress). The URL carries its own credentials. */
export function putFile(url: string, file: File, headers: Record<string, string>, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    Object.entries(headers).forEach(([name, value]) => xhr.setRequestHeader(name, value));
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      // S3 answers in XML: its <Message> says why.
      const message = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText)?.[1];
      reject(new ApiError(xhr.status, "upload_failed", `The upload was refused${message ? `: ${message}` : ` (${xhr.status})`}.`));
    };
    xhr.onerror = () => reject(new ApiError(0, "network_error", "The upload could not reach the file storage."));
    xhr.send(file);
  });
}
