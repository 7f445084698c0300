-- Shared by the wrk scripts of bench/run: one "BENCH_JSON {...}" line with the phase's figures.
local report = {}

local function encode(value)
  local kind = type(value)
  if kind == "table" then
    local parts = {}
    for key, item in pairs(value) do
      parts[#parts + 1] = string.format("%q:%s", key, encode(item))
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif kind == "string" then
    return string.format("%q", value):gsub("\\\n", "\\n")
  end
  return tostring(value)
end

--- Print the summary wrk hands to done(), plus the scripts' own counters (a table of numbers).
function report.print(summary, latency, counters, notes)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  local figures = {
    seconds = seconds,
    requests = summary.requests,
    requests_per_second = summary.requests / seconds,
    socket_errors = errors.connect + errors.read + errors.write + errors.timeout,
    non_2xx_3xx = errors.status,
    latency_ms = {
      p50 = latency:percentile(50) / 1000,
      p90 = latency:percentile(90) / 1000,
      p99 = latency:percentile(99) / 1000,
      max = latency.max / 1000,
    },
    counters = counters,
    notes = notes or "",
  }
  io.write("BENCH_JSON ", encode(figures), "\n")
end

--- Sum a global counter over wrk's threads.
function report.sum(threads, name)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get(name) or 0)
  end
  return total
end

return report
