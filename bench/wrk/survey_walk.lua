-- wrk script: phones walking the Loopdesk survey without JavaScript, one walk per connection.
--
-- Run with as many connections as threads (-t N -c N): each thread keeps one walk's state.
-- Arguments after "--" are the QR tokens to open; each walk picks one.
--
-- A walk: GET /s/<token> with no cookies (a new phone), then for every step page POST its
-- form (csrf_token, key, step and the answers) and follow the 303 with a GET, until the
-- thank-you page. Every request counts. A walk fails on any unexpected status or page,
-- or when a step does not move forward. Walks cut off by the end of the run are not failures.
--
-- wrk keeps only the last Set-Cookie of a response (its header table is keyed by name), and
-- Loopdesk sets ld_device before session. So the walk keeps the session cookie the server
-- sends and, from its second request on, presents a device id of its own (a valid UUID,
-- as the server checks): the server then treats it as the phone it already knows.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local report = require("report")

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
  threads[#threads + 1] = thread
end

-- Counters read by done() through thread:get().
walks = 0
walk_failures = 0
follow_up_shown = 0
contact_left = 0
first_failure = ""

local tokens = {}
local follow_up_share = tonumber(os.getenv("BENCH_FOLLOW_UP_SHARE") or "0.25")
local contact_share = tonumber(os.getenv("BENCH_CONTACT_SHARE") or "0.1")
local walk -- the current walk's state

local COMMENTS = {
  "",
  "",
  "%E6%8E%92%E9%98%9F%E6%97%B6%E9%97%B4%E5%A4%AA%E9%95%BF%E4%BA%86", -- 排队时间太长了 (already encoded)
  "Great+coffee%2C+friendly+staff",
}

local function uuid4()
  local hex = "0123456789abcdef"
  local function digits(n)
    local out = {}
    for i = 1, n do
      local d = math.random(1, 16)
      out[i] = hex:sub(d, d)
    end
    return table.concat(out)
  end
  local variant = math.random(1, 4)
  return digits(8) .. "-" .. digits(4) .. "-4" .. digits(3) .. "-" .. ("89ab"):sub(variant, variant) .. digits(3) .. "-" .. digits(12)
end

local function url_encode(value)
  return (value:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function new_walk()
  local token = tokens[math.random(1, #tokens)]
  walk = {
    path = "/s/" .. token,
    session = nil,
    device = nil,
    next_device = uuid4(),
    method = "GET",
    target = "/s/" .. token,
    body = nil,
    expect = "step",       -- "step": a step page; "redirect": a 303; "thanks": the thank-you page
    last_step = 0,
    follow_up = math.random() < follow_up_share,
    contact = math.random() < contact_share,
  }
end

local function fail(reason)
  walk_failures = walk_failures + 1
  if first_failure == "" then
    first_failure = reason
  end
  new_walk()
end

function init(args)
  for _, token in ipairs(args) do
    tokens[#tokens + 1] = token
  end
  if #tokens == 0 then
    error("survey_walk.lua: pass QR tokens after --")
  end
  math.randomseed(os.time() * 1000 + (thread_number or 0))
  new_walk()
end

function request()
  local headers = {
    ["User-Agent"] = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) bench/survey_walk.lua",
    ["Accept"] = "text/html",
    ["Accept-Language"] = "zh-CN,zh;q=0.9,en;q=0.8",
  }
  local cookies = {}
  if walk.session then cookies[#cookies + 1] = "session=" .. walk.session end
  if walk.device then cookies[#cookies + 1] = "ld_device=" .. walk.device end
  if #cookies > 0 then headers["Cookie"] = table.concat(cookies, "; ") end
  if walk.body then headers["Content-Type"] = "application/x-www-form-urlencoded" end
  return wrk.format(walk.method, walk.target, headers, walk.body)
end

local function answers(page)
  local fields = {}
  local function has(name) return page:find('name="' .. name .. '"', 1, true) ~= nil end
  if has("q_product") then fields[#fields + 1] = "q_product=" .. math.random(3, 5) end
  if has("q_service") then
    fields[#fields + 1] = "q_service=" .. (walk.follow_up and math.random(1, 3) or math.random(4, 5))
  end
  if has("q_service_problem") then
    fields[#fields + 1] = "q_service_problem=waiting&q_service_problem=attitude"
    follow_up_shown = follow_up_shown + 1
  end
  if has("q_environment") then fields[#fields + 1] = "q_environment=" .. math.random(3, 5) end
  if has("q_nps") then fields[#fields + 1] = "q_nps=" .. math.random(0, 10) end
  if has("q_comment") then fields[#fields + 1] = "q_comment=" .. COMMENTS[math.random(1, #COMMENTS)] end
  if has("q_contact_consent") and walk.contact then
    fields[#fields + 1] = "q_contact_consent=y&q_contact_name=Bench&q_contact_phone=13800000000"
    contact_left = contact_left + 1
  end
  return fields
end

local function on_page(status, body)
  if status ~= 200 then
    return fail(string.format("%s %s -> %d, expected 200", walk.method, walk.target, status))
  end
  if walk.expect == "thanks" then
    if not body:find('class="thanks"', 1, true) then
      return fail("no thank-you page at " .. walk.target)
    end
    walks = walks + 1
    return new_walk()
  end
  local csrf = body:match('name="csrf_token" type="hidden" value="([^"]+)"')
  local key = body:match('name="key" value="([^"]*)"')
  local step = tonumber(body:match('name="step" value="(%d+)"') or "")
  if not (csrf and key and step) then
    return fail("no step form at " .. walk.target)
  end
  if step <= walk.last_step then
    return fail(string.format("step %d shown again after step %d", step, walk.last_step))
  end
  walk.last_step = step
  local fields = answers(body)
  if #fields == 0 then
    return fail("no question this walk knows on step " .. step)
  end
  walk.method = "POST"
  walk.target = walk.path
  walk.body = "csrf_token=" .. url_encode(csrf) .. "&key=" .. url_encode(key) .. "&step=" .. step .. "&" .. table.concat(fields, "&")
  walk.expect = "redirect"
end

local function on_post(status, headers)
  local location = headers["Location"] or headers["location"] or ""
  if status ~= 303 or location == "" then
    return fail(string.format("POST %s step %d -> %d, expected 303", walk.target, walk.last_step, status))
  end
  walk.method = "GET"
  walk.target = location:gsub("^https?://[^/]+", "")
  walk.body = nil
  walk.expect = walk.target:find("/thanks$") and "thanks" or "step"
end

function response(status, headers, body)
  local cookie = headers["Set-Cookie"] or headers["set-cookie"]
  if cookie then
    local session = cookie:match("^session=([^;]*)")
    if session then walk.session = session ~= "" and session or nil end
  end
  walk.device = walk.device or walk.next_device
  if walk.expect == "redirect" then
    on_post(status, headers)
  else
    on_page(status, body)
  end
end

function done(summary, latency, requests)
  report.print(summary, latency, {
    walks = report.sum(threads, "walks"),
    walk_failures = report.sum(threads, "walk_failures"),
    follow_up_shown = report.sum(threads, "follow_up_shown"),
    contact_left = report.sum(threads, "contact_left"),
  }, threads[1] and threads[1]:get("first_failure") or "")
end
