-- wrk-report.lua — wrk's done() hook for scripts/bench.sh: one machine-readable line with the
-- exact percentiles (wrk's own text rounds them and switches units), request count, rate and
-- every kind of error. wrk measures latency in microseconds; the line is in milliseconds.
--
--   wrk -t2 -c50 -d10s --latency -s scripts/wrk-report.lua http://127.0.0.1:8080/api/nodes

-- With WRK_BODY_FILE set, every request is a POST of that file's JSON (a server function call).
local body_file = os.getenv("WRK_BODY_FILE")
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.method = "POST"
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
    "bytes=%d errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout))
end
