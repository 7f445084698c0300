-- wrk script: POST one small form to the minimal app's /ping (one INSERT per request).
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local report = require("report")

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

wrk.method = "POST"
wrk.path = "/ping"
wrk.body = "note=bench"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

bad = 0

function response(status, headers, body)
  if status ~= 201 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  report.print(summary, latency, { not_201 = report.sum(threads, "bad") })
end
