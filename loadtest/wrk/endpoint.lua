-- wrk script: drive one endpoint of the load-test app and record results.
--
--   wrk -t2 -c32 -d10s -s endpoint.lua http://127.0.0.1:8001 -- ENDPOINT ROWS OUT.json
--
-- ENDPOINT is row, list, insert, tx, or health (the app without the
-- database: the ceiling the framework sets); ids are drawn uniformly from 1..ROWS.
-- Each thread pre-formats 1024 requests with random ids and cycles through
-- them, so building a request costs a table lookup.  Each thread counts the
-- responses and the error responses (status >= 400) it completes in every
-- wall-clock second; done() merges the threads' counts and writes them with
-- wrk's own totals and latency percentiles (microseconds) to OUT.json, which
-- loadtest/lt/wrk.py reads.

-- Globals, because done() reads them from the threads with thread:get(),
-- which copies strings and numbers reliably (nested tables crash wrk 4.1).
-- Each thread keeps the current second's counts in cur_* and appends every
-- finished second to `series` as "second,responses,errors;".
endpoint, rows, out_path = nil, nil, nil
series, cur_second, cur_n, cur_err = "", 0, 0, 0
local requests, cursor = {}, 0
local threads = {}

local function format_request(id)
    if endpoint == "row" then
        return wrk.format("GET", "/row/" .. id)
    elseif endpoint == "list" then
        return wrk.format("GET", "/list?after=" .. (id - 1))
    elseif endpoint == "insert" then
        return wrk.format("POST", "/insert")
    elseif endpoint == "tx" then
        return wrk.format("POST", "/tx/" .. id)
    elseif endpoint == "health" then
        return wrk.format("GET", "/health")
    end
    error("unknown endpoint " .. tostring(endpoint))
end

function setup(thread)
    threads[#threads + 1] = thread
    thread:set("thread_no", #threads)
end

function init(args)
    endpoint, rows, out_path = args[1], tonumber(args[2]), args[3]
    if not (endpoint and rows and out_path) then
        error("usage: -- ENDPOINT ROWS OUT.json")
    end
    math.randomseed(os.time() * 1000 + thread_no)
    for i = 1, 1024 do
        requests[i] = format_request(math.random(1, rows))
    end
end

function request()
    cursor = cursor % 1024 + 1
    return requests[cursor]
end

function response(status, headers, body)
    local second = os.time()
    if second ~= cur_second then
        if cur_n > 0 then
            series = series .. cur_second .. "," .. cur_n .. "," .. cur_err .. ";"
        end
        cur_second, cur_n, cur_err = second, 0, 0
    end
    cur_n = cur_n + 1
    if status >= 400 then
        cur_err = cur_err + 1
    end
end

local function json_number(x)
    if x ~= x or x == math.huge or x == -math.huge then
        return "null"
    end
    return string.format("%.17g", x)
end

function done(summary, latency, _)
    -- The arguments reached init() in each thread's Lua state; this state
    -- only ran setup(), so read them from the first thread.
    local first = threads[1]
    local path = first:get("out_path")
    local merged = {}
    local function add(second, n, err)
        local m = merged[second]
        if m == nil then
            m = { 0, 0 }
            merged[second] = m
        end
        m[1] = m[1] + n
        m[2] = m[2] + err
    end
    for _, t in ipairs(threads) do
        for second, n, err in string.gmatch(t:get("series") or "", "(%d+),(%d+),(%d+);") do
            add(tonumber(second), tonumber(n), tonumber(err))
        end
        if (t:get("cur_n") or 0) > 0 then
            add(t:get("cur_second"), t:get("cur_n"), t:get("cur_err"))
        end
    end
    local seconds = {}
    for second in pairs(merged) do
        seconds[#seconds + 1] = second
    end
    table.sort(seconds)
    local per_second = {}
    for _, second in ipairs(seconds) do
        per_second[#per_second + 1] = string.format("[%d,%d,%d]", second, merged[second][1], merged[second][2])
    end
    local e = summary.errors
    local f = assert(io.open(path, "w"))
    f:write("{")
    f:write('"endpoint":"', first:get("endpoint"), '",')
    f:write('"duration_us":', json_number(summary.duration), ",")
    f:write('"requests":', json_number(summary.requests), ",")
    f:write('"bytes":', json_number(summary.bytes), ",")
    f:write('"errors":{"connect":', json_number(e.connect), ',"read":', json_number(e.read),
        ',"write":', json_number(e.write), ',"status":', json_number(e.status),
        ',"timeout":', json_number(e.timeout), "},")
    f:write('"latency_us":{"min":', json_number(latency.min), ',"max":', json_number(latency.max),
        ',"mean":', json_number(latency.mean), ',"stdev":', json_number(latency.stdev))
    for _, p in ipairs({ 50, 90, 95, 99, 99.9 }) do
        f:write(',"p', (string.gsub(tostring(p), "%.", "_")), '":', json_number(latency:percentile(p)))
    end
    f:write("},")
    f:write('"per_second":[', table.concat(per_second, ","), "]")
    f:write("}\n")
    f:close()
end
