"""Files: uploads checked by content, imports into Airtable, exports."""
