// The cell editors a grid opens, one per kind of field (see fields.ts). Each calls `onCommit`
// at most once (a blur after Enter, or the input being removed, never commits twice) and
// `onCancel` on Escape; a value that does not parse is refused in the cell with a sentence.
import { useId, useMemo, useRef, useState, type CSSProperties, type KeyboardEvent, type ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { get } from "../api/client";
import { tablePath } from "../api/airtable";
import type { FieldOut, RecordPage } from "../api/types";
import { choiceColors, choicesOf, editText, editorKind, formatValue, parseText, toggleChoice } from "./fields";

export interface EditorProps {
  field: FieldOut;
  value: unknown;
  /** Text typed on the cell that opened the editor (replaces the value). */
  initialText?: string;
  /** Where a popup editor opens (the cell's rectangle). */
  anchor: DOMRect | null;
  onCommit: (value: unknown, move?: "next" | "prev") => void;
  onCancel: () => void;
  linked?: LinkedTable;
}

export interface LinkedTable {
  baseId: string;
  tableId: string;
  tableName: string;
  primary: string;
}

/** A guard so that Enter, Tab and the blur that follows them commit once. */
function useOnce() {
  const done = useRef(false);
  return (fn: () => void) => {
    if (done.current) return;
    done.current = true;
    fn();
  };
}

function popupStyle(anchor: DOMRect | null): CSSProperties {
  if (!anchor) return {};
  const width = Math.max(anchor.width, 240);
  const left = Math.max(4, Math.min(anchor.left, window.innerWidth - width - 4));
  const below = anchor.bottom + 2;
  const fitsBelow = below + 260 < window.innerHeight;
  return fitsBelow ? { position: "fixed", left, top: below, width } : { position: "fixed", left, bottom: window.innerHeight - anchor.top + 2, width };
}

export function CellEditor(props: EditorProps) {
  const kind = editorKind(props.field);
  if (kind === "singleSelect") return <ChoiceEditor {...props} multiple={false} />;
  if (kind === "multipleSelects") return <ChoiceEditor {...props} multiple />;
  if (kind === "links") return <LinkEditor {...props} />;
  if (kind === "longText") return <LongTextEditor {...props} />;
  return <TextEditor {...props} />;
}

const PLACEHOLDER: Record<string, string> = { date: "YYYY-MM-DD", dateTime: "YYYY-MM-DD HH:mm", email: "name@example.com", url: "https://…", phone: "+1 555 0100" };

function TextEditor({ field, value, initialText, onCommit, onCancel }: EditorProps) {
  const kind = editorKind(field);
  const [text, setText] = useState(initialText ?? editText(field, value));
  const [error, setError] = useState<string | null>(null);
  const once = useOnce();
  const errorId = useId();
  const commit = (move?: "next" | "prev") => {
    const parsed = parseText(field, text);
    if (!parsed.ok) {
      setError(parsed.error);
      return false;
    }
    once(() => onCommit(parsed.value, move));
    return true;
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      e.stopPropagation();
      commit(e.key === "Tab" ? (e.shiftKey ? "prev" : "next") : undefined);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      once(onCancel);
    } else e.stopPropagation();
  };
  return (
    <div className="cell-editor">
      <input
        className="cell-input"
        autoFocus
        aria-label={`${field.name}${PLACEHOLDER[kind] ? ` (${PLACEHOLDER[kind]})` : ""}`}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
        inputMode={kind === "number" ? "decimal" : kind === "phone" ? "tel" : kind === "email" ? "email" : kind === "url" ? "url" : undefined}
        placeholder={PLACEHOLDER[kind]}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setError(null);
        }}
        onKeyDown={onKey}
        // Leaving the cell commits a valid value and drops an invalid one (the cell keeps its value).
        onBlur={() => {
          if (!commit()) once(onCancel);
        }}
      />
      {error && (
        <p className="cell-error" id={errorId} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function LongTextEditor({ field, value, initialText, anchor, onCommit, onCancel }: EditorProps) {
  const [text, setText] = useState(initialText ?? editText(field, value));
  const once = useOnce();
  return (
    <div className="cell-popup long-text" style={{ ...popupStyle(anchor), width: Math.max(anchor?.width ?? 0, 360) }}>
      <textarea
        autoFocus
        rows={6}
        aria-label={`${field.name} (Shift+Enter for a new line)`}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          e.stopPropagation();
          if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") {
            e.preventDefault();
            once(() => onCommit(parseText(field, text).ok ? (text === "" ? null : text) : null, e.key === "Tab" ? (e.shiftKey ? "prev" : "next") : undefined));
          } else if (e.key === "Escape") {
            e.preventDefault();
            once(onCancel);
          }
        }}
        onBlur={() => once(() => onCommit(text === "" ? null : text))}
      />
      <p className="muted small">Enter saves, Shift+Enter adds a line, Escape cancels.</p>
    </div>
  );
}

export function Pill({ field, name }: { field: FieldOut; name: string }) {
  const choices = choicesOf(field);
  const index = choices.findIndex((c) => c.name === name);
  return (
    <span className="pill" style={choiceColors(choices[index], Math.max(index, 0))}>
      {name}
    </span>
  );
}

/** Single and multiple select: a listbox of the field's choices only, filtered by typing;
 * text that matches no choice is never written. */
function ChoiceEditor({ field, value, initialText, anchor, onCommit, onCancel, multiple }: EditorProps & { multiple: boolean }) {
  const choices = choicesOf(field);
  const [query, setQuery] = useState(initialText ?? "");
  const [chosen, setChosen] = useState<string[]>(() => (multiple ? (Array.isArray(value) ? (value as string[]) : []) : typeof value === "string" ? [value] : []));
  const matching = useMemo(() => choices.filter((c) => c.name.toLowerCase().includes(query.trim().toLowerCase())), [choices, query]);
  const [highlight, setHighlight] = useState(() => Math.max(0, matching.findIndex((c) => chosen.includes(c.name))));
  const once = useOnce();
  const listId = useId();
  const optionId = (i: number) => `${listId}-${i}`;
  const current = matching[Math.min(highlight, matching.length - 1)];
  const commitMulti = (move?: "next" | "prev") => once(() => onCommit(chosen.length ? chosen : null, move));
  const pick = (name: string | null) => {
    if (multiple) {
      if (name) setChosen((c) => toggleChoice(field, c, name));
      return;
    }
    once(() => onCommit(name));
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    e.stopPropagation();
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      setHighlight((h) => (matching.length ? (Math.min(h, matching.length - 1) + step + matching.length) % matching.length : 0));
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (multiple && (e.ctrlKey || e.metaKey)) commitMulti();
      else if (current) pick(current.name);
      else if (!multiple && query.trim() === "") pick(null);
    } else if (e.key === "Tab") {
      e.preventDefault();
      const move = e.shiftKey ? "prev" : "next";
      if (multiple) commitMulti(move);
      else once(() => onCommit(current && query.trim() ? current.name : chosen[0] ?? null, move));
    } else if (e.key === "Escape") {
      e.preventDefault();
      once(onCancel);
    } else if (e.key === "Backspace" && query === "" && multiple) {
      setChosen((c) => c.slice(0, -1));
    }
  };
  return (
    <div className="cell-popup choice-editor" style={popupStyle(anchor)} onMouseDown={(e) => e.target !== e.currentTarget && e.preventDefault()}>
      {multiple && chosen.length > 0 && (
        <div className="pills" aria-label={`${field.name}: chosen`}>
          {chosen.map((name) => (
            <button key={name} type="button" className="pill-remove" onClick={() => pick(name)} aria-label={`Remove ${name}`}>
              <Pill field={field} name={name} /> <span aria-hidden="true">×</span>
            </button>
          ))}
        </div>
      )}
      <input
        autoFocus
        role="combobox"
        aria-expanded="true"
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={current ? optionId(matching.indexOf(current)) : undefined}
        aria-label={`${field.name}: type to find a choice`}
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setHighlight(0);
        }}
        onKeyDown={onKey}
        onBlur={() => (multiple ? commitMulti() : once(onCancel))}
      />
      <ul role="listbox" id={listId} aria-label={`${field.name} choices`} aria-multiselectable={multiple || undefined}>
        {matching.map((c, i) => (
          <li
            key={c.name}
            id={optionId(i)}
            role="option"
            aria-selected={chosen.includes(c.name)}
            className={c === current ? "highlighted" : undefined}
            onClick={() => pick(c.name)}
          >
            <span className="check" aria-hidden="true">{chosen.includes(c.name) ? "✓" : ""}</span>
            <Pill field={field} name={c.name} />
          </li>
        ))}
      </ul>
      {matching.length === 0 && (
        <p className="cell-error" role="alert">
          No choice of {field.name} matches “{query}”. Only its choices can be chosen.
        </p>
      )}
      <p className="muted small">{multiple ? "Enter adds or removes a choice, Tab or Ctrl+Enter saves, Escape cancels." : "Enter chooses, Escape cancels."}</p>
      {!multiple && chosen.length > 0 && (
        <button type="button" className="button link small" onClick={() => pick(null)}>
          Clear {field.name}
        </button>
      )}
    </div>
  );
}

/** Linked records: the chosen ones as removable chips and a search over the linked table's
 * primary field. */
function LinkEditor({ value, anchor, onCommit, onCancel, linked, initialText }: EditorProps) {
  const [ids, setIds] = useState<string[]>(Array.isArray(value) ? (value as string[]) : []);
  const [query, setQuery] = useState(initialText ?? "");
  const [highlight, setHighlight] = useState(0);
  const once = useOnce();
  const names = useLinkedNames(linked, ids);
  const results = useQuery({
    queryKey: ["link-search", linked?.tableId, query],
    enabled: Boolean(linked),
    queryFn: ({ signal }) =>
      get<RecordPage>(
        `${tablePath(linked!.baseId, linked!.tableId)}/records`,
        { page_size: 10, fields: [linked!.primary], filter: query.trim() ? JSON.stringify([{ field: linked!.primary, op: "contains", value: query.trim() }]) : undefined },
        signal,
      ),
  });
  const found = results.data?.records ?? [];
  const commit = (move?: "next" | "prev") => once(() => onCommit(ids.length ? ids : null, move));
  return (
    <div className="cell-popup link-editor" style={popupStyle(anchor)} onMouseDown={(e) => e.target !== e.currentTarget && e.preventDefault()}>
      <div className="pills">
        {ids.map((id) => (
          <button key={id} type="button" className="pill-remove" onClick={() => setIds(ids.filter((v) => v !== id))} aria-label={`Remove ${names[id] ?? id}`}>
            <span className="pill link-pill">{names[id] ?? id}</span> <span aria-hidden="true">×</span>
          </button>
        ))}
      </div>
      <input
        autoFocus
        aria-label={`Find a record of ${linked?.tableName ?? "the linked table"} by ${linked?.primary ?? "name"}`}
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setHighlight(0);
        }}
        onKeyDown={(e) => {
          e.stopPropagation();
          if (e.key === "ArrowDown" || e.key === "ArrowUp") {
            e.preventDefault();
            setHighlight((h) => (found.length ? (h + (e.key === "ArrowDown" ? 1 : -1) + found.length) % found.length : 0));
          } else if (e.key === "Enter") {
            e.preventDefault();
            if (e.ctrlKey || e.metaKey) commit();
            else if (found[highlight] && !ids.includes(found[highlight].id)) setIds([...ids, found[highlight].id]);
          } else if (e.key === "Tab") {
            e.preventDefault();
            commit(e.shiftKey ? "prev" : "next");
          } else if (e.key === "Escape") {
            e.preventDefault();
            once(onCancel);
          }
        }}
        onBlur={() => commit()}
      />
      {!linked ? (
        <p className="cell-error">The linked table is not in this base's schema.</p>
      ) : results.isPending ? (
        <p className="muted small">Searching…</p>
      ) : (
        <ul role="listbox" aria-label={`Records of ${linked.tableName}`}>
          {found.map((r, i) => (
            <li key={r.id} role="option" aria-selected={ids.includes(r.id)} className={i === highlight ? "highlighted" : undefined} onClick={() => !ids.includes(r.id) && setIds([...ids, r.id])}>
              {formatValue({ id: "", name: "", type: "singleLineText" }, r.fields[linked.primary]) || r.id}
            </li>
          ))}
          {found.length === 0 && <li className="muted">No record matches.</li>}
        </ul>
      )}
      <p className="muted small">Enter links the highlighted record, Tab or Ctrl+Enter saves, Escape cancels.</p>
    </div>
  );
}

const RECORD_ID = /^rec[A-Za-z0-9]{14}$/;

/** The primary field's value of linked records, read once per set of ids. */
export function useLinkedNames(linked: LinkedTable | undefined, ids: string[]): Record<string, string> {
  const wanted = ids.filter((id) => RECORD_ID.test(id)).sort();
  const query = useQuery({
    queryKey: ["linked-names", linked?.tableId, wanted.join(",")],
    enabled: Boolean(linked) && wanted.length > 0,
    staleTime: 60_000,
    // Record ids are checked against Airtable's shape above, so the formula holds no user text.
    queryFn: ({ signal }) => get<RecordPage>(`${tablePath(linked!.baseId, linked!.tableId)}/records`, { formula: `OR(${wanted.map((id) => `RECORD_ID()='${id}'`).join(",")})`, fields: [linked!.primary] }, signal),
  });
  return Object.fromEntries((query.data?.records ?? []).map((r) => [r.id, String(r.fields[linked!.primary] ?? r.id)]));
}

/** A cell's value as it is shown: pills for choices, a box for checkboxes, thumbnails and links
 * for attachments, names for linked records. */
export function CellValue({ field, value, linked }: { field: FieldOut; value: unknown; linked?: LinkedTable }): ReactNode {
  const kind = editorKind(field);
  if (kind === "checkbox") return <span className={`checkbox-mark${value ? " on" : ""}`} role="img" aria-label={value ? "checked" : "not checked"}>{value ? "✓" : ""}</span>;
  if (kind === "singleSelect" && typeof value === "string") return <Pill field={field} name={value} />;
  if (kind === "multipleSelects" && Array.isArray(value)) return <span className="pills">{(value as string[]).map((v) => <Pill key={v} field={field} name={v} />)}</span>;
  if (kind === "links" && Array.isArray(value)) return <LinkChips linked={linked} ids={value as string[]} />;
  if (kind === "attachments" && Array.isArray(value))
    return (
      <span className="attachments">
        {(value as { id?: string; url: string; filename?: string; thumbnails?: { small?: { url: string } } }[]).map((a, i) => (
          <a key={a.id ?? i} href={a.url} target="_blank" rel="noreferrer noopener" onClick={(e) => e.stopPropagation()} tabIndex={-1}>
            {a.thumbnails?.small?.url ? <img src={a.thumbnails.small.url} alt={a.filename ?? "attachment"} height={24} /> : a.filename ?? "file"}
          </a>
        ))}
      </span>
    );
  return formatValue(field, value);
}

function LinkChips({ linked, ids }: { linked?: LinkedTable; ids: string[] }) {
  const names = useLinkedNames(linked, ids);
  return <span className="pills">{ids.map((id) => <span key={id} className="pill link-pill">{names[id] ?? id}</span>)}</span>;
}
