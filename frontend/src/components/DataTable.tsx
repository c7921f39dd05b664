import type { ReactNode } from "react";

export interface Column<T> {
  /** The column's heading; on a phone's card it also names each value (`data-label`). */
  header: string;
  cell: (row: T) => ReactNode;
  /** The row's name: first on a phone's card, in bold, without a label. */
  title?: boolean;
  /** Numbers, aligned right. */
  numeric?: boolean;
  /** Long values (URLs, file names) that may wrap. */
  wrap?: boolean;
  /** Whether a phone's card names the value with the header (default: every column but the
   * title; a cell that labels itself, like a select with its own aria-label, needs none). */
  labelled?: boolean;
}

/**
 * A list of objects as a table: one row per object, its actions last under a heading only
 * screen readers read. As `cards` (the default) each row becomes a card on a phone, its title
 * first and every other value named by its column; `compact` keeps a small table everywhere.
 */
export function DataTable<T>({
  rows,
  rowKey,
  columns,
  actions,
  compact = false,
}: {
  rows: T[];
  rowKey: (row: T) => string;
  columns: Column<T>[];
  actions?: (row: T) => ReactNode;
  compact?: boolean;
}) {
  const classes = (...names: (string | false | undefined)[]) => names.filter(Boolean).join(" ") || undefined;
  return (
    <div className="table-scroll">
      <table className={compact ? "table compact" : "table cards"}>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.header} scope="col" className={classes(column.numeric && "num")}>
                {column.header}
              </th>
            ))}
            {actions && (
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((column) => (
                <td
                  key={column.header}
                  className={classes(column.numeric && "num", column.wrap && "wrap", column.title && !compact && "card-title")}
                  data-label={!compact && !column.title && (column.labelled ?? true) ? column.header : undefined}
                >
                  {column.cell(row)}
                </td>
              ))}
              {actions && <td className="row-actions">{actions(row)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
