import { useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, api, get, post, type Page } from "../api/client";
import { fetchBases, fetchSchema } from "../api/airtable";
import { Empty, ErrorMessage, PageHeader, QueryView, SelectField, StatusBadge, TextArea, describeError, formatDate, itemsOf } from "../components/ui";
import { useWorkspaceId } from "../components/workspace";

interface SagaStep {
  name: string;
  status: string;
  started_at?: string | null;
  finished_at?: string | null;
  output?: unknown;
  error?: unknown;
  compensation?: { status: string; [key: string]: unknown } | null;
}
interface Saga {
  id: string;
  type: string;
  workspace_id?: string;
  status: string;
  steps?: SagaStep[];
  output?: unknown;
  error?: unknown;
  created_at?: string;
}
interface SagaType {
  type?: string;
  name?: string;
  description?: string;
  input_schema?: unknown;
}
interface DryRun {
  valid: boolean;
  operations: { action: string; table: string; records: number | unknown[]; problems: string[] }[];
}
interface Operation {
  action: "create" | "update" | "upsert" | "delete";
  table: string;
  records: string;
  merge_on: string;
}

const ACTIVE = new Set(["running", "compensating"]);

export function SagasPage() {
  const workspaceId = useWorkspaceId();
  const sagas = useQuery({
    queryKey: ["sagas", workspaceId],
    queryFn: () => get<Page<Saga>>("/api/sagas", { workspace_id: workspaceId }),
    refetchInterval: (query) => (itemsOf(query.state.data).some((s) => ACTIVE.has(s.status)) ? 2000 : false),
  });
  return (
    <>
      <PageHeader title="Transactions" description="All-or-nothing writes across tables: every applied step is undone if one fails." />
      <QueryView query={sagas} feature="Transactions (sagas)">
        {(data) => (
          <>
            <Composer />
            <section className="card">
              <h2>Recent transactions</h2>
              {itemsOf(data).length === 0 ? (
                <Empty title="No transactions yet." />
              ) : (
                <div className="table-scroll">
                  <table className="table">
                    <thead>
                      <tr>
                        <th scope="col">Transaction</th>
                        <th scope="col">Type</th>
                        <th scope="col">Status</th>
                        <th scope="col">Started</th>
                      </tr>
                    </thead>
                    <tbody>
                      {itemsOf(data).map((s) => (
                        <tr key={s.id}>
                          <td>
                            <Link to={`/sagas/${s.id}`}>{s.id}</Link>
                          </td>
                          <td>{s.type}</td>
                          <td>
                            <StatusBadge status={s.status} />
                          </td>
                          <td>{formatDate(s.created_at ?? s.steps?.[0]?.started_at)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
          </>
        )}
      </QueryView>
    </>
  );
}

function Composer() {
  const navigate = useNavigate();
  const workspaceId = useWorkspaceId();
  const types = useQuery({ queryKey: ["saga-types"], queryFn: () => get<Page<SagaType> | SagaType[] | Record<string, unknown>>("/api/sagas/types") });
  const typeNames = useMemo(() => {
    const data = types.data;
    if (!data) return ["airtable_transaction"];
    if (Array.isArray(data) || "items" in data) return itemsOf(data as Page<SagaType>).map((t) => t.type ?? t.name ?? "").filter(Boolean);
    return Object.keys(data);
  }, [types.data]);
  const [type, setType] = useState("airtable_transaction");
  const [baseId, setBaseId] = useState("");
  const [operations, setOperations] = useState<Operation[]>([{ action: "create", table: "", records: '[{"fields": {}}]', merge_on: "" }]);
  const [rawInput, setRawInput] = useState("{}");
  const bases = useQuery({ queryKey: ["bases"], queryFn: fetchBases });
  const schema = useQuery({ queryKey: ["schema", baseId], queryFn: () => fetchSchema(baseId), enabled: Boolean(baseId) });
  const [inputError, setInputError] = useState<string | null>(null);
  const buildInput = (): unknown => {
    if (type !== "airtable_transaction") return JSON.parse(rawInput);
    return {
      base_id: baseId,
      operations: operations.map((op, i) => {
        let records: unknown;
        try {
          records = JSON.parse(op.records);
        } catch {
          throw new Error(`Operation ${i + 1}: the records are not valid JSON.`);
        }
        return { action: op.action, table: op.table, records, ...(op.merge_on.trim() ? { merge_on: op.merge_on.split(",").map((s) => s.trim()) } : {}), typecast: true };
      }),
    };
  };
  const [idempotencyKey, setIdempotencyKey] = useState(() => crypto.randomUUID());
  const send = (dryRun: boolean) => {
    setInputError(null);
    let input: unknown;
    try {
      input = buildInput();
    } catch (e) {
      setInputError((e as Error).message);
      throw e;
    }
    return api<DryRun & { saga_id: string }>("POST", "/api/sagas", {
      body: { type, input, workspace_id: workspaceId ?? undefined, dry_run: dryRun || undefined },
      headers: dryRun ? {} : { "Idempotency-Key": idempotencyKey },
    });
  };
  const preview = useMutation({ mutationFn: () => send(true) });
  const run = useMutation({
    mutationFn: () => send(false),
    onSuccess: (data) => {
      setIdempotencyKey(crypto.randomUUID());
      navigate(`/sagas/${data.saga_id}`);
    },
  });
  const setOp = (i: number, patch: Partial<Operation>) => setOperations(operations.map((op, j) => (j === i ? { ...op, ...patch } : op)));
  const tables = schema.data?.tables ?? [];
  return (
    <section className="card" aria-labelledby="compose-heading">
      <h2 id="compose-heading">Compose a transaction</h2>
      <div className="field-row">
        <SelectField label="Type" value={type} onChange={(e) => setType(e.target.value)}>
          {(typeNames.length ? typeNames : ["airtable_transaction"]).map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </SelectField>
        {type === "airtable_transaction" && (
          <SelectField label="Base" value={baseId} onChange={(e) => setBaseId(e.target.value)}>
            <option value="">Choose a base…</option>
            {itemsOf(bases.data).map((b) => (
              <option key={b.id} value={b.id}>
                {b.name}
              </option>
            ))}
          </SelectField>
        )}
      </div>
      {type === "airtable_transaction" ? (
        <ol className="operations">
          {operations.map((op, i) => (
            <li key={i} className="operation">
              <div className="field-row">
                <SelectField label={`Operation ${i + 1} action`} value={op.action} onChange={(e) => setOp(i, { action: e.target.value as Operation["action"] })}>
                  <option value="create">create</option>
                  <option value="update">update</option>
                  <option value="upsert">upsert</option>
                  <option value="delete">delete</option>
                </SelectField>
                <SelectField label={`Operation ${i + 1} table`} value={op.table} onChange={(e) => setOp(i, { table: e.target.value })}>
                  <option value="">Choose a table…</option>
                  {tables.map((t) => (
                    <option key={t.id} value={t.name}>
                      {t.name}
                    </option>
                  ))}
                </SelectField>
                {op.action === "upsert" && (
                  <div className="field">
                    <label htmlFor={`merge-${i}`}>Merge on fields</label>
                    <input id={`merge-${i}`} value={op.merge_on} onChange={(e) => setOp(i, { merge_on: e.target.value })} />
                  </div>
                )}
              </div>
              <TextArea label={`Operation ${i + 1} records (JSON)`} rows={3} className="mono" value={op.records} onChange={(e) => setOp(i, { records: e.target.value })} hint='For example [{"fields": {"Name": "Ada"}}]; update and delete need "id".' />
              {operations.length > 1 && (
                <button type="button" className="button link small" onClick={() => setOperations(operations.filter((_, j) => j !== i))}>
                  Remove operation {i + 1}
                </button>
              )}
            </li>
          ))}
        </ol>
      ) : (
        <TextArea label="Input (JSON)" rows={6} className="mono" value={rawInput} onChange={(e) => setRawInput(e.target.value)} />
      )}
      <div className="form-actions">
        {type === "airtable_transaction" && (
          <button type="button" className="button secondary" onClick={() => setOperations([...operations, { action: "create", table: "", records: '[{"fields": {}}]', merge_on: "" }])}>
            Add operation
          </button>
        )}
        <button type="button" className="button secondary" onClick={() => preview.mutate()} disabled={preview.isPending}>
          Preview (dry run)
        </button>
        <button type="button" className="button primary" onClick={() => run.mutate()} disabled={run.isPending}>
          Run transaction
        </button>
      </div>
      {inputError && <p role="alert" className="field-error">{inputError}</p>}
      {preview.isError && !inputError && <ErrorMessage error={preview.error} />}
      {run.isError && !inputError && <ErrorMessage error={run.error} />}
      {preview.isSuccess && (
        <div className={preview.data.valid ? "notice success" : "notice"} role="status">
          <p>{preview.data.valid ? "The transaction is valid; nothing was written." : "The transaction would fail:"}</p>
          <ul>
            {preview.data.operations.map((op, i) => (
              <li key={i}>
                {op.action} on {op.table}: {Array.isArray(op.records) ? op.records.length : op.records} record(s)
                {op.problems.length > 0 && (
                  <ul>
                    {op.problems.map((p, j) => (
                      <li key={j} className="field-error">
                        {typeof p === "string" ? p : JSON.stringify(p)}
                      </li>
                    ))}
                  </ul>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

export function SagaPage() {
  const { sagaId = "" } = useParams();
  const queryClient = useQueryClient();
  const saga = useQuery({
    queryKey: ["saga", sagaId],
    queryFn: () => get<Saga>(`/api/sagas/${sagaId}`),
    refetchInterval: (query) => (query.state.data && ACTIVE.has(query.state.data.status) ? 1000 : false),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["saga", sagaId] });
  const cancel = useMutation({ mutationFn: () => post(`/api/sagas/${sagaId}/cancel`), onSuccess: refresh });
  const undo = useMutation({ mutationFn: (force: boolean) => post(`/api/sagas/${sagaId}/undo`, { force }), onSuccess: refresh });
  const conflict = undo.error instanceof ApiError && undo.error.status === 409;
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <Link to="/sagas">Transactions</Link> <span aria-hidden="true">›</span> <span>{sagaId}</span>
      </nav>
      <QueryView query={saga} feature="Transactions (sagas)">
        {(s) => (
          <>
            <PageHeader title={`Transaction ${s.type}`} description={<>Status: <StatusBadge status={s.status} /></>}>
              {ACTIVE.has(s.status) && (
                <button type="button" className="button danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
                  Cancel
                </button>
              )}
              {s.status === "succeeded" && s.type === "airtable_transaction" && (
                <button type="button" className="button secondary" onClick={() => undo.mutate(false)} disabled={undo.isPending}>
                  Undo
                </button>
              )}
            </PageHeader>
            {cancel.isError && <ErrorMessage error={cancel.error} />}
            {undo.isError && <ErrorMessage error={undo.error} title={conflict ? "Records changed since this transaction wrote them." : undefined} />}
            {conflict && (
              <button type="button" className="button danger" onClick={() => undo.mutate(true)}>
                Undo anyway (overwrite those changes)
              </button>
            )}
            <section className="card">
              <h2>Steps</h2>
              <Timeline steps={s.steps ?? []} />
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
        )}
      </QueryView>
    </>
  );
}

export function Timeline({ steps }: { steps: SagaStep[] }) {
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
          {step.compensation && (
            <p className="compensation">
              Compensation: <StatusBadge status={step.compensation.status} />
            </p>
          )}
        </li>
      ))}
    </ol>
  );
}
