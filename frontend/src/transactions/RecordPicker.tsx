import { useEffect, useId, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { get } from "../api/client";
import { displayValue, tablePath } from "../api/airtable";
import type { RecordPage } from "../api/types";
import { searchFormula } from "./draft";

/** Finds a record of a table by its primary field: type part of it, choose among the first
 * ten matches. */
export function RecordPicker({ baseId, table, tableName, primary, label, onPick }: { baseId: string; table: string; tableName: string; primary: string; label: string; onPick: (picked: { id: string; label: string }) => void }) {
  const id = useId();
  const [term, setTerm] = useState("");
  const [searched, setSearched] = useState("");
  // Searching as one types, a moment after the last key: one request per pause, not per key.
  useEffect(() => {
    const timer = setTimeout(() => setSearched(term.trim()), 300);
    return () => clearTimeout(timer);
  }, [term]);
  const found = useQuery({
    queryKey: ["record-search", baseId, table, primary, searched],
    queryFn: () => get<RecordPage>(`${tablePath(baseId, table)}/records`, { page_size: 10, max_records: 10, fields: [primary], ...(searched ? { formula: searchFormula(primary, searched) } : {}) }),
    enabled: Boolean(baseId && table && primary),
  });
  const records = found.data?.records ?? [];
  return (
    <div className="record-picker">
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <input id={id} type="search" value={term} placeholder={`Search ${tableName} by ${primary}`} onChange={(e) => setTerm(e.target.value)} aria-describedby={`${id}-count`} />
        <small id={`${id}-count`} className="muted" aria-live="polite">
          {found.isFetching ? "Searching…" : found.isError ? "The search failed." : `${records.length === 10 ? "The first 10" : records.length} match${records.length === 1 ? "" : "es"}`}
        </small>
      </div>
      {records.length > 0 && (
        <ul className="picker-results" aria-label={`Records of ${tableName} matching the search`}>
          {records.map((r) => {
            const name = displayValue(r.fields[primary]) || r.id;
            return (
              <li key={r.id}>
                <button type="button" className="button secondary small" onClick={() => onPick({ id: r.id, label: name })}>
                  Choose {name}
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
