import { useEffect, useMemo, useState } from "react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useBlocker, useParams, useSearchParams } from "react-router";
import { ApiError, api, get, patch } from "../api/client";
import { fetchBases, fetchConnections, fetchSchema, tablePath } from "../api/airtable";
import type { FieldOut, NewRecords, OneRecord, RecordOut, RecordPage, TableOut } from "../api/types";
import { Empty, PageHeader, QueryView, itemsOf } from "../components/ui";
import { useConfirm } from "../components/ConfirmDialog";
import { useWorkspaceId } from "../components/workspace";
import { Grid, type GridRow } from "../grid/Grid";
import type { LinkedTable } from "../grid/editors";
import { formatValue } from "../grid/fields";
import { RecordForm } from "../grid/RecordForm";
import { ReviewPanel } from "../grid/ReviewPanel";
import { follow, startTransaction, undoTransaction, waitingOutRateLimit } from "../grid/saga";
import { changeCount, emptyStage, isNewKey, stageDelete, stageEdit, stageNewRow, stagedStore, unstageDelete, useStage, type StagedTable } from "../grid/staged";
import { Toast, type ToastMessage } from "../grid/Toast";
import { ViewControls } from "../grid/ViewControls";
import { readView, recordsQuery, writeView, type View } from "../grid/view";

export function RecordsPage() {
  const { baseId = "", tableId = "" } = useParams();
  const schema = useQuery({ queryKey: ["schema", baseId], queryFn: () => fetchSchema(baseId) });
  const bases = useQuery({ queryKey: ["bases"], queryFn: fetchBases });
  const table = schema.data?.tables.find((t) => t.id === tableId || t.name === tableId);
  const base = itemsOf(bases.data).find((b) => b.id === baseId);
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <Link to="/bases">Bases</Link> <span aria-hidden="true">›</span> <Link to={`/bases/${baseId}`}>{base?.name ?? baseId}</Link> <span aria-hidden="true">›</span> <span>{table?.name ?? tableId}</span>
      </nav>
      <QueryView query={schema} loadingLabel="Loading the table…">
        {(data) => (table ? <TableView key={table.id} baseId={baseId} connectionId={base?.connection_id} table={table} tables={data.tables} /> : <Empty title="This table does not exist in the base." />)}
      </QueryView>
    </>
  );
}

/** The table's fields with its primary field first (the grid freezes it). */
function orderedFields(table: TableOut): FieldOut[] {
  const primary = table.fields.find((f) => f.id === table.primaryFieldId) ?? table.fields[0];
  return primary ? [primary, ...table.fields.filter((f) => f !== primary)] : [];
}

function linkedTables(baseId: string, fields: FieldOut[], tables: TableOut[]): Record<string, LinkedTable> {
  const out: Record<string, LinkedTable> = {};
  for (const field of fields) {
    const target = tables.find((t) => t.id === field.options?.linkedTableId);
    if (field.type === "multipleRecordLinks" && target) out[field.name] = { baseId, tableId: target.id, tableName: target.name, primary: orderedFields(target)[0]?.name ?? "" };
  }
  return out;
}

/** The workspace a base's transactions run in: its connection's, else the one chosen. */
function useBaseWorkspace(connectionId: string | undefined): string | undefined {
  const chosen = useWorkspaceId();
  const connections = useQuery({ queryKey: ["connections"], queryFn: () => fetchConnections(), staleTime: 60_000 });
  return itemsOf(connections.data).find((c) => c.id === connectionId)?.workspace_id ?? chosen ?? undefined;
}

function TableView({ baseId, connectionId, table, tables }: { baseId: string; connectionId?: string; table: TableOut; tables: TableOut[] }) {
  const queryClient = useQueryClient();
  const fields = useMemo(() => orderedFields(table), [table]);
  const linked = useMemo(() => linkedTables(baseId, fields, tables), [baseId, fields, tables]);
  const stagedTable: StagedTable = useMemo(() => ({ id: table.id, name: table.name, fields, primary: fields[0]?.name ?? "" }), [table, fields]);
  const workspaceId = useBaseWorkspace(connectionId);
  const path = tablePath(baseId, table.id);
  const [params, setParams] = useSearchParams();
  const view = readView(params);
  const query = recordsQuery(view, fields);
  const viewKey = JSON.stringify(query);
  const setView = (next: View) => setParams(writeView(next, params));
  // Offsets of the pages seen, for Previous; a new view starts again at its first page.
  const [paging, setPaging] = useState<{ view: string; offsets: (string | undefined)[] }>({ view: viewKey, offsets: [undefined] });
  const offsets = paging.view === viewKey ? paging.offsets : [undefined];
  const offset = offsets[offsets.length - 1];
  const key = ["records", baseId, table.id, viewKey, offset ?? ""];
  const records = useQuery({ queryKey: key, queryFn: ({ signal }) => get<RecordPage>(`${path}/records`, { ...query, offset }, signal), placeholderData: keepPreviousData });

  const stage = useStage();
  const staging = stage.active && stage.baseId === baseId;
  const staged = stage.tables[table.id];
  const count = stage.baseId === baseId ? changeCount(stage) : 0;
  const [reviewing, setReviewing] = useState(false);
  const [toast, setToast] = useState<ToastMessage | null>(null);
  const [expanded, setExpanded] = useState<GridRow | "new" | null>(null);
  const [cellErrors, setCellErrors] = useState<Record<string, string>>({});
  const confirm = useConfirm();

  // Leaving the base with staged changes asks first (other tables of the base keep them).
  const blocker = useBlocker(({ nextLocation }) => count > 0 && !nextLocation.pathname.startsWith(`/bases/${baseId}/tables/`));
  useEffect(() => {
    if (blocker.state !== "blocked") return;
    confirm.ask({
      title: `Leave with ${count} staged change${count === 1 ? "" : "s"}?`,
      consequence: "They have not been committed and will be discarded.",
      confirmLabel: "Discard and leave",
      onConfirm: () => {
        stagedStore.set(emptyStage());
        blocker.proceed();
      },
      onCancel: () => blocker.reset(),
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [blocker.state]);
  useEffect(() => {
    if (count === 0) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [count]);

  const refresh = () => queryClient.invalidateQueries({ queryKey: ["records", baseId] });
  const loaded = records.data?.records ?? [];
  const rows: GridRow[] = [
    ...loaded.map((record) => {
      const s = staged?.records[record.id];
      return s ? { key: record.id, fields: { ...record.fields, ...s.changes }, status: s.deleted ? ("deleted" as const) : undefined, changed: new Set(Object.keys(s.changes)) } : { key: record.id, fields: record.fields };
    }),
    ...(staged?.order ?? []).filter(isNewKey).map((k) => ({ key: k, fields: staged!.records[k].changes, status: "new" as const, changed: new Set(Object.keys(staged!.records[k].changes)) })),
  ];
  const originalOf = (row: GridRow) => loaded.find((r) => r.id === row.key)?.fields ?? {};
  const nameOf = (row: GridRow) => formatValue(fields[0], row.fields[fields[0]?.name]) || (row.status === "new" ? "the new record" : row.key);

  // Outside a stage an edit is one PATCH of that one field (no typecast: only valid values reach it).
  const save = useMutation({
    mutationFn: ({ row, values }: { row: GridRow; values: Record<string, unknown> }) => patch<RecordOut>(`${path}/records/${row.key}`, { fields: values } satisfies OneRecord),
    onMutate: ({ row, values }) => setCellErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !Object.keys(values).some((f) => k === `${row.key}/${f}`)))),
    onSuccess: (saved) => {
      queryClient.setQueryData<RecordPage>(key, (page) => page && { ...page, records: page.records.map((r) => (r.id === saved.id ? saved : r)) });
      void queryClient.invalidateQueries({ queryKey: ["records", baseId], refetchType: "none" });
      setExpanded(null);
    },
    onError: (error, { row, values }) => setCellErrors((e) => ({ ...e, ...Object.fromEntries(Object.keys(values).map((f) => [`${row.key}/${f}`, error instanceof Error ? error.message : "Not saved."])) })),
  });
  const create = useMutation({
    mutationFn: (values: Record<string, unknown>) => api("POST", `${path}/records`, { body: { records: [{ fields: values }] } satisfies NewRecords, headers: { "Idempotency-Key": crypto.randomUUID() } }),
    onSuccess: () => {
      setExpanded(null);
      void refresh();
    },
  });

  const undoAction = (sagaId: string, done: string) => ({
    label: "Undo",
    run: () => {
      setToast({ text: "Undoing…" });
      undoTransaction(sagaId, () => undefined, (seconds) => setToast({ text: `Airtable is busy with this base: undoing in ${seconds} s…` }))
        .then((saga) => setToast({ text: saga.status === "undone" ? done : `The undo ended ${saga.status}.` }))
        .catch((error: unknown) => setToast({ text: error instanceof ApiError && error.status === 409 ? `Not undone: ${error.message}` : error instanceof Error ? error.message : "The undo failed." }))
        .finally(() => void refresh());
    },
  });

  // Outside a stage a delete runs as a one-operation transaction, so its toast can undo it.
  const deleteNow = async (row: GridRow) => {
    setToast({ text: `Deleting ${nameOf(row)}…` });
    try {
      const key = crypto.randomUUID();
      const { saga_id } = await waitingOutRateLimit(
        () => startTransaction(baseId, [{ action: "delete", table: table.id, records: [{ id: row.key }], typecast: false }], key, workspaceId),
        (seconds) => setToast({ text: `Airtable is busy with this base: deleting ${nameOf(row)} in ${seconds} s…` }),
      );
      const saga = await follow(saga_id, () => undefined);
      setToast(saga.status === "succeeded" ? { text: `Deleted ${nameOf(row)}.`, action: undoAction(saga_id, `${nameOf(row)} is back.`) } : { text: `Not deleted: the transaction ended ${saga.status}.` });
    } catch (error) {
      setToast({ text: error instanceof Error ? error.message : "Not deleted." });
    }
    void refresh();
  };

  const onCommit = (row: GridRow, field: FieldOut, value: unknown) => {
    if (staging) stagedStore.update((s) => stageEdit(s, stagedTable, row.key, originalOf(row), field.name, value));
    else if (!save.isPending) save.mutate({ row, values: { [field.name]: value } });
  };
  const startStaging = () => {
    if (stage.baseId && stage.baseId !== baseId && changeCount(stage) > 0)
      confirm.ask({ title: "Discard the changes staged in another base?", consequence: `${changeCount(stage)} staged change(s) of the other base are lost.`, confirmLabel: "Discard them", onConfirm: () => stagedStore.set({ ...emptyStage(), baseId, active: true }) });
    else stagedStore.set({ ...emptyStage(), baseId, active: true });
  };
  const problemsOf = (row: GridRow, field: string) => {
    const cell = stage.problems[`${table.id}/${row.key}/${field}`] ?? [];
    const whole = field === fields[0]?.name || row.changed?.has(field) ? stage.problems[`${table.id}/${row.key}`] ?? [] : [];
    return [...cell, ...whole];
  };

  const pageIndex = offsets.length - 1;
  const more = Boolean(records.data?.offset);
  const firstNumber = pageIndex * view.pageSize + 1;
  const newRows = rows.filter((r) => r.status === "new").length;
  const footer = !records.data
    ? ""
    : !more
      ? `${firstNumber - 1 + loaded.length} record${firstNumber - 1 + loaded.length === 1 ? "" : "s"}${pageIndex > 0 ? ` (page ${pageIndex + 1})` : ""}`
      : `${loaded.length} records loaded (${firstNumber}–${firstNumber + loaded.length - 1}); more on the next page (Airtable gives no total)`;

  return (
    <>
      <PageHeader title={table.name} description={`${fields.length} fields${staging ? " · staging changes" : ""}`}>
        <button type="button" className="button primary" onClick={() => (staging ? stagedStore.update((s) => stageNewRow(s, stagedTable)[0]) : setExpanded("new"))}>
          Add record
        </button>
        {!staging && (
          <button type="button" className="button secondary" onClick={startStaging}>
            Stage changes
          </button>
        )}
      </PageHeader>
      {tables.length > 1 && (
        <nav aria-label="Tables of this base" className="table-tabs">
          {tables.map((t) => (
            <Link key={t.id} to={`/bases/${baseId}/tables/${t.id}`} aria-current={t.id === table.id ? "page" : undefined}>
              {t.name}
              {stage.baseId === baseId && stage.tables[t.id] ? ` (${stage.tables[t.id].order.length} staged)` : ""}
            </Link>
          ))}
        </nav>
      )}
      {staging && (
        <div className="stage-bar" role="region" aria-label="Staged changes">
          <span>
            <strong>Staging:</strong> {count} change{count === 1 ? "" : "s"} kept in this browser, written together on commit.
          </span>
          <button type="button" className="button primary small" onClick={() => setReviewing(true)}>
            Review
          </button>
          <button
            type="button"
            className="button secondary small"
            onClick={() =>
              count === 0
                ? stagedStore.set(emptyStage())
                : confirm.ask({ title: `Discard ${count} staged change${count === 1 ? "" : "s"}?`, consequence: "Nothing has been written; the staged edits, new rows and deletions are dropped.", confirmLabel: "Discard", onConfirm: () => stagedStore.set(emptyStage()) })
            }
          >
            {count === 0 ? "Stop staging" : "Discard"}
          </button>
        </div>
      )}
      {staging && reviewing && (
        <ReviewPanel
          stage={stage}
          workspaceId={workspaceId}
          onClose={() => setReviewing(false)}
          onCommitted={(sagaId, n) => {
            setReviewing(false);
            void refresh();
            setToast({ text: `Committed ${n} change${n === 1 ? "" : "s"}.`, action: undoAction(sagaId, `Undone: the ${n} change${n === 1 ? " is" : "s are"} reverted.`) });
          }}
        />
      )}
      <ViewControls fields={fields} view={view} onChange={setView} />
      <QueryView query={records} loadingLabel="Loading records…">
        {() => (
          <>
            {rows.length === 0 ? (
              <Empty title={view.filters.length ? "No records match these filters." : "This table has no records yet."} />
            ) : (
              <Grid
                label={`${table.name} records`}
                fields={fields}
                rows={rows}
                firstNumber={firstNumber}
                linked={linked}
                problems={problemsOf}
                saving={save.isPending ? `${save.variables?.row.key}/${Object.keys(save.variables?.values ?? {})[0]}` : null}
                cellErrors={cellErrors}
                onCommit={onCommit}
                onExpand={setExpanded}
                onDelete={(row) => (staging ? stagedStore.update((s) => stageDelete(s, stagedTable, row.key, originalOf(row))) : void deleteNow(row))}
                onRestore={(row) => stagedStore.update((s) => unstageDelete(s, stagedTable, row.key))}
              />
            )}
            <div className="grid-footer">
              <span aria-live="polite">
                {footer}
                {newRows > 0 ? ` + ${newRows} new (staged)` : ""}
                {records.isFetching ? " · updating…" : ""}
              </span>
              <button type="button" className="button secondary small" disabled={pageIndex === 0} onClick={() => setPaging({ view: viewKey, offsets: offsets.slice(0, -1) })}>
                Previous
              </button>
              <button type="button" className="button secondary small" disabled={!more} onClick={() => setPaging({ view: viewKey, offsets: [...offsets, records.data?.offset ?? undefined] })}>
                Next
              </button>
            </div>
          </>
        )}
      </QueryView>
      {expanded && (
        <RecordForm
          title={expanded === "new" ? `New ${table.name} record` : nameOf(expanded)}
          fields={fields}
          values={expanded === "new" ? {} : expanded.fields}
          linked={linked}
          busy={save.isPending || create.isPending}
          error={(save.error ?? create.error)?.message}
          onClose={() => setExpanded(null)}
          onSave={(changes) => {
            if (expanded === "new") create.mutate(changes);
            else if (Object.keys(changes).length === 0) setExpanded(null);
            else if (staging) {
              stagedStore.update((s) => Object.entries(changes).reduce((acc, [name, value]) => stageEdit(acc, stagedTable, expanded.key, originalOf(expanded), name, value), s));
              setExpanded(null);
            } else save.mutate({ row: expanded, values: changes });
          }}
          onDelete={
            expanded === "new"
              ? undefined
              : () => {
                  const row = expanded;
                  setExpanded(null);
                  if (staging) stagedStore.update((s) => stageDelete(s, stagedTable, row.key, originalOf(row)));
                  else void deleteNow(row);
                }
          }
        />
      )}
      {confirm.dialog}
      <Toast toast={toast} onClose={() => setToast(null)} />
    </>
  );
}
