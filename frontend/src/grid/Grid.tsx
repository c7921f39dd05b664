// A records grid that behaves like a spreadsheet, following the WAI-ARIA grid pattern: one Tab
// stop (the active cell), arrow keys move it, Enter or typing edits, Escape cancels, Enter and
// Tab commit, Space toggles a checkbox, Delete empties a cell. The row number opens the record.
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";
import type { FieldOut } from "../api/types";
import { editorKind, isTextual, isWritable, sameValue } from "./fields";
import { CellEditor, CellValue, type LinkedTable } from "./editors";
import "./grid.css";

export interface GridRow {
  key: string;
  fields: Record<string, unknown>;
  /** `new` rows exist only in the stage; `deleted` ones are struck out until committed. */
  status?: "new" | "deleted";
  changed?: Set<string>;
}

export interface GridProps {
  label: string;
  fields: FieldOut[];
  rows: GridRow[];
  /** A row's 1-based number as shown (rows of later pages continue the count). */
  firstNumber: number;
  linked: Record<string, LinkedTable>;
  problems?: (row: GridRow, field: string) => string[];
  /** A cell being saved and a cell whose save failed (`row/field`). */
  saving?: string | null;
  cellErrors?: Record<string, string>;
  onCommit: (row: GridRow, field: FieldOut, value: unknown) => void;
  onExpand: (row: GridRow) => void;
  onDelete: (row: GridRow) => void;
  onRestore?: (row: GridRow) => void;
}

interface Editing {
  r: number;
  c: number;
  initialText?: string;
  anchor: DOMRect | null;
}

const PRINTABLE = /^.$/u;

export function Grid({ label, fields, rows, firstNumber, linked, problems, saving, cellErrors, onCommit, onExpand, onDelete, onRestore }: GridProps) {
  const columns = fields.length + 2; // row number, the fields, the row's actions
  const [active, setActive] = useState({ r: 0, c: 1 });
  const [editing, setEditing] = useState<Editing | null>(null);
  const table = useRef<HTMLTableElement>(null);
  // Focus follows the active cell only once the person is in the grid.
  const inside = useRef(false);
  const r = Math.min(active.r, Math.max(rows.length - 1, 0));
  const c = Math.min(active.c, columns - 1);

  useLayoutEffect(() => {
    if (!inside.current || editing) return;
    const cell = table.current?.querySelector<HTMLElement>(`[data-cell="${r}:${c}"]`);
    if (cell && document.activeElement !== cell) cell.focus();
  }, [r, c, editing, rows.length]);

  useEffect(() => {
    if (editing && editing.r >= rows.length) setEditing(null);
  }, [editing, rows.length]);

  const cellAt = (row: number, col: number) => table.current?.querySelector<HTMLElement>(`[data-cell="${row}:${col}"]`) ?? null;
  const move = (dr: number, dc: number) => setActive({ r: Math.max(0, Math.min(rows.length - 1, r + dr)), c: Math.max(0, Math.min(columns - 1, c + dc)) });

  const startEdit = (row: number, col: number, initialText?: string) => {
    const field = fields[col - 1];
    const target = rows[row];
    if (!field || !target || target.status === "deleted" || !isWritable(field)) return;
    if (editorKind(field) === "checkbox") {
      onCommit(target, field, !target.fields[field.name]);
      return;
    }
    setEditing({ r: row, c: col, initialText, anchor: cellAt(row, col)?.getBoundingClientRect() ?? null });
  };

  const activate = (row: number, col: number) => {
    const target = rows[row];
    if (!target) return;
    if (col === 0) onExpand(target);
    else if (col === columns - 1) (target.status === "deleted" ? onRestore?.(target) : onDelete(target));
    else startEdit(row, col);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTableElement>) => {
    inside.current = true;
    if (editing || rows.length === 0) return;
    const field = fields[c - 1];
    const target = rows[r];
    const keys: Record<string, () => void> = {
      ArrowUp: () => move(-1, 0),
      ArrowDown: () => move(1, 0),
      ArrowLeft: () => move(0, -1),
      ArrowRight: () => move(0, 1),
      PageUp: () => move(-10, 0),
      PageDown: () => move(10, 0),
      Home: () => setActive({ r: e.ctrlKey ? 0 : r, c: 0 }),
      End: () => setActive({ r: e.ctrlKey ? rows.length - 1 : r, c: columns - 1 }),
      Enter: () => activate(r, c),
      F2: () => activate(r, c),
      " ": () => (c === 0 || c === columns - 1 || (field && editorKind(field) === "checkbox") ? activate(r, c) : startEdit(r, c, " ")),
      Delete: () => field && isWritable(field) && target.status !== "deleted" && !sameValue(target.fields[field.name], null) && onCommit(target, field, editorKind(field) === "checkbox" ? false : null),
    };
    keys.Backspace = keys.Delete;
    const action = keys[e.key];
    if (action) {
      e.preventDefault();
      action();
      return;
    }
    if (field && PRINTABLE.test(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey) {
      const kind = editorKind(field);
      if (isTextual(kind) || kind === "singleSelect" || kind === "multipleSelects" || kind === "links") {
        e.preventDefault();
        startEdit(r, c, e.key);
      }
    }
  };

  const finish = (row: GridRow, field: FieldOut, value: unknown, to?: "next" | "prev") => {
    setEditing(null);
    inside.current = true;
    if (!sameValue(row.fields[field.name], value)) onCommit(row, field, value);
    if (to) move(0, to === "next" ? 1 : -1);
  };

  return (
    <div className="grid-scroll">
      <table
        ref={table}
        role="grid"
        className="data-grid"
        aria-label={label}
        aria-rowcount={rows.length + 1}
        aria-colcount={columns}
        tabIndex={rows.length === 0 ? 0 : undefined}
        onKeyDown={onKeyDown}
        onFocus={() => (inside.current = true)}
      >
        <thead>
          <tr role="row" aria-rowindex={1}>
            <th role="columnheader" className="row-number" scope="col">
              <span className="sr-only">Row</span>
            </th>
            {fields.map((field, i) => (
              <th key={field.id} role="columnheader" scope="col" className={i === 0 ? "primary" : editorKind(field) === "number" ? "num" : undefined} title={field.description}>
                {field.name}
                {!isWritable(field) && <span className="muted small"> (read-only)</span>}
              </th>
            ))}
            <th role="columnheader" scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row, ri) => {
            const primaryValue = row.fields[fields[0]?.name];
            const name = (typeof primaryValue === "string" && primaryValue) || (row.status === "new" ? "new record" : `row ${firstNumber + ri}`);
            const rowClass = [row.status === "new" && "row-new", row.status === "deleted" && "row-deleted"].filter(Boolean).join(" ") || undefined;
            const cellProps = (ci: number) => ({
              "data-cell": `${ri}:${ci}`,
              tabIndex: ri === r && ci === c ? 0 : -1,
              "aria-selected": ri === r && ci === c,
              onClick: () => {
                inside.current = true;
                setActive({ r: ri, c: ci });
              },
            });
            return (
              <tr key={row.key} role="row" aria-rowindex={ri + 2} className={rowClass}>
                <td role="gridcell" className="row-number" {...cellProps(0)}>
                  <button type="button" tabIndex={-1} className="row-expand" aria-label={row.status === "new" ? `+ Open ${name}` : `Row ${firstNumber + ri}: open ${name}`} onClick={() => onExpand(row)}>
                    {row.status === "new" ? "+" : firstNumber + ri}
                  </button>
                  {row.status === "deleted" && <span className="sr-only"> (to be deleted)</span>}
                </td>
                {fields.map((field, fi) => {
                  const ci = fi + 1;
                  const cellKey = `${row.key}/${field.name}`;
                  const isEditing = editing?.r === ri && editing.c === ci;
                  const cellProblems = problems?.(row, field.name) ?? [];
                  const error = cellErrors?.[cellKey];
                  const classes = [
                    fi === 0 && "primary",
                    editorKind(field) === "number" && "num",
                    row.changed?.has(field.name) && "cell-changed",
                    (cellProblems.length > 0 || error) && "cell-problem",
                    isEditing && "editing",
                  ].filter(Boolean).join(" ");
                  return (
                    <td
                      key={field.id}
                      role={fi === 0 ? "rowheader" : "gridcell"}
                      className={classes || undefined}
                      aria-readonly={!isWritable(field) || undefined}
                      aria-busy={saving === cellKey || undefined}
                      {...cellProps(ci)}
                      onDoubleClick={() => startEdit(ri, ci)}
                    >
                      {isEditing ? (
                        <CellEditor
                          field={field}
                          value={row.fields[field.name]}
                          initialText={editing.initialText}
                          anchor={editing.anchor}
                          linked={linked[field.name]}
                          onCommit={(value, to) => finish(row, field, value, to)}
                          onCancel={() => {
                            inside.current = true;
                            setEditing(null);
                          }}
                        />
                      ) : (
                        <span className="cell-value">
                          <CellValue field={field} value={row.fields[field.name]} linked={linked[field.name]} />
                        </span>
                      )}
                      {row.changed?.has(field.name) && <span className="sr-only"> (changed)</span>}
                      {[...cellProblems, ...(error ? [error] : [])].map((p) => (
                        <span key={p} className="cell-problem-text">
                          {p}
                        </span>
                      ))}
                    </td>
                  );
                })}
                <td role="gridcell" className="row-actions" {...cellProps(columns - 1)}>
                  {row.status === "deleted" ? (
                    <button type="button" tabIndex={-1} className="button link small" onClick={() => onRestore?.(row)} aria-label={`Keep ${name}`}>
                      Keep
                    </button>
                  ) : (
                    <button type="button" tabIndex={-1} className="button link small" onClick={() => onDelete(row)} aria-label={`Delete ${name}`}>
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
