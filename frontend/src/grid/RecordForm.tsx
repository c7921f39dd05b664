// A record's full form (opened from its row number): every field with its own control, the
// same parsing as the grid's cells, computed fields shown read-only.
import { useEffect, useId, useRef, useState } from "react";
import type { FieldOut } from "../api/types";
import { CellValue, type LinkedTable } from "./editors";
import { choicesOf, editText, editorKind, isWritable, parseText, sameValue, toggleChoice } from "./fields";

export function RecordForm({ title, fields, values, linked, busy, error, onSave, onDelete, onClose }: {
  title: string;
  fields: FieldOut[];
  values: Record<string, unknown>;
  linked: Record<string, LinkedTable>;
  busy?: boolean;
  error?: string | null;
  onSave: (changes: Record<string, unknown>) => void;
  onDelete?: () => void;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const headingId = useId();
  const [texts, setTexts] = useState<Record<string, string>>(() => Object.fromEntries(fields.map((f) => [f.name, editText(f, values[f.name])])));
  const [others, setOthers] = useState<Record<string, unknown>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  useEffect(() => {
    const d = dialog.current;
    const opener = document.activeElement as HTMLElement | null;
    d?.showModal();
    return () => opener?.focus();
  }, []);
  const submit = () => {
    const changes: Record<string, unknown> = {};
    const problems: Record<string, string> = {};
    for (const field of fields.filter(isWritable)) {
      const kind = editorKind(field);
      let value: unknown;
      if (field.name in others) value = others[field.name];
      else if (["checkbox", "singleSelect", "multipleSelects", "links"].includes(kind)) continue;
      else {
        const parsed = parseText(field, texts[field.name] ?? "");
        if (!parsed.ok) {
          problems[field.name] = parsed.error;
          continue;
        }
        value = parsed.value;
      }
      if (!sameValue(values[field.name], value)) changes[field.name] = value;
    }
    setErrors(problems);
    if (Object.keys(problems).length === 0) onSave(changes);
  };
  return (
    <dialog ref={dialog} className="record-dialog" aria-labelledby={headingId} onCancel={(e) => {
      e.preventDefault();
      onClose();
    }}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <h2 id={headingId}>{title}</h2>
        <div className="form-grid">
          {fields.map((field) => {
            const kind = editorKind(field);
            const id = `${headingId}-${field.id}`;
            const current = field.name in others ? others[field.name] : values[field.name];
            if (!isWritable(field))
              return (
                <div className="field" key={field.id}>
                  <span className="label">{field.name} <span className="muted small">({field.type}, read-only)</span></span>
                  <div><CellValue field={field} value={values[field.name]} linked={linked[field.name]} /></div>
                </div>
              );
            if (kind === "checkbox")
              return (
                <div className="field checkbox" key={field.id}>
                  <label>
                    <input type="checkbox" checked={Boolean(current)} onChange={(e) => setOthers({ ...others, [field.name]: e.target.checked })} /> {field.name}
                  </label>
                </div>
              );
            if (kind === "singleSelect")
              return (
                <div className="field" key={field.id}>
                  <label htmlFor={id}>{field.name}</label>
                  <select id={id} value={typeof current === "string" ? current : ""} onChange={(e) => setOthers({ ...others, [field.name]: e.target.value || null })}>
                    <option value="">(empty)</option>
                    {choicesOf(field).map((c) => (
                      <option key={c.name}>{c.name}</option>
                    ))}
                  </select>
                </div>
              );
            if (kind === "multipleSelects")
              return (
                <fieldset className="field" key={field.id}>
                  <legend>{field.name}</legend>
                  {choicesOf(field).map((c) => (
                    <label key={c.name} className="checkbox-inline">
                      <input type="checkbox" checked={Array.isArray(current) && (current as string[]).includes(c.name)} onChange={() => setOthers({ ...others, [field.name]: toggleChoice(field, current, c.name) })} /> {c.name}
                    </label>
                  ))}
                </fieldset>
              );
            if (kind === "links")
              return (
                <div className="field" key={field.id}>
                  <span className="label">{field.name}</span>
                  <div><CellValue field={field} value={current} linked={linked[field.name]} /> <span className="muted small">(edit links in the grid)</span></div>
                </div>
              );
            const errorId = `${id}-error`;
            const Input = kind === "longText" ? "textarea" : "input";
            return (
              <div className="field" key={field.id}>
                <label htmlFor={id}>{field.name}</label>
                <Input
                  id={id}
                  value={texts[field.name] ?? ""}
                  aria-invalid={errors[field.name] ? true : undefined}
                  aria-describedby={errors[field.name] ? errorId : undefined}
                  onChange={(e) => setTexts({ ...texts, [field.name]: e.target.value })}
                />
                {errors[field.name] && (
                  <small id={errorId} className="field-error">
                    {errors[field.name]}
                  </small>
                )}
              </div>
            );
          })}
        </div>
        {error && (
          <p className="state state-error" role="alert">
            {error}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="button primary" disabled={busy}>
            {busy ? "Saving…" : "Save"}
          </button>
          <button type="button" className="button secondary" onClick={onClose}>
            Close
          </button>
          {onDelete && (
            <button type="button" className="button danger" onClick={onDelete}>
              Delete record
            </button>
          )}
        </div>
      </form>
    </dialog>
  );
}
