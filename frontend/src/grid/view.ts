// A grid's view (filters AND-ed, sorts, page size) kept in the URL's query string, so a reload
// or a shared link shows the same records, and turned into the records route's query.
import type { FieldOut } from "../api/types";
import { editorKind } from "./fields";

export const OPERATORS = [
  { op: "is", label: "is" },
  { op: "is_not", label: "is not" },
  { op: "contains", label: "contains" },
  { op: "is_empty", label: "is empty" },
  { op: "gt", label: ">" },
  { op: "lt", label: "<" },
] as const;
export type Operator = (typeof OPERATORS)[number]["op"];

export interface Condition {
  field: string;
  op: Operator;
  value: string;
}
export interface Sort {
  field: string;
  desc: boolean;
}
export interface View {
  filters: Condition[];
  sorts: Sort[];
  pageSize: number;
}

export const PAGE_SIZES = [25, 50, 100];
const isOperator = (op: unknown): op is Operator => OPERATORS.some((o) => o.op === op);

/** The view a query string describes: `where` (repeated, a JSON [field, op, value]),
 * `sort` (repeated, `Field` or `-Field`, as the API takes it), `size`. */
export function readView(params: URLSearchParams): View {
  const filters: Condition[] = [];
  for (const raw of params.getAll("where")) {
    try {
      const [field, op, value] = JSON.parse(raw) as unknown[];
      if (typeof field === "string" && isOperator(op)) filters.push({ field, op, value: typeof value === "string" ? value : "" });
    } catch {
      /* a mangled condition is dropped rather than failing the page */
    }
  }
  const sorts = params.getAll("sort").filter(Boolean).map((s) => (s.startsWith("-") ? { field: s.slice(1), desc: true } : { field: s, desc: false }));
  const size = Number(params.get("size"));
  return { filters, sorts, pageSize: PAGE_SIZES.includes(size) ? size : PAGE_SIZES[0] };
}

/** `params` with the view written over its view keys (other keys are kept). */
export function writeView(view: View, params: URLSearchParams = new URLSearchParams()): URLSearchParams {
  const next = new URLSearchParams(params);
  ["where", "sort", "size"].forEach((key) => next.delete(key));
  view.filters.forEach((c) => next.append("where", JSON.stringify([c.field, c.op, c.value])));
  view.sorts.forEach((s) => next.append("sort", `${s.desc ? "-" : ""}${s.field}`));
  if (view.pageSize !== PAGE_SIZES[0]) next.set("size", String(view.pageSize));
  return next;
}

/** A condition's text as the value the field holds (numbers as numbers, checkboxes as booleans). */
function typedValue(field: FieldOut | undefined, text: string): string | number | boolean {
  const kind = field ? editorKind(field) : "text";
  if (kind === "checkbox") return ["true", "yes", "checked", "1"].includes(text.trim().toLowerCase());
  if (kind === "number" && text.trim() !== "" && Number.isFinite(Number(text))) return field?.type === "percent" ? Number(text) / 100 : Number(text);
  return text;
}

/** Conditions the API can run: complete ones only (an operator that needs a value has one). */
export const completeFilters = (view: View) => view.filters.filter((c) => c.field && (c.op === "is_empty" || c.value.trim() !== ""));

/** The records route's query for a view (`filter` as a JSON list of conditions). */
export function recordsQuery(view: View, fields: FieldOut[]): { filter?: string; sort: string[]; page_size: number } {
  const filters = completeFilters(view).map((c) => {
    const field = fields.find((f) => f.name === c.field);
    return c.op === "is_empty" ? { field: c.field, op: c.op } : { field: c.field, op: c.op, value: typedValue(field, c.value) };
  });
  return {
    filter: filters.length ? JSON.stringify(filters) : undefined,
    sort: view.sorts.map((s) => `${s.desc ? "-" : ""}${s.field}`),
    page_size: view.pageSize,
  };
}
