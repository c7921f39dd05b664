// Staged changes committed as one airtable_transaction saga: a dry run first (nothing written),
// then the run, followed until it ends; and its undo, followed until it is undone.
import { api, ApiError, get, post } from "../api/client";
import type { DryRunOut, SagaOut, SagaStartedOut, StartSaga, StepOut, UndoSaga } from "../api/types";
import type { SagaOperation } from "./staged";

const ENDED = new Set(["succeeded", "compensated", "failed", "cancelled", "undone"]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function dryRun(baseId: string, operations: SagaOperation[], workspaceId?: string): Promise<DryRunOut> {
  const body: StartSaga = { type: "airtable_transaction", input: { base_id: baseId, operations }, workspace_id: workspaceId, dry_run: true };
  return post<DryRunOut>("/api/sagas", body);
}

/** Starts the transaction (once per key: a retried click does not write twice). */
export function startTransaction(baseId: string, operations: SagaOperation[], idempotencyKey: string, workspaceId?: string): Promise<SagaStartedOut> {
  const body: StartSaga = { type: "airtable_transaction", input: { base_id: baseId, operations }, workspace_id: workspaceId };
  return api<SagaStartedOut>("POST", "/api/sagas", {
    body,
    headers: { "Idempotency-Key": idempotencyKey },
  });
}

/**
 * Runs `call`, waiting out a 429 as its Retry-After asks (Airtable's 30 s lock-out at most, a
 * few times): the base is busy for a moment, which a person should not have to retry by hand.
 */
export async function waitingOutRateLimit<T>(call: () => Promise<T>, onWait: (seconds: number) => void, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const seconds = error instanceof ApiError && error.status === 429 ? (error.retryAfter ?? 5) : null;
      if (seconds === null || seconds > 60 || attempt >= attempts) throw error;
      onWait(seconds);
      await sleep(seconds * 1000);
    }
  }
}

/** Reads the saga until it ends (or reaches `until`), reporting each state read. */
export async function follow(sagaId: string, onProgress: (saga: SagaOut) => void, until: Set<string> = ENDED): Promise<SagaOut> {
  const deadline = Date.now() + 180_000;
  for (let wait = 400; ; wait = Math.min(wait * 1.3, 2000)) {
    const saga = await get<SagaOut>(`/api/sagas/${encodeURIComponent(sagaId)}`);
    onProgress(saga);
    if (until.has(saga.status)) return saga;
    if (Date.now() > deadline) throw new Error(`The transaction is still ${saga.status} after 3 minutes; its page shows how it ends.`);
    await sleep(wait);
  }
}

export async function undoTransaction(sagaId: string, onProgress: (saga: SagaOut) => void, onWait: (seconds: number) => void = () => undefined): Promise<SagaOut> {
  // A refused undo (429) changed nothing, so asking again is safe.
  await waitingOutRateLimit(() => post(`/api/sagas/${encodeURIComponent(sagaId)}/undo`, { force: false } satisfies UndoSaga), onWait);
  return follow(sagaId, onProgress, new Set(["undone", "failed"]));
}

/** A step's status as words ("create Contacts: succeeded"). */
export const describeStep = (step: StepOut) =>
  `${step.name}: ${step.status}${step.compensation?.status ? ` (undone: ${step.compensation.status})` : ""}`;
