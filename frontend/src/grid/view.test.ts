import { describe, expect, it } from "vitest";
import type { FieldOut } from "../api/types";
import { readView, recordsQuery, writeView } from "./view";

const fields: FieldOut[] = [
  { id: "f1", name: "Name", type: "singleLineText" },
  { id: "f2", name: "Score", type: "number" },
  { id: "f3", name: "Share", type: "percent" },
];

describe("a grid's view in the URL", () => {
  it("round-trips filters, sorts and page size through the query string and keeps other keys", () => {
    const view = { filters: [{ field: "Name", op: "contains" as const, value: "a:b" }, { field: "Score", op: "gt" as const, value: "15" }], sorts: [{ field: "Score", desc: true }, { field: "Name", desc: false }], pageSize: 50 };
    const params = writeView(view, new URLSearchParams("tab=x"));
    expect(params.get("tab")).toBe("x");
    expect(readView(new URLSearchParams(params.toString()))).toEqual(view);
  });

  it("drops a mangled condition and an unknown page size", () => {
    expect(readView(new URLSearchParams("where=%5Bnope&where=%5B%22Name%22%2C%22drop%22%2C%22x%22%5D&size=7"))).toEqual({ filters: [], sorts: [], pageSize: 25 });
  });

  it("sends complete conditions typed by their field", () => {
    const query = recordsQuery({ filters: [{ field: "Score", op: "gt", value: "15" }, { field: "Share", op: "lt", value: "50" }, { field: "Name", op: "is_empty", value: "" }, { field: "Name", op: "is", value: " " }], sorts: [{ field: "Score", desc: true }], pageSize: 25 }, fields);
    expect(JSON.parse(query.filter!)).toEqual([{ field: "Score", op: "gt", value: 15 }, { field: "Share", op: "lt", value: 0.5 }, { field: "Name", op: "is_empty" }]);
    expect(query.sort).toEqual(["-Score"]);
  });
});
