import { useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { api, del, get, patch } from "../api/client";
import { displayValue, fetchBases, fetchSchema, isEditable, isNumeric, parseValue, tablePath, type AirtableRecord, type Field, type RecordsPage } from "../api/airtable";
import { Empty, ErrorMessage, Loading, PageHeader, QueryView, SelectField, TextField, itemsOf } from "../components/ui";

const PAGE_SIZES = [25, 50, 100];

interface Sort {
  field: string;
  desc: boolean;
}

export function RecordsPage() {
  const { baseId = "", tableId = "" } = useParams();
  const schema = useQuery({ queryKey: ["schema", baseId], queryFn: () => fetchSchema(baseId) });
  const bases = useQuery({ queryKey: ["bases"], queryFn: fetchBases });
  const table = schema.data?.tables.find((t) => t.id === tableId || t.name === tableId);
  const baseName = itemsOf(bases.data).find((b) => b.id === baseId)?.name ?? baseId;
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <Link to="/bases">Bases</Link> <span aria-hidden="true">›</span> <Link to={`/bases/${baseId}`}>{baseName}</Link> <span aria-hidden="true">›</span> <span>{table?.name ?? tableId}</span>
      </nav>
      <QueryView query={schema} loadingLabel="Loading the table…">
        {() => (table ? <Grid baseId={baseId} tableId={table.id} tableName={table.name} fields={table.fields} /> : <Empty title="This table does not exist in the base." />)}
      </QueryView>
    </>
  );
}

function Grid({ baseId, tableId, tableName, fields }: { baseId: string; tableId: string; tableName: string; fields: Field[] }) {
  const queryClient = useQueryClient();
  const [pageSize, setPageSize] = useState(25);
  const [offsets, setOffsets] = useState<(string | undefined)[]>([undefined]);
  const [sort, setSort] = useState<Sort | null>(null);
  const [filter, setFilter] = useState<{ field: string; value: string } | null>(null);
  const [adding, setAdding] = useState(false);
  const offset = offsets[offsets.length - 1];
  const path = tablePath(baseId, tableId);
  const key = ["records", baseId, tableId, { pageSize, offset, sort, filter }] as const;
  const records = useQuery({
    queryKey: key,
    queryFn: ({ signal }) =>
      get<RecordsPage>(
        `${path}/records`,
        {
          page_size: pageSize,
          offset,
          sort: sort ? `${sort.desc ? "-" : ""}${sort.field}` : undefined,
          filter: filter ? JSON.stringify({ [filter.field]: parseValue(fields.find((f) => f.name === filter.field) ?? fields[0], filter.value) }) : undefined,
        },
        signal,
      ),
    placeholderData: keepPreviousData,
  });
  const resetPaging = () => setOffsets([undefined]);
  const invalidate = () => queryClient.invalidateQueries({ queryKey: ["records", baseId, tableId] });
  const toggleSort = (field: string) => {
    setSort((current) => (current?.field !== field ? { field, desc: false } : current.desc ? null : { field, desc: true }));
    resetPaging();
  };
  const pageNumber = offsets.length;
  return (
    <>
      <PageHeader title={tableName} description={`${fields.length} fields`}>
        <button type="button" className="button primary" onClick={() => setAdding(true)} disabled={adding}>
          Add record
        </button>
      </PageHeader>
      <FilterBar
        fields={fields}
        active={filter}
        onApply={(next) => {
          setFilter(next);
          resetPaging();
        }}
      />
      {adding && (
        <NewRecordForm
          path={path}
          fields={fields}
          onDone={(created) => {
            setAdding(false);
            if (created) invalidate();
          }}
        />
      )}
      <QueryView query={records} loadingLabel="Loading records…">
        {(data) => (
          <>
            <div className="table-scroll" role="region" aria-label={`${tableName} records`} tabIndex={0}>
              <table className="table grid" aria-busy={records.isFetching}>
                <thead>
                  <tr>
                    {fields.map((field) => {
                      const sorted = sort?.field === field.name ? (sort.desc ? "descending" : "ascending") : "none";
                      return (
                        <th key={field.id} scope="col" aria-sort={sorted} className={isNumeric(field) ? "num" : undefined}>
                          <button type="button" className="sort-button" onClick={() => toggleSort(field.name)} title={`Sort by ${field.name}`}>
                            {field.name}
                            <span aria-hidden="true" className="sort-mark">
                              {sorted === "ascending" ? "▲" : sorted === "descending" ? "▼" : ""}
                            </span>
                          </button>
                        </th>
                      );
                    })}
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.records.length === 0 ? (
                    <tr>
                      <td colSpan={fields.length + 1}>
                        <Empty title={filter ? "No records match this filter." : "This table has no records yet."} />
                      </td>
                    </tr>
                  ) : (
                    data.records.map((record) => (
                      <Row
                        key={record.id}
                        record={record}
                        fields={fields}
                        path={path}
                        onSaved={(saved) => {
                          queryClient.setQueryData<RecordsPage>(key, (page) => page && { ...page, records: page.records.map((r) => (r.id === saved.id ? saved : r)) });
                          void queryClient.invalidateQueries({ queryKey: ["records", baseId, tableId], refetchType: "none" });
                        }}
                        onDeleted={invalidate}
                      />
                    ))
                  )}
                </tbody>
              </table>
            </div>
            <div className="pager">
              <SelectField
                label="Rows per page"
                value={pageSize}
                onChange={(e) => {
                  setPageSize(Number(e.target.value));
                  resetPaging();
                }}
              >
                {PAGE_SIZES.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </SelectField>
              <span className="muted" aria-live="polite">
                Page {pageNumber}
                {records.isFetching ? " · updating…" : ""}
              </span>
              <button type="button" className="button secondary" disabled={pageNumber === 1} onClick={() => setOffsets((o) => o.slice(0, -1))}>
                Previous
              </button>
              <button type="button" className="button secondary" disabled={!data.offset} onClick={() => setOffsets((o) => [...o, data.offset ?? undefined])}>
                Next
              </button>
            </div>
          </>
        )}
      </QueryView>
    </>
  );
}

function FilterBar({ fields, active, onApply }: { fields: Field[]; active: { field: string; value: string } | null; onApply: (f: { field: string; value: string } | null) => void }) {
  const filterable = fields.filter(isEditable);
  const [field, setField] = useState(active?.field ?? filterable[0]?.name ?? "");
  const [value, setValue] = useState(active?.value ?? "");
  if (filterable.length === 0) return null;
  return (
    <form
      className="filter-bar"
      role="search"
      aria-label="Filter records"
      onSubmit={(e) => {
        e.preventDefault();
        onApply(value.trim() ? { field, value: value.trim() } : null);
      }}
    >
      <SelectField label="Filter field" value={field} onChange={(e) => setField(e.target.value)}>
        {filterable.map((f) => (
          <option key={f.id} value={f.name}>
            {f.name}
          </option>
        ))}
      </SelectField>
      <TextField label="equals" value={value} onChange={(e) => setValue(e.target.value)} placeholder="Value" />
      <button type="submit" className="button secondary">
        Apply filter
      </button>
      {active && (
        <button
          type="button"
          className="button link"
          onClick={() => {
            setValue("");
            onApply(null);
          }}
        >
          Clear filter ({active.field} = {active.value})
        </button>
      )}
    </form>
  );
}

function NewRecordForm({ path, fields, onDone }: { path: string; fields: Field[]; onDone: (created: boolean) => void }) {
  const editable = fields.filter(isEditable);
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  // One key per form: a retried submit after a lost answer does not create the record twice.
  const idempotencyKey = useMemo(() => crypto.randomUUID(), []);
  const create = useMutation({
    mutationFn: () => {
      const out: Record<string, unknown> = {};
      for (const field of editable) {
        const raw = values[field.name];
        if (raw === undefined || raw === "") continue;
        out[field.name] = parseValue(field, raw);
      }
      return api("POST", `${path}/records`, { body: { records: [{ fields: out }], typecast: true }, headers: { "Idempotency-Key": idempotencyKey } });
    },
    onSuccess: () => onDone(true),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form className="card new-record" onSubmit={submit} aria-labelledby="new-record-heading">
      <h2 id="new-record-heading">New record</h2>
      <div className="form-grid">
        {editable.map((field, i) =>
          field.type === "checkbox" ? (
            <div className="field checkbox" key={field.id}>
              <label>
                <input type="checkbox" checked={Boolean(values[field.name])} onChange={(e) => setValues({ ...values, [field.name]: e.target.checked })} /> {field.name}
              </label>
            </div>
          ) : (
            <TextField
              key={field.id}
              label={field.name}
              autoFocus={i === 0}
              inputMode={isNumeric(field) ? "decimal" : undefined}
              type={field.type === "email" ? "email" : field.type === "date" ? "date" : "text"}
              value={String(values[field.name] ?? "")}
              onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
              hint={field.type === "multipleSelects" ? "Comma-separated" : field.type === "singleSelect" ? selectHint(field) : undefined}
            />
          ),
        )}
      </div>
      {create.isError && <ErrorMessage error={create.error} />}
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={create.isPending}>
          {create.isPending ? "Saving…" : "Save record"}
        </button>
        <button type="button" className="button secondary" onClick={() => onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function selectHint(field: Field): string | undefined {
  const choices = (field.options?.choices as { name: string }[] | undefined)?.map((c) => c.name);
  return choices?.length ? `One of: ${choices.join(", ")}` : undefined;
}

function Row({ record, fields, path, onSaved, onDeleted }: { record: AirtableRecord; fields: Field[]; path: string; onSaved: (r: AirtableRecord) => void; onDeleted: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation({ mutationFn: () => del(`${path}/records/${record.id}`), onSuccess: onDeleted });
  const primary = displayValue(record.fields[fields[0]?.name]) || record.id;
  return (
    <tr>
      {fields.map((field) => (
        <Cell key={field.id} record={record} field={field} path={path} onSaved={onSaved} />
      ))}
      <td className="row-actions">
        {remove.isError && <ErrorMessage error={remove.error} />}
        {remove.isPending ? (
          <Loading label="Deleting…" />
        ) : confirming ? (
          <>
            <button type="button" className="button danger small" onClick={() => remove.mutate()} autoFocus>
              Confirm delete
            </button>
            <button type="button" className="button link small" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </>
        ) : (
          <button type="button" className="button link small" onClick={() => setConfirming(true)} aria-label={`Delete ${primary}`}>
            Delete
          </button>
        )}
      </td>
    </tr>
  );
}

function Cell({ record, field, path, onSaved }: { record: AirtableRecord; field: Field; path: string; onSaved: (r: AirtableRecord) => void }) {
  const value = record.fields[field.name];
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState("");
  const cellButton = useRef<HTMLButtonElement>(null);
  const save = useMutation({
    mutationFn: (next: unknown) => patch<AirtableRecord>(`${path}/records/${record.id}`, { fields: { [field.name]: next }, typecast: true }),
    onSuccess: (saved) => {
      setEditing(false);
      onSaved(saved);
      requestAnimationFrame(() => cellButton.current?.focus());
    },
  });
  const className = isNumeric(field) ? "num" : undefined;
  if (!isEditable(field)) return <td className={className}>{displayValue(value)}</td>;
  if (field.type === "checkbox")
    return (
      <td>
        <input type="checkbox" aria-label={`${field.name} of ${record.id}`} checked={Boolean(value)} disabled={save.isPending} onChange={(e) => save.mutate(e.target.checked)} />
        {save.isError && <ErrorMessage error={save.error} />}
      </td>
    );
  if (editing) {
    const commit = () => {
      if (draft === displayValue(value)) setEditing(false);
      else save.mutate(parseValue(field, draft));
    };
    const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
      if (e.key === "Enter") {
        e.preventDefault();
        commit();
      } else if (e.key === "Escape") {
        setEditing(false);
        save.reset();
        requestAnimationFrame(() => cellButton.current?.focus());
      }
    };
    return (
      <td className={`${className ?? ""} editing`}>
        <input
          className="cell-input"
          aria-label={`${field.name}, press Enter to save or Escape to cancel`}
          value={draft}
          autoFocus
          disabled={save.isPending}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKey}
          onBlur={() => !save.isError && commit()}
        />
        {save.isError && <ErrorMessage error={save.error} />}
      </td>
    );
  }
  return (
    <td className={className}>
      <button
        ref={cellButton}
        type="button"
        className="cell-button"
        aria-label={`${field.name}: ${displayValue(value) || "empty"}. Edit`}
        onClick={() => {
          setDraft(displayValue(value));
          setEditing(true);
          save.reset();
        }}
      >
        {displayValue(value) || <span className="muted">—</span>}
      </button>
    </td>
  );
}
