import { Fragment, useMemo, useState, type ReactNode } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, api, get, post } from "../api/client";
import { fetchBases, fetchSchema } from "../api/airtable";
import type { DryRunOut, MemberOut, Page, SagaOut, SagaStartedOut, SagaTypeOut, StepOut, TableOut, TransactionInput, UndoSaga } from "../api/types";
import { useSession } from "../auth/session";
import { BaseSelect } from "../components/baseTable";
import { ConfirmButton, useConfirm } from "../components/ConfirmDialog";
import { DataTable } from "../components/DataTable";
import { DetailPage } from "../components/DetailPage";
import { Empty, ErrorMessage, PageHeader, QueryView, SelectField, StatusBadge, TextArea, describeError, formatDate, itemsOf } from "../components/ui";
import { useWorkspaceId } from "../components/workspace";
import { FieldInput } from "../transactions/FieldInput";
import { RecordPicker } from "../transactions/RecordPicker";
import {
  buildInput,
  draftsFromInput,
  emptyOperation,
  missingParts,
  primaryField,
  problemSentence,
  validationSentence,
  writableFields,
  type Action,
  type OperationDraft,
  type RecordDraft,
} from "../transactions/draft";

const ACTIVE = new Set(["running", "compensating"]);
const ACTIONS: Action[] = ["create", "update", "upsert", "delete"];

/** Undo asks first: it names the transaction and what reverting it does. */
function undoRequest(s: SagaOut, force: boolean, run: () => void) {
  return {
    title: `Undo transaction '${s.summary ?? s.type}'?`,
    consequence: `The records it created are deleted, the ones it updated get their previous values back and the ones it deleted are re-created${force ? ", overwriting the edits made since" : ""}.`,
    confirmLabel: force ? "Undo anyway" : "Undo transaction",
    onConfirm: run,
  };
}

/** Who started a saga, in words: "you", a member's email, or the platform. */
function useRunBy(s: Pick<SagaOut, "created_by" | "workspace_id"> | undefined): string {
  const session = useSession();
  const members = useQuery({
    queryKey: ["members", s?.workspace_id],
    queryFn: () => get<Page<MemberOut>>(`/api/workspaces/${s?.workspace_id}/members`),
    enabled: Boolean(s?.workspace_id && s.created_by && s.created_by !== session.user?.id),
    retry: false,
  });
  if (!s?.created_by) return "the platform";
  if (s.created_by === session.user?.id) return "you";
  const member = itemsOf(members.data).find((m) => m.user_id === s.created_by);
  return member?.email ?? member?.username ?? "another member";
}

export function SagasPage() {
  const workspaceId = useWorkspaceId();
  const queryClient = useQueryClient();
  const sagas = useQuery({
    queryKey: ["sagas", workspaceId],
    queryFn: () => get<Page<SagaOut>>("/api/sagas", { workspace_id: workspaceId }),
    refetchInterval: (query) => (itemsOf(query.state.data).some((s) => ACTIVE.has(s.status)) ? 2000 : false),
  });
  const undo = useMutation({
    mutationFn: (id: string) => post(`/api/sagas/${id}/undo`, { force: false } satisfies UndoSaga),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ["sagas"] }),
  });
  const confirm = useConfirm();
  return (
    <>
      <PageHeader title="Transactions" description="All-or-nothing writes across tables: every applied step is undone if one fails." />
      {/* Filtered by a workspace, the list's 404 may be that workspace's, not a missing route. */}
      <QueryView query={sagas} feature={workspaceId ? undefined : "Transactions (sagas)"}>
        {(data) => (
          <>
            <Composer />
            <section className="card" aria-labelledby="recent-heading">
              <h2 id="recent-heading">Recent transactions</h2>
              {undo.isError && <ErrorMessage error={undo.error} title={undo.error instanceof ApiError && undo.error.status === 409 ? "Records changed since; open the transaction to undo anyway." : undefined} />}
              {itemsOf(data).length === 0 ? (
                <Empty title="No transactions yet." />
              ) : (
                <DataTable
                  rows={itemsOf(data)}
                  rowKey={(s) => s.id}
                  columns={[
                    { header: "Transaction", title: true, wrap: true, cell: (s) => <Link to={`/sagas/${s.id}`}>{s.summary ?? s.type}</Link> },
                    { header: "Status", cell: (s) => <StatusBadge status={s.status} /> },
                    { header: "Started", cell: (s) => formatDate(s.created_at ?? s.steps?.[0]?.started_at) },
                  ]}
                  actions={(s) => (
                    <>
                      <Link className="button link small" to={`/sagas/${s.id}`} aria-label={`Details of ${s.summary ?? s.type}`}>
                        Details
                      </Link>
                      {s.status === "succeeded" && s.type === "airtable_transaction" && (
                        <button type="button" className="button link small" aria-label={`Undo ${s.summary ?? s.type}`} disabled={undo.isPending} onClick={() => confirm.ask(undoRequest(s, false, () => undo.mutate(s.id)))}>
                          Undo
                        </button>
                      )}
                    </>
                  )}
                />
              )}
            </section>
          </>
        )}
      </QueryView>
      {confirm.dialog}
    </>
  );
}

function Composer() {
  const navigate = useNavigate();
  const workspaceId = useWorkspaceId();
  const types = useQuery({ queryKey: ["saga-types"], queryFn: () => get<Page<SagaTypeOut>>("/api/sagas/types") });
  // Only what the API lists: the platform's own sagas are never offered.
  const typeNames = useMemo(() => itemsOf(types.data).map((t) => t.type), [types.data]);
  const [type, setType] = useState("airtable_transaction");
  const [baseId, setBaseId] = useState("");
  const [operations, setOperations] = useState<OperationDraft[]>([emptyOperation()]);
  // Bumped when pasted JSON replaces the drafts, so each input shows its new value.
  const [version, setVersion] = useState(0);
  const [advanced, setAdvanced] = useState(false);
  const [json, setJson] = useState("");
  const [rawInput, setRawInput] = useState("{}");
  const bases = useQuery({ queryKey: ["bases"], queryFn: fetchBases });
  const schema = useQuery({ queryKey: ["schema", baseId], queryFn: () => fetchSchema(baseId), enabled: Boolean(baseId) });
  const tables = schema.data?.tables ?? [];
  const tableOf = (name: string) => tables.find((t) => t.name === name || t.id === name);
  const [localProblems, setLocalProblems] = useState<string[]>([]);
  const [idempotencyKey, setIdempotencyKey] = useState(() => crypto.randomUUID());
  const isTransaction = type === "airtable_transaction";

  const currentDrafts = (): { baseId: string; operations: OperationDraft[] } => {
    if (!advanced) return { baseId, operations };
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new Error("The JSON is not valid: check its commas, quotes and brackets.");
    }
    return draftsFromInput(parsed);
  };
  const buildBody = (dryRun: boolean) => {
    if (!isTransaction) return { type, input: JSON.parse(rawInput), workspace_id: workspaceId ?? undefined };
    const drafts = currentDrafts();
    const missing = advanced ? [] : missingParts(drafts.baseId, drafts.operations);
    if (missing.length) throw Object.assign(new Error("The transaction is not complete."), { missing });
    return { type, input: buildInput(drafts.baseId, drafts.operations), workspace_id: workspaceId ?? undefined, dry_run: dryRun || undefined };
  };
  const send = (dryRun: boolean) => {
    setLocalProblems([]);
    let body: ReturnType<typeof buildBody>;
    try {
      body = buildBody(dryRun);
    } catch (e) {
      const missing = (e as { missing?: string[] }).missing;
      setLocalProblems(missing ?? [(e as Error).message]);
      throw e;
    }
    return api<DryRunOut & SagaStartedOut>("POST", "/api/sagas", { body, headers: dryRun ? {} : { "Idempotency-Key": idempotencyKey } });
  };
  const preview = useMutation({ mutationFn: () => send(true) });
  const run = useMutation({
    mutationFn: () => send(false),
    onSuccess: (data) => {
      setIdempotencyKey(crypto.randomUUID());
      navigate(`/sagas/${data.saga_id}`);
    },
  });

  const setOp = (i: number, patch: Partial<OperationDraft>) => setOperations((ops) => ops.map((op, j) => (j === i ? { ...op, ...patch } : op)));
  const setRecord = (i: number, n: number, patch: Partial<RecordDraft>) => setOperations((ops) => ops.map((op, j) => (j === i ? { ...op, records: op.records.map((r, m) => (m === n ? { ...r, ...patch } : r)) } : op)));
  const toggleAdvanced = (on: boolean) => {
    setLocalProblems([]);
    if (on) {
      setJson(JSON.stringify(buildInput(baseId, operations), null, 2));
      setAdvanced(true);
      return;
    }
    try {
      const drafts = draftsFromInput(JSON.parse(json));
      setBaseId(drafts.baseId);
      setOperations(drafts.operations.length ? drafts.operations : [emptyOperation()]);
      setVersion((v) => v + 1);
      setAdvanced(false);
    } catch (e) {
      setLocalProblems([e instanceof SyntaxError ? "The JSON is not valid: check its commas, quotes and brackets." : (e as Error).message]);
    }
  };
  // The drafts the last request was built from, to name records in its problems.
  const sentDrafts = advanced ? (() => { try { return draftsFromInput(JSON.parse(json)).operations; } catch { return []; } })() : operations;
  const failure = (error: unknown) => {
    if (error instanceof ApiError && error.status === 422 && error.details.some((d) => d.field?.startsWith("input."))) {
      return (
        <div className="state state-error" role="alert">
          <p>{error.message}</p>
          <ul>
            {error.details.map((d, k) => (
              <li key={k}>{validationSentence(d, sentDrafts)}</li>
            ))}
          </ul>
        </div>
      );
    }
    return <ErrorMessage error={error} />;
  };

  return (
    <section className="card" aria-labelledby="compose-heading">
      <h2 id="compose-heading">Compose a transaction</h2>
      <div className="field-row">
        {typeNames.length > 0 && (
          <SelectField label="Type" value={type} onChange={(e) => setType(e.target.value)}>
            {typeNames.map((t) => (
              <option key={t} value={t}>
                {t.replace(/_/g, " ")}
              </option>
            ))}
          </SelectField>
        )}
        {isTransaction && !advanced && (
          <BaseSelect label="Base" bases={itemsOf(bases.data)} value={baseId} onChange={(e) => setBaseId(e.target.value)} />
        )}
      </div>
      {isTransaction && (
        <label className="checkbox-inline advanced-toggle">
          <input type="checkbox" checked={advanced} onChange={(e) => toggleAdvanced(e.target.checked)} /> Advanced: edit the transaction as JSON (to paste one)
        </label>
      )}
      {!isTransaction ? (
        <TextArea label="Input (JSON)" rows={6} className="mono" value={rawInput} onChange={(e) => setRawInput(e.target.value)} />
      ) : advanced ? (
        <TextArea label="Transaction (JSON)" rows={12} className="mono" value={json} onChange={(e) => setJson(e.target.value)} hint='{"base_id": "app…", "operations": [{"action": "create", "table": "Contacts", "records": [{"fields": {"Name": "Ada"}}]}]}. Unticking Advanced shows it in the form.' />
      ) : schema.isError ? (
        <ErrorMessage error={schema.error} />
      ) : (
        <ol className="operations">
          {operations.map((op, i) => (
            <li key={`${version}-${i}`} className="operation">
              <OperationForm index={i} op={op} baseId={baseId} tables={tables} table={tableOf(op.table)} version={version} setOp={setOp} setRecord={setRecord} onRemove={operations.length > 1 ? () => setOperations((ops) => ops.filter((_, j) => j !== i)) : undefined} />
            </li>
          ))}
        </ol>
      )}
      <div className="form-actions">
        {isTransaction && !advanced && (
          <button type="button" className="button secondary" onClick={() => setOperations((ops) => [...ops, emptyOperation()])}>
            Add operation
          </button>
        )}
        {isTransaction && (
          <button type="button" className="button secondary" onClick={() => preview.mutate()} disabled={preview.isPending}>
            Preview (dry run)
          </button>
        )}
        <button type="button" className="button primary" onClick={() => run.mutate()} disabled={run.isPending}>
          Run transaction
        </button>
      </div>
      {localProblems.length > 0 && (
        <div className="state state-error" role="alert">
          <ul>
            {localProblems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      )}
      {preview.isError && localProblems.length === 0 && failure(preview.error)}
      {run.isError && localProblems.length === 0 && failure(run.error)}
      {preview.isSuccess && <DryRunReport report={preview.data} drafts={sentDrafts} tables={tables} />}
    </section>
  );
}

function DryRunReport({ report, drafts, tables }: { report: DryRunOut; drafts: OperationDraft[]; tables: TableOut[] }) {
  const operations = report.operations ?? [];
  const sentences = operations.flatMap((op, i) => {
    const primary = primaryField(tables.find((t) => t.name === op.table || t.id === op.table))?.name;
    return op.problems.map((p) => problemSentence(i, op, p, drafts[i], primary));
  });
  return (
    <div className={report.valid ? "notice success" : "notice"} role="status">
      <p>{report.valid ? `The transaction is valid (${operations.map((op) => `${op.action} ${op.records} in ${op.table}`).join(", ")}); nothing was written.` : "The transaction would fail; nothing was written:"}</p>
      {sentences.length > 0 && (
        <ul>
          {sentences.map((s, k) => (
            <li key={k} className="problem">
              {s}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function OperationForm({ index, op, baseId, tables, table, version, setOp, setRecord, onRemove }: { index: number; op: OperationDraft; baseId: string; tables: TableOut[]; table: TableOut | undefined; version: number; setOp: (i: number, patch: Partial<OperationDraft>) => void; setRecord: (i: number, n: number, patch: Partial<RecordDraft>) => void; onRemove?: () => void }) {
  const n = index + 1;
  const fields = writableFields(table);
  const primary = primaryField(table);
  const linked = (linkedTableId: unknown) => {
    const target = tables.find((t) => t.id === linkedTableId);
    const targetPrimary = primaryField(target);
    return target && targetPrimary ? { id: target.id, name: target.name, primary: targetPrimary.name } : undefined;
  };
  const picks = op.action === "update" || op.action === "delete";
  return (
    <fieldset className="operation-fieldset">
      <legend>Operation {n}</legend>
      <div className="field-row">
        <SelectField label={`Operation ${n} action`} value={op.action} onChange={(e) => setOp(index, { action: e.target.value as Action })}>
          {ACTIONS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </SelectField>
        <SelectField label={`Operation ${n} table`} value={op.table} onChange={(e) => setOp(index, { table: e.target.value, records: [{ fields: {} }], mergeOn: [] })} disabled={!baseId}>
          <option value="">{baseId ? "Choose a table…" : "Choose a base first"}</option>
          {tables.map((t) => (
            <option key={t.id} value={t.name}>
              {t.name}
            </option>
          ))}
        </SelectField>
      </div>
      {table && op.action === "upsert" && (
        <fieldset className="field choices">
          <legend className="label">Operation {n}: find existing records by (merge on)</legend>
          {fields.map((f) => (
            <label key={f.id} className="checkbox-inline">
              <input type="checkbox" checked={op.mergeOn.includes(f.name)} onChange={(e) => setOp(index, { mergeOn: e.target.checked ? [...op.mergeOn, f.name] : op.mergeOn.filter((m) => m !== f.name) })} /> {f.name}
            </label>
          ))}
        </fieldset>
      )}
      {table &&
        op.records.map((record, r) => (
          <fieldset key={`${version}-${op.table}-${op.action}-${r}`} className="record-fieldset">
            <legend>
              Operation {n}, record {r + 1}
            </legend>
            {picks && primary && (
              <>
                {record.id ? (
                  <p className="chosen">
                    {op.action === "delete" ? "Deletes" : "Updates"} <strong>{record.label ?? record.id}</strong> <code className="muted">{record.id}</code>{" "}
                    <button type="button" className="button link small" onClick={() => setRecord(index, r, { id: undefined, label: undefined })}>
                      Choose another record
                    </button>
                  </p>
                ) : (
                  <RecordPicker baseId={baseId} table={table.id} tableName={table.name} primary={primary.name} label={`Record to ${op.action} (search ${primary.name})`} onPick={(picked) => setRecord(index, r, { id: picked.id, label: picked.label })} />
                )}
              </>
            )}
            {op.action !== "delete" && (
              <>
                {op.action === "update" && <p className="muted small">Only the fields you fill in are changed.</p>}
                <div className="form-grid">
                  {fields.map((f) => (
                    <FieldInput key={f.id} field={f} baseId={baseId} linkedTable={f.type === "multipleRecordLinks" ? linked(f.options?.linkedTableId) : undefined} value={record.fields[f.name]} onChange={(value) => setRecord(index, r, { fields: { ...record.fields, [f.name]: value } })} />
                  ))}
                </div>
              </>
            )}
            {op.records.length > 1 && (
              <button type="button" className="button link small" onClick={() => setOp(index, { records: op.records.filter((_, m) => m !== r) })}>
                Remove record {r + 1} of operation {n}
              </button>
            )}
          </fieldset>
        ))}
      <div className="form-actions">
        {table && (
          <button type="button" className="button secondary small" onClick={() => setOp(index, { records: [...op.records, { fields: {} }] })}>
            Add a record to operation {n}
          </button>
        )}
        {onRemove && (
          <button type="button" className="button link small" onClick={onRemove}>
            Remove operation {n}
          </button>
        )}
      </div>
    </fieldset>
  );
}

/** The records a step wrote, each linked to its table in the grid. */
function TouchedRecords({ baseId, step, fallbackTable }: { baseId?: string; step: StepOut; fallbackTable?: string }) {
  const output = (step.output ?? {}) as { table?: string; created?: string[]; updated?: string[]; deleted?: string[] };
  const compensated = (step.compensation?.output ?? {}) as { deleted?: string[]; created?: string[]; restored?: string[] };
  const table = output.table ?? fallbackTable;
  const groups: [string, string[] | undefined][] = [
    ["Created", output.created],
    ["Updated", output.updated],
    ["Deleted", output.deleted],
  ];
  const shown = groups.filter(([, ids]) => ids && ids.length > 0) as [string, string[]][];
  if (!baseId || !table || shown.length === 0) return null;
  const to = `/bases/${encodeURIComponent(baseId)}/tables/${encodeURIComponent(table)}`;
  return (
    <div className="touched">
      {shown.map(([label, ids]) => (
        <p key={label} className="small">
          {label} in <Link to={to}>{table}</Link>:{" "}
          {ids.map((rid, k) => (
            <Fragment key={rid}>
              {k > 0 && ", "}
              <Link to={`${to}?record=${encodeURIComponent(rid)}`} aria-label={`${label} record ${rid} in ${table}`}>
                <code>{rid}</code>
              </Link>
            </Fragment>
          ))}
        </p>
      ))}
      {(compensated.deleted?.length ?? 0) + (compensated.created?.length ?? 0) > 0 && (
        <p className="small muted">
          Compensation deleted {compensated.deleted?.length ?? 0} and re-created {compensated.created?.length ?? 0} record(s).
        </p>
      )}
    </div>
  );
}

const REASONS: Record<string, string> = { failure: "after a step failed", cancel: "after it was cancelled", undo: "because it was undone" };

export function SagaPage() {
  const { sagaId = "" } = useParams();
  const queryClient = useQueryClient();
  const saga = useQuery({
    queryKey: ["saga", sagaId],
    queryFn: () => get<SagaOut>(`/api/sagas/${sagaId}`),
    refetchInterval: (query) => (query.state.data && ACTIVE.has(query.state.data.status) ? 1000 : false),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["saga", sagaId] });
  const cancel = useMutation({ mutationFn: () => post(`/api/sagas/${sagaId}/cancel`), onSuccess: refresh });
  const undo = useMutation({ mutationFn: (force: boolean) => post(`/api/sagas/${sagaId}/undo`, { force } satisfies UndoSaga), onSuccess: refresh });
  const conflict = undo.error instanceof ApiError && undo.error.status === 409;
  const confirm = useConfirm();
  const runBy = useRunBy(saga.data);
  return (
    <DetailPage parent={{ to: "/sagas", label: "Transactions" }} current={saga.data?.summary ?? "Transaction"} query={saga} dialog={confirm.dialog}>
      {(s) => {
        const compensationEnds = (s.steps ?? []).map((st) => st.compensation?.finished_at).filter((t): t is string => Boolean(t));
        const compensatedAt = compensationEnds.sort().at(-1);
        // A transaction's input (the document says only that it is an object).
        const input = (s.input ?? {}) as Partial<TransactionInput>;
        const baseId = input.base_id;
        return (
          <>
            <PageHeader title={s.summary ? `Transaction '${s.summary}'` : `Transaction ${s.type}`} description={<>Status: <StatusBadge status={s.status} /></>}>
              {ACTIVE.has(s.status) && (
                <ConfirmButton
                  ask={confirm.ask}
                  request={{
                    title: `Cancel transaction '${s.summary ?? s.type}'?`,
                    consequence: "It stops, and the steps it already applied are undone.",
                    confirmLabel: "Cancel transaction",
                    onConfirm: () => cancel.mutate(),
                  }}
                  disabled={cancel.isPending}
                >
                  Cancel
                </ConfirmButton>
              )}
              {s.status === "succeeded" && s.type === "airtable_transaction" && (
                <ConfirmButton ask={confirm.ask} request={undoRequest(s, false, () => undo.mutate(false))} className="button secondary" disabled={undo.isPending}>
                  Undo
                </ConfirmButton>
              )}
            </PageHeader>
            {cancel.isError && <ErrorMessage error={cancel.error} />}
            {undo.isError && <ErrorMessage error={undo.error} title={conflict ? "Records changed since this transaction wrote them." : undefined} />}
            {conflict && s.status === "succeeded" && (
              <ConfirmButton ask={confirm.ask} request={undoRequest(s, true, () => undo.mutate(true))}>
                Undo anyway (overwrite those changes)
              </ConfirmButton>
            )}
            <section className="card" aria-labelledby="about-heading">
              <h2 id="about-heading">About</h2>
              <dl className="facts">
                <dt>Run by</dt>
                <dd>{runBy}</dd>
                <dt>Started</dt>
                <dd>{formatDate(s.created_at)}</dd>
                {s.finished_at && s.status !== "undone" && (
                  <>
                    <dt>Finished</dt>
                    <dd>{formatDate(s.finished_at)}</dd>
                  </>
                )}
                {s.compensation_reason && (
                  <>
                    <dt>Compensation</dt>
                    <dd>
                      {REASONS[s.compensation_reason] ?? s.compensation_reason}
                      {compensatedAt ? `, finished ${formatDate(compensatedAt)}` : ACTIVE.has(s.status) ? ", running" : ""}
                    </dd>
                  </>
                )}
                {s.status === "undone" && (
                  <>
                    <dt>Undone</dt>
                    <dd>{formatDate(s.finished_at ?? compensatedAt)}</dd>
                  </>
                )}
                {baseId && (
                  <>
                    <dt>Base</dt>
                    <dd>
                      <Link to={`/bases/${encodeURIComponent(baseId)}`}>{baseId}</Link>
                    </dd>
                  </>
                )}
              </dl>
            </section>
            <section className="card" aria-labelledby="steps-heading">
              <h2 id="steps-heading">Steps</h2>
              <Timeline steps={s.steps ?? []} extra={(step, i) => <TouchedRecords baseId={baseId} step={step} fallbackTable={input.operations?.[i]?.table} />} />
              {s.error != null && (
                <div className="notice" role="status">
                  <strong>Error:</strong> {describeError(s.error)}
                </div>
              )}
              {s.output != null && (
                <details>
                  <summary>Output</summary>
                  <pre className="mono">{JSON.stringify(s.output, null, 2)}</pre>
                </details>
              )}
            </section>
          </>
        );
      }}
    </DetailPage>
  );
}

/** What the timeline shows of a step: a saga's (StepOut) or a workflow execution's. */
interface TimelineStep {
  name: string;
  status: string;
  started_at?: string | null;
  finished_at?: string | null;
  error?: unknown;
  input?: unknown;
  output?: unknown;
  compensation?: { status: string; finished_at?: string | null } | null;
}

export function Timeline<S extends TimelineStep>({ steps, extra }: { steps: S[]; extra?: (step: S, index: number) => ReactNode }) {
  if (steps.length === 0) return <Empty title="No step has started yet." />;
  return (
    <ol className="timeline">
      {steps.map((step, i) => (
        <li key={`${step.name}-${i}`} className={`timeline-step step-${step.status}`}>
          <div className="row-between">
            <strong>{step.name}</strong>
            <StatusBadge status={step.status} />
          </div>
          <small className="muted">
            {formatDate(step.started_at)}
            {step.finished_at ? ` → ${formatDate(step.finished_at)}` : ""}
          </small>
          {step.error != null && <p className="field-error">{describeError(step.error)}</p>}
          {extra?.(step, i)}
          {step.input != null && (
            <details>
              <summary>Input</summary>
              <pre className="mono">{JSON.stringify(step.input, null, 2)}</pre>
            </details>
          )}
          {step.output != null && (
            <details>
              <summary>Output</summary>
              <pre className="mono">{JSON.stringify(step.output, null, 2)}</pre>
            </details>
          )}
          {step.compensation && (
            <p className="compensation">
              Compensation: <StatusBadge status={step.compensation.status} />
              {step.compensation.finished_at ? ` ${formatDate(step.compensation.finished_at)}` : ""}
            </p>
          )}
        </li>
      ))}
    </ol>
  );
}
