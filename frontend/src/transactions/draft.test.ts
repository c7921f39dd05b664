// The composer's model: the input it builds, what it says is missing, and the API's problems
// told as sentences naming the operation, the record and the field.
import { describe, expect, it } from "vitest";
import type { FieldOut, TableOut } from "../api/types";
import { buildInput, draftsFromInput, missingParts, problemSentence, searchFormula, validationSentence, writableFields, type OperationDraft } from "./draft";

const status: FieldOut = { id: "fldS", name: "Status", type: "singleSelect", options: { choices: [{ name: "Lead" }, { name: "Customer" }] } };
const score: FieldOut = { id: "fldN", name: "Score", type: "number", options: { precision: 0 } };
const contacts: TableOut = { id: "tblC", name: "Contacts", primaryFieldId: "fldP", views: [], fields: [{ id: "fldP", name: "Name", type: "singleLineText" }, status, score, { id: "fldF", name: "Total", type: "formula" }] };

const ops: OperationDraft[] = [
  { action: "create", table: "Contacts", records: [{ fields: { Name: "Ada", Status: "Lead", Score: undefined, Company: "" } }], mergeOn: [] },
  { action: "update", table: "Contacts", records: [{ id: "recGrace", label: "Grace Hopper", fields: { Status: "Customer" } }], mergeOn: [] },
  { action: "delete", table: "Contacts", records: [{ id: "recAlan", label: "Alan Turing", fields: { Name: "ignored" } }], mergeOn: [] },
];

describe("buildInput", () => {
  it("sends only filled-in fields, ids where a record was chosen, and never typecast", () => {
    expect(buildInput("appX", ops)).toEqual({
      base_id: "appX",
      operations: [
        { action: "create", table: "Contacts", records: [{ fields: { Name: "Ada", Status: "Lead" } }], typecast: false },
        { action: "update", table: "Contacts", records: [{ id: "recGrace", fields: { Status: "Customer" } }], typecast: false },
        { action: "delete", table: "Contacts", records: [{ id: "recAlan" }], typecast: false },
      ],
    });
  });

  it("gives an upsert its merge fields and reads pasted JSON back into the same drafts", () => {
    const upsert: OperationDraft = { action: "upsert", table: "Contacts", records: [{ fields: { Name: "Ada", Score: 3 } }], mergeOn: ["Name"] };
    const input = buildInput("appX", [upsert]);
    expect(input.operations[0]).toMatchObject({ merge_on: ["Name"], records: [{ fields: { Name: "Ada", Score: 3 } }] });
    expect(draftsFromInput(input)).toEqual({ baseId: "appX", operations: [upsert] });
    expect(() => draftsFromInput({ operations: [{ action: "drop", records: [] }] })).toThrow("Operation 1 needs an action");
  });
});

describe("missingParts", () => {
  it("names what the form still lacks per operation and record", () => {
    const drafts: OperationDraft[] = [
      { action: "create", table: "", records: [{ fields: { Name: "" } }], mergeOn: [] },
      { action: "delete", table: "Contacts", records: [{ fields: {} }], mergeOn: [] },
      { action: "upsert", table: "Contacts", records: [{ fields: { Name: "x" } }], mergeOn: [] },
    ];
    expect(missingParts("", drafts)).toEqual([
      "Choose a base.",
      "Operation 1: choose a table.",
      "Operation 1, record 1: fill in at least one field.",
      "Operation 2, record 1: choose the record to delete.",
      "Operation 3: choose the fields that find an existing record (merge on).",
    ]);
    expect(missingParts("appX", ops)).toEqual([]);
  });
});

describe("problemSentence", () => {
  it("points at the operation, the record by its name and the field", () => {
    expect(problemSentence(0, { action: "create", table: "Contacts" }, { record: 0, field: "Status", code: "not_a_choice", problem: "not a choice of this field: ['Leed'] (use typecast to add)" }, ops[0], "Name")).toBe(
      "Operation 1 (create Contacts), record 1 'Ada': Status: not a choice of this field: ['Leed'] (use typecast to add).",
    );
    expect(problemSentence(1, { action: "update", table: "Contacts" }, { record: 0, id: "recGrace", code: "no_such_record", problem: "no such record in this table" }, ops[1])).toBe(
      "Operation 2 (update Contacts), record 1 'Grace Hopper': the record recGrace no longer exists in Contacts.",
    );
    expect(problemSentence(0, { action: "create", table: "Contacts" }, { record: 1, field: "Nmae", code: "unknown_field", problem: "unknown field" })).toBe("Operation 1 (create Contacts), record 2: Contacts has no field 'Nmae'.");
    expect(problemSentence(2, { action: "create", table: "Leads" }, { code: "unknown_table", problem: "unknown table 'Leads'" })).toBe("Operation 3 (create Leads): there is no table 'Leads' in this base.");
    expect(problemSentence(0, { action: "upsert", table: "Contacts" }, { field: "Mail", code: "unknown_merge_on_field", problem: "unknown merge_on field" })).toBe("Operation 1 (upsert Contacts): the merge field 'Mail' is not a field of Contacts.");
    expect(problemSentence(0, { action: "upsert", table: "Contacts" }, { record: 2, field: "Mail", code: "merge_on_value_missing", problem: "merge_on field has no value" })).toBe("Operation 1 (upsert Contacts), record 3: the merge field 'Mail' has no value.");
  });

  it("rewords a problem by its code, whatever its text says", () => {
    expect(problemSentence(0, { action: "create", table: "Contacts" }, { record: 1, field: "Nmae", code: "unknown_field", problem: "no field of that name" })).toBe("Operation 1 (create Contacts), record 2: Contacts has no field 'Nmae'.");
    expect(problemSentence(1, { action: "update", table: "Contacts" }, { record: 0, id: "recGrace", code: "no_such_record", problem: "record not found" }, ops[1])).toBe(
      "Operation 2 (update Contacts), record 1 'Grace Hopper': the record recGrace no longer exists in Contacts.",
    );
    expect(problemSentence(2, { action: "create", table: "Leads" }, { code: "unknown_table", problem: "table \"Leads\" does not exist" })).toBe("Operation 3 (create Leads): there is no table 'Leads' in this base.");
    // The old text under another code is not reworded as that text used to be.
    expect(problemSentence(0, { action: "create", table: "Contacts" }, { record: 0, field: "Nmae", code: "not_a_string", problem: "unknown field" })).toBe("Operation 1 (create Contacts), record 1: Nmae: unknown field.");
  });
});

describe("validationSentence", () => {
  it("turns an input path into the operation and record it is about", () => {
    expect(validationSentence({ field: "input.operations.1.records.0.id", problem: "Field required" }, ops)).toBe("Operation 2 (update Contacts), record 1 'Grace Hopper' (id): Field required");
    expect(validationSentence({ field: "input.base_id", problem: "String should match pattern" }, ops)).toBe("base_id: String should match pattern");
  });
});

describe("writableFields", () => {
  it("leaves computed fields out of the form", () => {
    expect(writableFields(contacts).map((f) => f.name)).toEqual(["Name", "Status", "Score"]);
  });
});

describe("searchFormula", () => {
  it("searches the primary field in any case, with quotes escaped", () => {
    expect(searchFormula("Name", 'Ada "the" Countess')).toBe('SEARCH(LOWER("Ada \\"the\\" Countess"), LOWER({Name}))');
  });
});
