"""A small stand-in for the Azure Functions host, for machines without Core Tools.

It serves the functions the app registered, exactly as registered: routes, methods and auth
levels come from `app.get_functions()` (called once), the route prefix from host.json. Requests
are matched on the raw, still percent-encoded path, as ASP.NET Core routing does, so an id
with `%2F` stays one segment.

Timer-triggered functions run on their NCRONTAB schedule (UTC, six fields: second minute hour
day month day-of-week), each in its own daemon thread, so a run never overlaps the previous run
of the same function; a run that overran its next occurrence is followed by one past-due run, as
in Functions. `--no-timers` turns them off (library callers opt in with `timers=True`).

Blob-triggered functions are delivered by LISTING their container: in Azure (Flex Consumption)
they use the Event Grid source, which Azurite does not have. A poller per trigger (every 2 s,
`--blob-poll-seconds`) lists `<container>/<literal prefix of the pattern>`, creating the container
if missing, and hands every matching blob this host process has not delivered yet, keyed by
(blob name, ETag), to the function as the Python worker does: an `azure.functions.blob.InputStream`
with the bytes, name `<container>/<blob>`, URI, length, metadata and properties. Route-like
parameters of the path (`{name}`) are not passed as arguments, only the stream. A failure is
logged and retried on later polls, 5 attempts in all (the host's maxDequeueCount); then the blob
is given up as poison until its ETag changes. A blob is never processed twice at once; up to two
blobs per trigger are processed concurrently in the background (`scan_once()`, for tests and
tools, delivers in the calling thread, one blob after the other).

Delivery is at least once, and more often than in Azure: blobs present when the host starts are
delivered (the real host's container scan does that, Event Grid does not), a restarted host
delivers everything again, and any new ETag (a re-upload, and also a metadata change) delivers
again. Blob-triggered functions must therefore be idempotent. `--no-blob-triggers` turns them
off (library callers opt in with `blob_triggers=True`).

Cosmos DB-triggered functions are delivered by POLLING their container (the local stand-in has no
real change feed; see `cosmos_triggers`): every 1 s (`--cosmos-poll-seconds`), the items changed
since the last second seen, each state (`_etag`) once, a failed batch again on the next poll.
`--no-cosmos-triggers` turns them off (library callers opt in with `cosmos_triggers=True`).

    python -m local.host --host 127.0.0.1 --port 7071 --app function_app:app [--no-timers]
        [--no-blob-triggers] [--blob-poll-seconds 2] [--no-cosmos-triggers] [--cosmos-poll-seconds 1]

One job per module: `functions_index` (what the app registered), `routing` (HTTP routes and the
dispatch of a request), `timers`, `blob_triggers`, `cosmos_triggers`, `server` (the HTTP server
that runs them all), and `cli` (the command line, `__main__` runs it).
"""
