import { describe, expect, it } from "vitest";
import type { FieldOut } from "../api/types";
import { buildOperations, changeCount, emptyStage, problemsByCell, reviewSentences, stageDelete, stageEdit, stageNewRow, unstageDelete, type StagedTable } from "./staged";

const status: FieldOut = { id: "fldS", name: "Status", type: "singleSelect", options: { choices: [{ name: "Lead" }, { name: "Customer" }] } };
const contacts: StagedTable = { id: "tblC", name: "Contacts", primary: "Name", fields: [{ id: "fldN", name: "Name", type: "singleLineText" }, status, { id: "fldE", name: "Score", type: "number", options: { precision: 0 } }] };
const deals: StagedTable = { id: "tblD", name: "Deals", primary: "Name", fields: [{ id: "fldM", name: "Name", type: "singleLineText" }, { id: "fldA", name: "Amount", type: "currency", options: { precision: 2, symbol: "$" } }] };
const ada = { Name: "Ada Lovelace", Status: "Lead", Score: 92 };

describe("staged changes", () => {
  it("keeps an edit made twice as one change, and drops an edit back to the original", () => {
    let s = stageEdit(emptyStage(), contacts, "recAda", ada, "Status", "Customer");
    s = stageEdit(s, contacts, "recAda", ada, "Status", "Churned");
    expect(s.tables.tblC.records.recAda.changes).toEqual({ Status: "Churned" });
    expect(changeCount(s)).toBe(1);
    s = stageEdit(s, contacts, "recAda", ada, "Status", "Lead");
    expect(changeCount(s)).toBe(0);
    expect(s.tableOrder).toEqual([]);
  });

  it("adds a new row and deletes it again without a trace", () => {
    let [s, key] = stageNewRow(emptyStage(), deals);
    s = stageEdit(s, deals, key, {}, "Name", "Expansion");
    expect(s.tables.tblD.records[key]).toMatchObject({ isNew: true, changes: { Name: "Expansion" } });
    s = stageDelete(s, deals, key, {});
    expect(changeCount(s)).toBe(0);
    expect(buildOperations(s).operations).toEqual([]);
  });

  it("strikes out a deleted record (dropping its edits) and can keep it after all", () => {
    let s = stageEdit(emptyStage(), contacts, "recAda", ada, "Score", 93);
    s = stageDelete(s, contacts, "recAda", ada);
    expect(s.tables.tblC.records.recAda).toMatchObject({ deleted: true, changes: {} });
    s = unstageDelete(s, contacts, "recAda");
    expect(changeCount(s)).toBe(0);
  });

  it("tells every change as a sentence and builds the saga's operations table by table", () => {
    let s = stageEdit(emptyStage(), contacts, "recAda", ada, "Status", "Customer");
    s = stageEdit(s, contacts, "recAda", ada, "Score", 95);
    s = stageDelete(s, contacts, "recDen", { Name: "Dennis Ritchie", Status: "Churned" });
    let key: string;
    [s, key] = stageNewRow(s, deals);
    s = stageEdit(s, deals, key, {}, "Name", "Pilot");
    s = stageEdit(s, deals, key, {}, "Amount", 3200);
    s = stageEdit(s, deals, "recWin", { Name: "Win-back", Amount: 100 }, "Amount", null);

    expect(reviewSentences(s).map((i) => i.sentence)).toEqual([
      "Contacts: update Ada Lovelace: Status Lead -> Customer, Score 92 -> 95",
      "Contacts: delete Dennis Ritchie",
      "Deals: create Pilot: Amount $3,200.00",
      "Deals: update Win-back: Amount $100.00 -> (empty)",
    ]);
    const { operations, keys } = buildOperations(s);
    expect(operations).toEqual([
      { action: "update", table: "tblC", records: [{ id: "recAda", fields: { Status: "Customer", Score: 95 } }], typecast: false },
      { action: "delete", table: "tblC", records: [{ id: "recDen" }], typecast: false },
      { action: "create", table: "tblD", records: [{ fields: { Name: "Pilot", Amount: 3200 } }], typecast: false },
      { action: "update", table: "tblD", records: [{ id: "recWin", fields: { Amount: null } }], typecast: false },
    ]);
    expect(keys.map((k) => k.keys)).toEqual([["recAda"], ["recDen"], [key], ["recWin"]]);
  });

  it("puts the dry run's problems on the cells and rows they concern", () => {
    let s = stageEdit(emptyStage(), contacts, "recAda", ada, "Status", "Customer");
    s = stageEdit(s, contacts, "recGone", { Name: "Grace", Score: 1 }, "Score", 2);
    const { keys } = buildOperations(s);
    const problems = problemsByCell(keys, {
      valid: false,
      operations: [{ action: "update", table: "tblC", records: 2, problems: [{ record: 0, field: "Status", code: "not_a_choice", problem: "not a choice of this field" }, { record: 1, id: "recGone", code: "no_such_record", problem: "no such record in this table" }] }],
    });
    expect(problems).toEqual({
      "tblC/recAda/Status": ["Status: not a choice of this field"],
      "tblC/recGone": ["This record no longer exists in Airtable (deleted since it was loaded)."],
    });
  });
});
