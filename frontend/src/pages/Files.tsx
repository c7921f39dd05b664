import { useEffect, useRef, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, del, get, post, putFile } from "../api/client";
import type { DownloadLinkOut, ExportIn, ExportOut, ExportStartedOut, FileOut, Page, UploadIn, UploadStartedOut } from "../api/types";
import { useBaseAndTable } from "../components/baseTable";
import { ImportWizard } from "./Imports";
import { useConfirm } from "../components/ConfirmDialog";
import { DataTable } from "../components/DataTable";
import { InlineForm } from "../components/InlineForm";
import { Empty, ErrorMessage, PageHeader, QueryView, SelectField, StatusBadge, formatDate, itemsOf } from "../components/ui";

const ACTIVE = new Set(["running", "pending"]);

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Every file goes straight to the bucket (up to 100 MB), never through the API's 6 MB payload. */
async function uploadToBucket(file: File, onProgress: (fraction: number) => void): Promise<void> {
  const body: UploadIn = { filename: file.name, content_type: file.type || null, size: file.size };
  const ticket = await post<UploadStartedOut>("/api/files/uploads", body);
  onProgress(0);
  await putFile(ticket.upload_url, file, ticket.headers, onProgress);
}

/** The browser opens the short-lived URL itself: the bucket's answer saves the file. */
async function download(file: FileOut): Promise<void> {
  const link = await get<DownloadLinkOut>(`/api/files/${file.id}/download`);
  window.location.assign(link.url);
}

export function FilesPage() {
  const queryClient = useQueryClient();
  const files = useQuery({
    queryKey: ["files"],
    queryFn: () => get<Page<FileOut>>("/api/files"),
    refetchInterval: (query) => (itemsOf(query.state.data).some((f) => f.status === "pending") ? 2000 : false),
  });
  const input = useRef<HTMLInputElement>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const upload = useMutation({
    mutationFn: (file: File) => uploadToBucket(file, setProgress),
    onSettled: () => setProgress(null),
    onSuccess: () => {
      if (input.current) input.current.value = "";
      void queryClient.invalidateQueries({ queryKey: ["files"] });
    },
  });
  const remove = useMutation({ mutationFn: (id: string) => del(`/api/files/${id}`), onSuccess: () => queryClient.invalidateQueries({ queryKey: ["files"] }) });
  const downloading = useMutation({ mutationFn: download });
  const confirm = useConfirm();
  const askDelete = (f: FileOut) =>
    confirm.ask({
      title: `Delete file '${f.filename}'?`,
      consequence: "Its content is removed from storage and can no longer be downloaded or imported. Records already imported from it stay. This cannot be undone.",
      confirmLabel: "Delete file",
      onConfirm: () => remove.mutate(f.id),
    });
  const [importing, setImporting] = useState<FileOut | null>(null);
  return (
    <>
      <PageHeader title="Files" description="Upload CSV or JSON, import it into a table, export a table to a file." />
      <QueryView query={files} feature="Files">
        {(data) => (
          <>
            <section className="card">
              <h2>Upload</h2>
              <InlineForm
                onSubmit={() => {
                  const file = input.current?.files?.[0];
                  if (file) upload.mutate(file);
                }}
                submitLabel="Upload"
                disabled={upload.isPending}
              >
                <div className="field">
                  <label htmlFor="upload-file">File (up to 100 MB)</label>
                  <input id="upload-file" ref={input} type="file" accept=".csv,.json,text/csv,application/json" />
                </div>
              </InlineForm>
              {progress !== null && (
                <div className="progress-row">
                  <progress max={1} value={progress} aria-label="Upload progress" />
                  <span>{Math.round(progress * 100)}%</span>
                </div>
              )}
              {upload.isError && <ErrorMessage error={upload.error} />}
            </section>
            {importing && <ImportWizard file={importing} onClose={() => setImporting(null)} />}
            <section className="card">
              <h2>Your files</h2>
              {(remove.isError || downloading.isError) && <ErrorMessage error={remove.error ?? downloading.error} />}
              {itemsOf(data).length === 0 ? (
                <Empty title="No files yet." />
              ) : (
                <DataTable
                  rows={itemsOf(data)}
                  rowKey={(f) => f.id}
                  columns={[
                    { header: "Name", title: true, wrap: true, cell: (f) => f.filename },
                    { header: "Size", numeric: true, cell: (f) => (f.size == null ? "—" : formatSize(f.size)) },
                    { header: "Status", cell: (f) => <StatusBadge status={f.status} /> },
                    { header: "Uploaded", cell: (f) => formatDate(f.created_at) },
                  ]}
                  actions={(f) => (
                    <>
                      <button type="button" className="button link small" onClick={() => downloading.mutate(f)} disabled={f.status !== "ready"} aria-label={`Download ${f.filename}`}>
                        Download
                      </button>
                      <button type="button" className="button link small" onClick={() => setImporting(f)} disabled={f.status !== "ready"} aria-label={`Import ${f.filename} into a table`}>
                        Import
                      </button>
                      <button type="button" className="button link small" onClick={() => askDelete(f)} aria-label={`Delete ${f.filename}`}>
                        Delete
                      </button>
                    </>
                  )}
                />
              )}
            </section>
            <ExportForm />
          </>
        )}
      </QueryView>
      {confirm.dialog}
    </>
  );
}

function ExportForm() {
  const queryClient = useQueryClient();
  const { baseId, table, selectors } = useBaseAndTable();
  const [format, setFormat] = useState<ExportIn["format"]>("csv");
  const start = useMutation({ mutationFn: () => api<ExportStartedOut>("POST", "/api/files/exports", { body: { base_id: baseId, table, format } satisfies ExportIn }) });
  const status = useQuery({
    queryKey: ["export", start.data?.export_id],
    queryFn: () => get<ExportOut>(`/api/files/exports/${start.data?.export_id}`),
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
      <SelectField label="Format" value={format} onChange={(e) => setFormat(e.target.value as ExportIn["format"])}>
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
