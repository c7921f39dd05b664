// Filters (field, operator, value; all must hold), sorts on several fields and the page size
// of a grid's view. The view lives in the URL; this only edits it.
import { useEffect, useState } from "react";
import type { FieldOut } from "../api/types";
import { choicesOf, editorKind } from "./fields";
import { OPERATORS, PAGE_SIZES, type Condition, type Operator, type View } from "./view";

export function ViewControls({ fields, view, onChange }: { fields: FieldOut[]; view: View; onChange: (view: View) => void }) {
  // Conditions are edited here and applied together, so typing a value does not reload per key.
  const [filters, setFilters] = useState<Condition[]>(view.filters);
  const applied = JSON.stringify(view.filters);
  useEffect(() => setFilters(JSON.parse(applied) as Condition[]), [applied]);
  const dirty = JSON.stringify(filters) !== applied;
  const first = fields[0]?.name ?? "";
  const setFilter = (i: number, patch: Partial<Condition>) => setFilters(filters.map((c, j) => (j === i ? { ...c, ...patch } : c)));
  const unsorted = fields.filter((f) => !view.sorts.some((s) => s.field === f.name));
  return (
    <div className="view-controls">
      <form
        className="card"
        role="search"
        aria-label="Filter records"
        onSubmit={(e) => {
          e.preventDefault();
          onChange({ ...view, filters });
        }}
      >
        <h2 className="small">Filters {view.filters.length > 0 && <span className="muted">({view.filters.length} applied, all must hold)</span>}</h2>
        {filters.map((c, i) => {
          const field = fields.find((f) => f.name === c.field);
          const choices = field && (editorKind(field) === "singleSelect" || editorKind(field) === "multipleSelects") ? choicesOf(field) : [];
          return (
            <div className="view-row" key={i}>
              <span className="muted">{i === 0 ? "Where" : "and"}</span>
              <select aria-label={`Condition ${i + 1} field`} value={c.field} onChange={(e) => setFilter(i, { field: e.target.value, value: "" })}>
                {fields.map((f) => (
                  <option key={f.id} value={f.name}>
                    {f.name}
                  </option>
                ))}
              </select>
              <select aria-label={`Condition ${i + 1} operator`} value={c.op} onChange={(e) => setFilter(i, { op: e.target.value as Operator })}>
                {OPERATORS.map((o) => (
                  <option key={o.op} value={o.op}>
                    {o.label}
                  </option>
                ))}
              </select>
              {c.op !== "is_empty" &&
                (choices.length > 0 && c.op !== "contains" ? (
                  <select aria-label={`Condition ${i + 1} value`} value={c.value} onChange={(e) => setFilter(i, { value: e.target.value })}>
                    <option value="">Choose…</option>
                    {choices.map((choice) => (
                      <option key={choice.name}>{choice.name}</option>
                    ))}
                  </select>
                ) : (
                  <input aria-label={`Condition ${i + 1} value`} value={c.value} inputMode={field && editorKind(field) === "number" ? "decimal" : undefined} onChange={(e) => setFilter(i, { value: e.target.value })} />
                ))}
              <button type="button" className="button link small" aria-label={`Remove condition ${i + 1}`} onClick={() => setFilters(filters.filter((_, j) => j !== i))}>
                Remove
              </button>
            </div>
          );
        })}
        <div className="view-row">
          <button type="button" className="button secondary small" onClick={() => setFilters([...filters, { field: first, op: "is", value: "" }])}>
            Add condition
          </button>
          <button type="submit" className="button primary small" disabled={!dirty}>
            Apply filters
          </button>
        </div>
      </form>
      <div className="card">
        <h2 className="small">Sort</h2>
        {view.sorts.map((s, i) => (
          <div className="view-row" key={s.field}>
            <span className="muted">{i === 0 ? "By" : "then by"}</span>
            <strong>{s.field}</strong>
            <select aria-label={`Sort ${i + 1} direction`} value={s.desc ? "desc" : "asc"} onChange={(e) => onChange({ ...view, sorts: view.sorts.map((t, j) => (j === i ? { ...t, desc: e.target.value === "desc" } : t)) })}>
              <option value="asc">ascending</option>
              <option value="desc">descending</option>
            </select>
            <button type="button" className="button link small" aria-label={`Remove sort by ${s.field}`} onClick={() => onChange({ ...view, sorts: view.sorts.filter((_, j) => j !== i) })}>
              Remove
            </button>
          </div>
        ))}
        <div className="view-row">
          {unsorted.length > 0 && (
            <select aria-label="Add a sort field" value="" onChange={(e) => e.target.value && onChange({ ...view, sorts: [...view.sorts, { field: e.target.value, desc: false }] })}>
              <option value="">Add a sort…</option>
              {unsorted.map((f) => (
                <option key={f.id} value={f.name}>
                  {f.name}
                </option>
              ))}
            </select>
          )}
          <label>
            Rows per page{" "}
            <select value={view.pageSize} onChange={(e) => onChange({ ...view, pageSize: Number(e.target.value) })}>
              {PAGE_SIZES.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
    </div>
  );
}
