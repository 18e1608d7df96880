/// <reference path="../pb_data/types.d.ts" />
// Benchmark-only switch, not part of the original: BAI_PB_REQUEST_LOGS=0 turns off PocketBase's
// request log (by default every request is also written to the _logs table of auxiliary.db),
// to show how much of PocketBase's per-request cost that log is. Unset: PocketBase's defaults.
migrate((app) => {
  if ($os.getenv("BAI_PB_REQUEST_LOGS") !== "0") return
  const settings = app.settings()
  settings.logs.maxDays = 0
  app.save(settings)
})
