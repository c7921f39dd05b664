"""airtable_transaction: operations applied in chunks of 10, each logged with what undoes it.

Every chunk is written in three commits: `chunk.started` (with the records' values before the
write, read fresh from Airtable), the write itself, then `chunk.applied` (ids created, updated,
deleted and the values written) or `chunk.failed`. A task that finds a chunk logged as applied
skips it, so a retried task never writes twice; compensation undoes applied chunks in reverse
and logs each undone chunk, so a retried compensation never undoes twice.

`apply` runs the operations, `compensate` undoes them (after a failure, a cancel or an undo),
`undo_check` tells what changed since a succeeded transaction wrote; `run` is what a task of
any of them works with.
"""
