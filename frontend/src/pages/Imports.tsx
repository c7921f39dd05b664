import { useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, api, get, post } from "../api/client";
import type { FieldOut, FileOut, ImportIn, ImportOut, ImportPreviewOut, ImportStartedOut, UndoSaga } from "../api/types";
import { ErrorMessage, PageHeader, QueryView, SelectField, StatusBadge, TextField, formatDate } from "../components/ui";
import { useBaseAndTable } from "../components/baseTable";
import { useConfirm } from "../components/ConfirmDialog";
import { Breadcrumbs } from "../components/DetailPage";

// The import wizard (table -> mapping with samples -> preview of the rows as written -> start)
// and the import's own page (progress that survives a reload, then the result with undo).

const SKIP = "";

function show(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** The workbook's sheets a refused sheet's error offers instead (422, details field "sheet"). */
function sheetChoices(error: unknown): string[] | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return error.details.find((d) => d.field === "sheet" && Array.isArray(d.choices))?.choices;
}

export function ImportWizard({ file, onClose }: { file: Pick<FileOut, "id" | "filename">; onClose: () => void }) {
  const navigate = useNavigate();
  const { baseId, table, selectors, fields } = useBaseAndTable();
  const [sheet, setSheet] = useState("");
  const [newOptions, setNewOptions] = useState(false);
  // column -> field ("" skips); columns not in it follow the API's name matching.
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const request = (dryRun: boolean): ImportIn => ({
    base_id: baseId,
    table,
    sheet: sheet || undefined,
    typecast: newOptions,
    mapping: Object.keys(mapping).length ? Object.fromEntries(Object.entries(mapping).map(([c, f]) => [c, f || null])) : undefined,
    dry_run: dryRun,
  });
  const preview = useQuery({
    queryKey: ["import-preview", file.id, baseId, table, sheet, newOptions, mapping],
    queryFn: () => post<ImportPreviewOut>(`/api/files/${file.id}/import`, request(true)),
    enabled: Boolean(baseId && table),
    retry: false,
  });
  const start = useMutation({
    mutationFn: () => {
      // Every column's choice is sent, so the import writes exactly what the preview showed.
      const chosen = Object.fromEntries((preview.data?.columns ?? []).map((c) => [c.column, mapping[c.column] ?? c.field ?? SKIP]));
      return api<ImportStartedOut>("POST", `/api/files/${file.id}/import`, {
        body: { ...request(false), mapping: Object.fromEntries(Object.entries(chosen).map(([c, f]) => [c, f || null])) } satisfies ImportIn,
        headers: { "Idempotency-Key": crypto.randomUUID() },
      });
    },
    onSuccess: (started) => navigate(`/files/imports/${started.import_id}`),
  });
  const isXlsx = file.filename.toLowerCase().endsWith(".xlsx");
  // The workbook's sheets, once a preview has read them (a sheet too large to read still
  // leaves the others to choose from).
  const [sheets, setSheets] = useState<string[] | null>(null);
  const readSheets = preview.data?.sheets ?? sheetChoices(preview.error);
  const readSheetsKey = readSheets?.join("\n");
  useEffect(() => {
    if (readSheets) setSheets(readSheets);
    // Keyed by the names: the array is a new one on every render.
  }, [readSheetsKey]);
  return (
    <section className="card" aria-labelledby="import-heading">
      <h2 id="import-heading">Import {file.filename}</h2>
      <h3>1. Where to</h3>
      {selectors}
      {isXlsx &&
        (sheets ? (
          <SelectField label="Sheet" value={sheet || sheets[0]} onChange={(e) => setSheet(e.target.value)}>
            {sheets.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </SelectField>
        ) : (
          <TextField label="Sheet" hint="Leave empty for the first sheet." value={sheet} onChange={(e) => setSheet(e.target.value)} />
        ))}
      {baseId && table && (
        <QueryView query={preview} loadingLabel="Reading the file…">
          {(plan) => (
            <>
              <h3>2. Columns</h3>
              <MappingTable plan={plan} fields={fields} mapping={mapping} onChange={(column, field) => setMapping({ ...mapping, [column]: field })} />
              {plan.ignored_columns.length > 0 && <p className="muted">Not imported: {plan.ignored_columns.join(", ")}.</p>}
              <label className="checkbox">
                <input type="checkbox" checked={newOptions} onChange={(e) => setNewOptions(e.target.checked)} /> Create select options the table does not have yet
              </label>
              <h3>3. Preview</h3>
              <p role="status">
                {plan.rows_total} rows; {plan.problems_total === 0 ? "all can be imported." : `${plan.problems_total} will be rejected.`}
              </p>
              <PreviewTable plan={plan} />
            </>
          )}
        </QueryView>
      )}
      {start.isError && <ErrorMessage error={start.error} />}
      <div className="form-actions">
        <button type="button" className="button primary" onClick={() => start.mutate()} disabled={start.isPending || !preview.data}>
          Start import
        </button>
        <button type="button" className="button secondary" onClick={onClose}>
          Cancel
        </button>
      </div>
    </section>
  );
}

function MappingTable({ plan, fields, mapping, onChange }: { plan: ImportPreviewOut; fields: FieldOut[]; mapping: Record<string, string>; onChange: (column: string, field: string) => void }) {
  return (
    <div className="table-scroll">
      <table className="table compact">
        <thead>
          <tr>
            <th scope="col">Column</th>
            <th scope="col">Field</th>
            <th scope="col">Type</th>
            <th scope="col">Sample values</th>
          </tr>
        </thead>
        <tbody>
          {plan.columns.map((c) => (
            <tr key={c.column}>
              <th scope="row">{c.column}</th>
              <td>
                <select aria-label={`Field for column ${c.column}`} value={mapping[c.column] ?? c.field ?? SKIP} onChange={(e) => onChange(c.column, e.target.value)}>
                  <option value={SKIP}>Don't import</option>
                  {fields.map((f) => (
                    <option key={f.id} value={f.name}>
                      {f.name}
                    </option>
                  ))}
                </select>
              </td>
              <td>{c.field_type ?? "—"}</td>
              <td className="wrap muted">{c.sample.map(show).join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function PreviewTable({ plan }: { plan: ImportPreviewOut }) {
  const targets = plan.columns.filter((c) => c.field).map((c) => c.field as string);
  return (
    <div className="table-scroll">
      <table className="table compact" aria-label="Preview of the first rows">
        <thead>
          <tr>
            <th scope="col" className="num">Row</th>
            {targets.map((f) => (
              <th key={f} scope="col">{f}</th>
            ))}
            <th scope="col">Problems</th>
          </tr>
        </thead>
        <tbody>
          {plan.preview.map((r) => (
            <tr key={r.row} className={r.problems.length ? "row-problem" : undefined}>
              <td className="num">{r.row}</td>
              {targets.map((f) => (
                <td key={f} className={r.problems.some((p) => p.field === f) ? "cell-problem" : undefined}>
                  {show(r.fields[f])}
                </td>
              ))}
              <td className="wrap">{r.problems.map((p) => p.message).join(" ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Rows per second so far and the time left at that rate, from the import's own clock. */
function pace(s: ImportOut): { rate: number; left: number | null } {
  const seconds = ((s.finished_at ? new Date(s.finished_at) : new Date()).getTime() - new Date(s.created_at).getTime()) / 1000;
  const done = s.rows_done ?? 0;
  const rate = seconds > 0 ? done / seconds : 0;
  const total = s.rows_total ?? 0;
  return { rate, left: rate > 0 && total ? (total - done) / rate : null };
}

function rejectedCsv(s: ImportOut): string {
  const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;
  return ["row,reason", ...(s.failed ?? []).map((f) => `${f.row},${quote(f.error)}`)].join("\r\n") + "\r\n";
}

function downloadText(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

export function ImportResult({ importId }: { importId: string }) {
  const queryClient = useQueryClient();
  const status = useQuery({
    queryKey: ["import", importId],
    queryFn: () => get<ImportOut>(`/api/files/imports/${importId}`),
    refetchInterval: (query) => {
      const s = query.state.data;
      return !s || s.status === "running" || s.undo?.status === "running" || s.undo?.status === "compensating" ? 1000 : false;
    },
  });
  const [force, setForce] = useState(false);
  const undo = useMutation({
    mutationFn: () => post(`/api/files/imports/${importId}/undo`, { force } satisfies UndoSaga),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["import", importId] }),
  });
  const conflict = undo.error instanceof ApiError && undo.error.status === 409 && undo.error.details.length > 0;
  const confirm = useConfirm();
  return (
    <>
      {confirm.dialog}
      <QueryView query={status}>
        {(s) => {
          const total = s.rows_total ?? 0;
          const done = s.rows_done ?? 0;
          const { rate, left } = pace(s);
          const undoing = s.undo?.status === "running" || s.undo?.status === "compensating";
          return (
            <div>
              <p>
                <StatusBadge status={s.status} /> {s.filename ?? "The file"} → {s.table_name ?? s.table}
              </p>
              {s.status === "running" && (
                <div className="progress-row">
                  <progress max={total || 1} value={done} aria-label="Import progress" />
                  <span role="status">
                    {done} of {total || "…"} rows · {rate.toFixed(1)} rows/s{left !== null && ` · about ${Math.ceil(left)} s left`}
                  </span>
                </div>
              )}
              <p>
                {s.created ?? 0} created · {s.updated ?? 0} updated · {s.failed_count ?? s.failed?.length ?? 0} rejected
                {s.finished_at && ` · finished ${formatDate(s.finished_at)}`}
              </p>
              {(s.ignored_columns ?? []).length > 0 && <p>Columns not imported: {(s.ignored_columns ?? []).join(", ")}</p>}
              {s.error && <p className="field-error">{s.error}</p>}
              <p>
                <Link to={`/bases/${s.base_id}/tables/${encodeURIComponent(s.table)}`}>Open the table</Link>
              </p>
              {s.failed && s.failed.length > 0 && (
                <>
                  <table className="table compact">
                    <caption>Rejected rows</caption>
                    <thead>
                      <tr>
                        <th scope="col" className="num">Row</th>
                        <th scope="col">Reason</th>
                      </tr>
                    </thead>
                    <tbody>
                      {s.failed.map((f) => (
                        <tr key={f.row}>
                          <td className="num">{f.row}</td>
                          <td className="wrap">{f.error}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                  <button type="button" className="button secondary small" onClick={() => downloadText(`rejected-rows-${importId}.csv`, rejectedCsv(s))}>
                    Download rejected rows (CSV)
                  </button>
                </>
              )}
              {s.status === "succeeded" && (
                <div className="form-actions">
                  <button type="button" className="button secondary" onClick={() =>
                      confirm.ask({
                        title: `Undo the import of '${s.filename ?? "the file"}' into ${s.table_name ?? s.table}?`,
                        consequence: `The ${s.created ?? 0} records it created are deleted and the ${s.updated ?? 0} it updated get their previous values back${force ? ", overwriting the edits made since" : ""}.`,
                        confirmLabel: force ? "Undo anyway" : "Undo import",
                        onConfirm: () => undo.mutate(),
                      })
                    }
                    disabled={undo.isPending || undoing}
                  >
                    {undoing ? "Undoing…" : force ? "Undo anyway" : "Undo import"}
                  </button>
                </div>
              )}
              {s.undo && s.undo.status !== "succeeded" && !undoing && (
                <p className="field-error">
                  The undo did not finish (<Link to={`/sagas/${s.undo.saga_id}`}>see the transaction</Link>).
                </p>
              )}
              {undo.isError && <ErrorMessage error={undo.error} />}
              {conflict && (
                <div role="alert">
                  <p>These records were edited after the import; undoing would overwrite the edits:</p>
                  <ul>
                    {(undo.error as ApiError).details.map((d, i) => (
                      <li key={i}>
                        {d.record_id}: {d.fields?.join(", ") ?? d.problem ?? "changed"}
                      </li>
                    ))}
                  </ul>
                  {!force && (
                    <button type="button" className="button danger" onClick={() => setForce(true)}>
                      Overwrite the edits
                    </button>
                  )}
                </div>
              )}
            </div>
          );
        }}
      </QueryView>
    </>
  );
}

export function ImportPage() {
  const { importId = "" } = useParams();
  return (
    <>
      <Breadcrumbs parent={{ to: "/files", label: "Files" }} current="Import" />
      <PageHeader title="Import" />
      <section className="card">
        <ImportResult importId={importId} />
      </section>
    </>
  );
}
