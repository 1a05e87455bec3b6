-- wrk script for bench/api_load.py: every request is a multipart upload of one PDF with a
-- fresh Idempotency-Key, and a unique comment line after the PDF's %%EOF so that no two
-- uploads have the same bytes (real intake is mostly distinct files; identical bytes would
-- exercise the duplicate lookup instead).
--
--   wrk ... -s bench/wrk_upload.lua URL -- PDF_PATH REQUEST_PATH BEARER_TOKEN RUN_ID
--
-- done() prints one line, `WRK_RESULT {json}`, that api_load.py parses.

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local pdf = file:read("*all")
  file:close()
  path, run_id = args[2], args[4]
  counter = 0
  local boundary = "invexbench" .. run_id
  head = "--" .. boundary .. "\r\n"
    .. "Content-Disposition: form-data; name=\"file\"; filename=\"invoice.pdf\"\r\n"
    .. "Content-Type: application/pdf\r\n\r\n" .. pdf
  tail = "\r\n--" .. boundary .. "--\r\n"
  headers = { ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }
  if args[3] ~= "" then
    headers["Authorization"] = "Bearer " .. args[3]
  end
end

function request()
  counter = counter + 1
  local key = run_id .. "-" .. tid .. "-" .. counter
  headers["Idempotency-Key"] = key
  return wrk.format("POST", path, headers, head .. "\n%bench " .. key .. "\n" .. tail)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d,'
    .. ' "read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d,'
    .. ' "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
