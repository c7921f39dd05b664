import { useEffect, useRef, useState } from "react";
import { Link, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, del, get, tokens, refreshSession, uploadFile, type Page } from "../api/client";
import { fetchBases, fetchSchema } from "../api/airtable";
import { Empty, ErrorMessage, PageHeader, QueryView, SelectField, StatusBadge, TextArea, formatDate, itemsOf } from "../components/ui";

interface FileObject {
  id: string;
  filename: string;
  content_type: string;
  size: number;
  sha256?: string;
  status: string;
  created_at: string;
}
interface ImportStatus {
  status: string;
  rows_total?: number;
  rows_done?: number;
  created?: number;
  updated?: number;
  failed?: { row: number; error: string }[];
  error?: string;
}
interface ExportStatus {
  status: string;
  rows?: number;
  file_id?: string | null;
  error?: string | null;
}

const ACTIVE = new Set(["running", "pending"]);

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

async function download(file: FileObject): Promise<void> {
  // The download needs the bearer token, so it is fetched and handed to the browser as a blob.
  if (!tokens.access && tokens.refresh) await refreshSession();
  const response = await fetch(`/api/files/${file.id}/download`, { headers: { Authorization: `Bearer ${tokens.access}` } });
  if (!response.ok) throw new Error(`The download failed (${response.status}).`);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = file.filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function FilesPage() {
  const queryClient = useQueryClient();
  const files = useQuery({
    queryKey: ["files"],
    queryFn: () => get<Page<FileObject>>("/api/files"),
    refetchInterval: (query) => (itemsOf(query.state.data).some((f) => f.status === "pending") ? 2000 : false),
  });
  const input = useRef<HTMLInputElement>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const upload = useMutation({
    mutationFn: (file: File) => uploadFile<FileObject>("/api/files/upload", file, setProgress),
    onSettled: () => setProgress(null),
    onSuccess: () => {
      if (input.current) input.current.value = "";
      void queryClient.invalidateQueries({ queryKey: ["files"] });
    },
  });
  const remove = useMutation({ mutationFn: (id: string) => del(`/api/files/${id}`), onSuccess: () => queryClient.invalidateQueries({ queryKey: ["files"] }) });
  const downloading = useMutation({ mutationFn: download });
  const [importing, setImporting] = useState<FileObject | null>(null);
  return (
    <>
      <PageHeader title="Files" description="Upload CSV or JSON, import it into a table, export a table to a file." />
      <QueryView query={files} feature="Files">
        {(data) => (
          <>
            <section className="card">
              <h2>Upload</h2>
              <form
                className="inline-form"
                onSubmit={(e) => {
                  e.preventDefault();
                  const file = input.current?.files?.[0];
                  if (file) upload.mutate(file);
                }}
              >
                <div className="field">
                  <label htmlFor="upload-file">File (up to 5 MB)</label>
                  <input id="upload-file" ref={input} type="file" accept=".csv,.json,text/csv,application/json" />
                </div>
                <button type="submit" className="button primary" disabled={upload.isPending}>
                  Upload
                </button>
              </form>
              {progress !== null && (
                <div className="progress-row">
                  <progress max={1} value={progress} aria-label="Upload progress" />
                  <span>{Math.round(progress * 100)}%</span>
                </div>
              )}
              {upload.isError && <ErrorMessage error={upload.error} />}
            </section>
            {importing && <ImportForm file={importing} onClose={() => setImporting(null)} />}
            <section className="card">
              <h2>Your files</h2>
              {(remove.isError || downloading.isError) && <ErrorMessage error={remove.error ?? downloading.error} />}
              {itemsOf(data).length === 0 ? (
                <Empty title="No files yet." />
              ) : (
                <div className="table-scroll">
                  <table className="table">
                    <thead>
                      <tr>
                        <th scope="col">Name</th>
                        <th scope="col" className="num">Size</th>
                        <th scope="col">Status</th>
                        <th scope="col">Uploaded</th>
                        <th scope="col">
                          <span className="sr-only">Actions</span>
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {itemsOf(data).map((f) => (
                        <tr key={f.id}>
                          <td className="wrap">{f.filename}</td>
                          <td className="num">{formatSize(f.size)}</td>
                          <td>
                            <StatusBadge status={f.status} />
                          </td>
                          <td>{formatDate(f.created_at)}</td>
                          <td className="row-actions">
                            <button type="button" className="button link small" onClick={() => downloading.mutate(f)} disabled={f.status !== "ready"}>
                              Download
                            </button>
                            <button type="button" className="button link small" onClick={() => setImporting(f)} disabled={f.status !== "ready"}>
                              Import
                            </button>
                            <button type="button" className="button link small" onClick={() => remove.mutate(f.id)} aria-label={`Delete ${f.filename}`}>
                              Delete
                            </button>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
            <ExportForm />
          </>
        )}
      </QueryView>
    </>
  );
}

function useBaseAndTable() {
  const [baseId, setBaseId] = useState("");
  const [table, setTable] = useState("");
  const bases = useQuery({ queryKey: ["bases"], queryFn: fetchBases });
  const schema = useQuery({ queryKey: ["schema", baseId], queryFn: () => fetchSchema(baseId), enabled: Boolean(baseId) });
  const selectors = (
    <div className="field-row">
      <SelectField label="Base" value={baseId} onChange={(e) => { setBaseId(e.target.value); setTable(""); }}>
        <option value="">Choose a base…</option>
        {itemsOf(bases.data).map((b) => (
          <option key={b.id} value={b.id}>
            {b.name}
          </option>
        ))}
      </SelectField>
      <SelectField label="Table" value={table} onChange={(e) => setTable(e.target.value)} disabled={!baseId}>
        <option value="">Choose a table…</option>
        {(schema.data?.tables ?? []).map((t) => (
          <option key={t.id} value={t.name}>
            {t.name}
          </option>
        ))}
      </SelectField>
    </div>
  );
  return { baseId, table, selectors, fields: schema.data?.tables.find((t) => t.name === table)?.fields ?? [] };
}

function ImportForm({ file, onClose }: { file: FileObject; onClose: () => void }) {
  const { baseId, table, selectors, fields } = useBaseAndTable();
  const [mapping, setMapping] = useState("{}");
  const [mappingError, setMappingError] = useState<string | null>(null);
  const start = useMutation({
    mutationFn: () => {
      let parsed: Record<string, string>;
      try {
        parsed = JSON.parse(mapping || "{}");
        setMappingError(null);
      } catch {
        setMappingError("The column mapping is not valid JSON.");
        throw new Error("The column mapping is not valid JSON.");
      }
      return api<{ import_id: string }>("POST", `/api/files/${file.id}/import`, {
        body: { base_id: baseId, table, mapping: Object.keys(parsed).length ? parsed : undefined, typecast: true },
        headers: { "Idempotency-Key": crypto.randomUUID() },
      });
    },
  });
  return (
    <section className="card" aria-labelledby="import-heading">
      <h2 id="import-heading">Import {file.filename}</h2>
      {start.isSuccess ? (
        <ImportProgress importId={start.data.import_id} />
      ) : (
        <>
          {selectors}
          <TextArea label="Column mapping (JSON, column → field)" className="mono" rows={3} value={mapping} onChange={(e) => setMapping(e.target.value)} hint={fields.length ? `Fields: ${fields.map((f) => f.name).join(", ")}. Columns named like a field need no mapping.` : "Columns named like a field need no mapping."} />
          {mappingError && <p role="alert" className="field-error">{mappingError}</p>}
          {start.isError && !mappingError && <ErrorMessage error={start.error} />}
          <div className="form-actions">
            <button type="button" className="button primary" onClick={() => start.mutate()} disabled={start.isPending || !baseId || !table}>
              Start import
            </button>
            <button type="button" className="button secondary" onClick={onClose}>
              Cancel
            </button>
          </div>
        </>
      )}
    </section>
  );
}

export function ImportProgress({ importId }: { importId: string }) {
  const status = useQuery({
    queryKey: ["import", importId],
    queryFn: () => get<ImportStatus>(`/api/files/imports/${importId}`),
    refetchInterval: (query) => (query.state.data && !ACTIVE.has(query.state.data.status) ? false : 1000),
  });
  return (
    <QueryView query={status} feature="Imports">
      {(s) => {
        const total = s.rows_total ?? 0;
        const done = s.rows_done ?? 0;
        return (
          <div>
            <p>
              <StatusBadge status={s.status} /> {done} of {total || "?"} rows · {s.created ?? 0} created · {s.updated ?? 0} updated · {s.failed?.length ?? 0} rejected
            </p>
            <progress max={total || 1} value={done} aria-label="Import progress" />
            {s.error && <p className="field-error">{s.error}</p>}
            {s.failed && s.failed.length > 0 && (
              <table className="table compact">
                <caption>Rejected rows</caption>
                <thead>
                  <tr>
                    <th scope="col" className="num">Row</th>
                    <th scope="col">Problem</th>
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
            )}
          </div>
        );
      }}
    </QueryView>
  );
}

export function ImportPage() {
  const { importId = "" } = useParams();
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <Link to="/files">Files</Link> <span aria-hidden="true">›</span> <span>Import</span>
      </nav>
      <PageHeader title="Import progress" />
      <section className="card">
        <ImportProgress importId={importId} />
      </section>
    </>
  );
}

function ExportForm() {
  const queryClient = useQueryClient();
  const { baseId, table, selectors } = useBaseAndTable();
  const [format, setFormat] = useState("csv");
  const start = useMutation({ mutationFn: () => api<{ export_id: string }>("POST", "/api/files/exports", { body: { base_id: baseId, table, format } }) });
  const status = useQuery({
    queryKey: ["export", start.data?.export_id],
    queryFn: () => get<ExportStatus>(`/api/files/exports/${start.data?.export_id}`),
    enabled: Boolean(start.data?.export_id),
    refetchInterval: (query) => (query.state.data && !ACTIVE.has(query.state.data.status) ? false : 1000),
  });
  const finished = status.data?.status === "succeeded";
  useEffect(() => {
    if (finished) void queryClient.invalidateQueries({ queryKey: ["files"] });
  }, [finished, queryClient]);
  return (
    <section className="card" aria-labelledby="export-heading">
      <h2 id="export-heading">Export a table</h2>
      {selectors}
      <SelectField label="Format" value={format} onChange={(e) => setFormat(e.target.value)}>
        <option value="csv">CSV</option>
        <option value="json">JSON</option>
      </SelectField>
      {start.isError && <ErrorMessage error={start.error} />}
      <button type="button" className="button primary" onClick={() => start.mutate()} disabled={start.isPending || !baseId || !table}>
        Export
      </button>
      {status.data && (
        <p role="status">
          <StatusBadge status={status.data.status} /> {status.data.rows ?? 0} rows
          {status.data.error && <span className="field-error"> {status.data.error}</span>}
          {status.data.status === "succeeded" && " · the file is in the list above."}
        </p>
      )}
    </section>
  );
}
