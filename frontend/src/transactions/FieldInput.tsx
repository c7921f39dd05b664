import { useId, useState } from "react";
import type { FieldOut } from "../api/types";
import { choicesOf, editText, parseText } from "../grid/fields";
import { RecordPicker } from "./RecordPicker";

const INPUT_TYPE: Record<string, string> = { email: "email", url: "url", phoneNumber: "tel", date: "date", dateTime: "datetime-local" };
// Numbers are typed as text so that a typo is reported rather than silently emptied.
const NUMERIC = new Set(["number", "currency", "percent", "rating", "duration"]);

/** One typed input for an Airtable field, labelled with the field's name: selects offer the
 * field's choices only, numbers and addresses are checked as typed. `onChange(undefined)`
 * leaves the field out of the record. */
export function FieldInput({ field, value, onChange, baseId, linkedTable }: { field: FieldOut; value: unknown; onChange: (value: unknown) => void; baseId: string; linkedTable?: { id: string; name: string; primary: string } }) {
  const id = useId();
  const [text, setText] = useState(() => editText(field, value));
  const [error, setError] = useState<string | null>(null);
  const errorId = `${id}-error`;
  const choices = choicesOf(field).map((c) => c.name);
  const commit = (raw: string) => {
    setText(raw);
    // The grid's rules: a typo is refused in words, never sent for Airtable to typecast.
    const parsed = parseText(field, raw);
    setError(parsed.ok ? null : parsed.error);
    if (parsed.ok) onChange(parsed.value ?? undefined);
  };
  if (field.type === "checkbox")
    return (
      <div className="field checkbox">
        <label>
          <input type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked || undefined)} /> {field.name}
        </label>
      </div>
    );
  if (field.type === "singleSelect")
    return (
      <div className="field">
        <label htmlFor={id}>{field.name}</label>
        <select id={id} value={typeof value === "string" ? value : ""} onChange={(e) => onChange(e.target.value || undefined)}>
          <option value="">(not set)</option>
          {choices.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </div>
    );
  if (field.type === "multipleSelects") {
    const chosen = Array.isArray(value) ? (value as string[]) : [];
    return (
      <fieldset className="field choices">
        <legend className="label">{field.name}</legend>
        {choices.map((c) => (
          <label key={c} className="checkbox-inline">
            <input type="checkbox" checked={chosen.includes(c)} onChange={(e) => onChange(e.target.checked ? [...chosen, c] : chosen.filter((v) => v !== c))} /> {c}
          </label>
        ))}
      </fieldset>
    );
  }
  if (field.type === "multipleRecordLinks" && linkedTable) {
    const ids = Array.isArray(value) ? (value as string[]) : [];
    return (
      <fieldset className="field choices">
        <legend className="label">
          {field.name} <span className="muted small">(records of {linkedTable.name})</span>
        </legend>
        {ids.length > 0 && (
          <ul className="inline-list">
            {ids.map((rid) => (
              <li key={rid}>
                <code>{rid}</code>{" "}
                <button type="button" className="button link small" aria-label={`Unlink ${rid} from ${field.name}`} onClick={() => onChange(ids.filter((v) => v !== rid))}>
                  Unlink
                </button>
              </li>
            ))}
          </ul>
        )}
        <RecordPicker baseId={baseId} table={linkedTable.id} tableName={linkedTable.name} primary={linkedTable.primary} label={`Link a record of ${linkedTable.name} to ${field.name}`} onPick={(picked) => onChange(ids.includes(picked.id) ? ids : [...ids, picked.id])} />
      </fieldset>
    );
  }
  const multiline = field.type === "multilineText" || field.type === "richText";
  const common = {
    id,
    value: text,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": error ? errorId : undefined,
    onChange: (e: { target: { value: string } }) => commit(e.target.value),
  };
  return (
    <div className="field">
      <label htmlFor={id}>
        {field.name}
        {field.type === "percent" ? " (%)" : ""}
      </label>
      {multiline ? <textarea rows={3} {...common} /> : <input type={INPUT_TYPE[field.type] ?? "text"} inputMode={NUMERIC.has(field.type) ? "decimal" : undefined} {...common} />}
      {error && (
        <small id={errorId} className="field-error">
          {error}
        </small>
      )}
    </div>
  );
}
