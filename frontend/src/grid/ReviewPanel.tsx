// The staged changes of a base as sentences, and their commit as one transaction: dry run
// first (problems go on their cells, nothing is written), then the run's steps as they happen.
import { useState } from "react";
import { Link } from "react-router";
import { ApiError } from "../api/client";
import type { SagaOut } from "../api/types";
import { describeStep, dryRun, follow, startTransaction, waitingOutRateLimit } from "./saga";
import { buildOperations, changeCount, emptyStage, problemsByCell, reviewSentences, stagedStore, type StageState } from "./staged";

export function ReviewPanel({ stage, workspaceId, onCommitted, onClose }: { stage: StageState; workspaceId?: string; onCommitted: (sagaId: string, count: number) => void; onClose: () => void }) {
  const [phase, setPhase] = useState<"idle" | "checking" | "running">("idle");
  const [saga, setSaga] = useState<SagaOut | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [waiting, setWaiting] = useState<number | null>(null);
  const [idempotencyKey, setIdempotencyKey] = useState(() => crypto.randomUUID());
  const items = reviewSentences(stage);
  const problems = Object.entries(stage.problems);
  const tableName = (key: string) => stage.tables[key.split("/")[0]]?.table.name ?? "";

  const commit = async () => {
    if (!stage.baseId) return;
    setMessage(null);
    setSaga(null);
    const { operations, keys } = buildOperations(stage);
    try {
      setPhase("checking");
      const baseId = stage.baseId;
      const busy = (seconds: number) => setWaiting(seconds);
      const report = await waitingOutRateLimit(() => dryRun(baseId, operations, workspaceId), busy);
      setWaiting(null);
      if (!report.valid) {
        const found = problemsByCell(keys, report);
        stagedStore.update((s) => ({ ...s, problems: found }));
        setMessage(`The dry run found ${Object.values(found).flat().length} problem(s); nothing was written. They are marked on the cells.`);
        return;
      }
      stagedStore.update((s) => ({ ...s, problems: {} }));
      setPhase("running");
      // The same key on every attempt: a start that was refused wrote nothing, one that was
      // accepted is not started twice.
      const { saga_id } = await waitingOutRateLimit(() => startTransaction(baseId, operations, idempotencyKey, workspaceId), busy);
      setWaiting(null);
      const ended = await follow(saga_id, setSaga);
      setIdempotencyKey(crypto.randomUUID());
      if (ended.status === "succeeded") {
        const count = changeCount(stage);
        stagedStore.set(emptyStage());
        onCommitted(saga_id, count);
      } else {
        setMessage(`The transaction ended ${ended.status}: every change it had applied was undone, nothing is left half-written. Your staged changes are kept.`);
      }
    } catch (error) {
      setMessage(error instanceof ApiError || error instanceof Error ? error.message : "The commit failed.");
    } finally {
      setWaiting(null);
      setPhase("idle");
    }
  };

  return (
    <section className="card review-panel" aria-labelledby="review-heading">
      <h2 id="review-heading">Review {items.length} staged change{items.length === 1 ? "" : "s"}</h2>
      {items.length === 0 ? (
        <p className="muted">Nothing is staged yet: edit cells, add or delete rows, in this table or another table of the base.</p>
      ) : (
        <ol aria-label="Staged changes">
          {items.map((item) => (
            <li key={`${item.tableId}/${item.key}`}>{item.sentence}</li>
          ))}
        </ol>
      )}
      {problems.length > 0 && (
        <div className="state state-error" role="alert">
          <strong>Problems found by the dry run (nothing was written):</strong>
          <ul>
            {problems.map(([key, list]) => list.map((p) => <li key={key + p}>{`${tableName(key)}: ${p}`}</li>))}
          </ul>
        </div>
      )}
      {message && problems.length === 0 && (
        <p className="state state-error" role="alert">
          {message}
        </p>
      )}
      {message && problems.length > 0 && <p className="muted">{message}</p>}
      {waiting !== null && (
        <p className="muted" role="status">
          Airtable is busy with this base: trying again in {waiting} s…
        </p>
      )}
      {saga && (
        <div aria-live="polite">
          <p>
            Transaction <Link to={`/sagas/${saga.id}`}>{saga.summary ?? saga.id}</Link>: <strong>{saga.status}</strong>
          </p>
          <ol className="review-steps">
            {(saga.steps ?? []).map((step) => (
              <li key={step.name}>{describeStep(step)}</li>
            ))}
          </ol>
        </div>
      )}
      <div className="form-actions">
        <button type="button" className="button primary" disabled={items.length === 0 || phase !== "idle"} onClick={() => void commit()}>
          {phase === "checking" ? "Checking (dry run)…" : phase === "running" ? "Committing…" : `Commit ${items.length} change${items.length === 1 ? "" : "s"}`}
        </button>
        <button type="button" className="button secondary" onClick={onClose} disabled={phase !== "idle"}>
          Close review
        </button>
      </div>
    </section>
  );
}
