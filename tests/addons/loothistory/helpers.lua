-- Shared by LootHistory's scenario tests: assertions, log reading, and tiny CSV and JSON
-- decoders that check the exports parse back. Load with dofile(<this dir> .. "helpers.lua").
local h = {}

function h.expect(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what, tostring(expected), tostring(actual)), 2)
  end
end

function h.expect_find(text, needle, what)
  if type(text) ~= "string" or not text:find(needle, 1, true) then
    error(string.format("%s: expected %q in %q", what, needle, tostring(text)), 2)
  end
end

-- Runs a slash command in client c -> the log lines it added (joined by "\n") and as an array.
function h.slash(c, command)
  local before = #c:log()
  c:slash(command)
  local log, lines = c:log(), {}
  for i = before + 1, #log do lines[#lines + 1] = log[i] end
  return table.concat(lines, "\n"), lines
end

-- The last entry id "(tttttttt-cc-rrrr-pppppppp)" in a command's output.
function h.id(text)
  local last
  for id in text:gmatch("%((%x%x%x%x%x%x%x%x%-%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x)%)") do last = id end
  assert(last, "no entry id in: " .. text)
  return last
end

-- Fails when any client logged an error.
function h.no_errors(clients)
  for _, c in ipairs(clients) do
    local errors = c:log(true)
    if #errors > 0 then error(c:name() .. " logged errors:\n" .. table.concat(errors, "\n"), 2) end
  end
end

-- Lets every client replay what was submitted.
function h.settle() tally.advance(0.2) end

-- A client's LootHistory state as one canonical string (keys sorted), to compare clients or
-- sessions: h.dump(c).
local DUMP = [[
  local function dump(v, out)
    if type(v) ~= "table" then out[#out + 1] = type(v) == "string" and string.format("%q", v) or tostring(v) return end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      if type(a) ~= type(b) then return type(a) < type(b) end
      return a < b
    end)
    out[#out + 1] = "{"
    for _, k in ipairs(keys) do
      out[#out + 1] = tostring(k) .. "="
      dump(v[k], out)
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
  end
  local out = {}
  dump(assert(LootHistory.State()), out)
  return table.concat(out)
]]
function h.dump(c) return c:eval(DUMP) end

------------------------------------------------------------------------------------------------
-- CSV (RFC 4180) -> array of rows, each an array of fields; and rows as records by header.

function h.parse_csv(text)
  local rows, row, field, i, n = {}, {}, {}, 1, #text
  local quoted = false
  while i <= n do
    local c = text:sub(i, i)
    if quoted then
      if c == '"' then
        if text:sub(i + 1, i + 1) == '"' then field[#field + 1] = '"'; i = i + 1 else quoted = false end
      else
        field[#field + 1] = c
      end
    elseif c == '"' then
      assert(#field == 0, "CSV: quote inside an unquoted field at byte " .. i)
      quoted = true
    elseif c == "," then
      row[#row + 1] = table.concat(field); field = {}
    elseif c == "\n" then
      row[#row + 1] = table.concat(field); field = {}
      rows[#rows + 1] = row; row = {}
    elseif c ~= "\r" then
      field[#field + 1] = c
    end
    i = i + 1
  end
  assert(not quoted, "CSV: unterminated quoted field")
  row[#row + 1] = table.concat(field)
  rows[#rows + 1] = row
  return rows
end

function h.csv_records(text)
  local rows = h.parse_csv(text)
  local header, records = rows[1], {}
  for r = 2, #rows do
    assert(#rows[r] == #header, string.format("CSV row %d has %d fields, the header %d", r, #rows[r], #header))
    local rec = {}
    for i, name in ipairs(header) do rec[name] = rows[r][i] end
    records[#records + 1] = rec
  end
  return records, header
end

------------------------------------------------------------------------------------------------
-- JSON -> Lua values (null -> h.null); raises on anything that is not JSON.

h.null = setmetatable({}, { __tostring = function() return "null" end })

function h.parse_json(text)
  local pos = 1
  local function fail(what) error(string.format("JSON: %s at byte %d", what, pos), 0) end
  local function skip() pos = text:find("[^ \t\r\n]", pos) or #text + 1 end
  local value
  local function str()
    pos = pos + 1
    local out = {}
    while true do
      local c = text:sub(pos, pos)
      if c == "" then fail("unterminated string") end
      if c == '"' then pos = pos + 1; return table.concat(out) end
      if c:byte() < 32 then fail("control character in a string") end
      if c == "\\" then
        local e = text:sub(pos + 1, pos + 1)
        local simple = ({ ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" })[e]
        if simple then
          out[#out + 1] = simple; pos = pos + 2
        elseif e == "u" then
          local hex = text:sub(pos + 2, pos + 5)
          if not hex:match("^%x%x%x%x$") then fail("bad \\u escape") end
          local code = tonumber(hex, 16)
          assert(code < 128, "JSON test decoder: only ASCII \\u escapes")
          out[#out + 1] = string.char(code); pos = pos + 6
        else
          fail("bad escape")
        end
      else
        out[#out + 1] = c; pos = pos + 1
      end
    end
  end
  value = function()
    skip()
    local c = text:sub(pos, pos)
    if c == "{" then
      pos = pos + 1
      local obj = {}
      skip()
      if text:sub(pos, pos) == "}" then pos = pos + 1; return obj end
      while true do
        skip()
        if text:sub(pos, pos) ~= '"' then fail("expected a key") end
        local key = str()
        skip()
        if text:sub(pos, pos) ~= ":" then fail("expected ':'") end
        pos = pos + 1
        if obj[key] ~= nil then fail("duplicate key " .. key) end
        obj[key] = value()
        skip()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "}" then return obj end
        if d ~= "," then fail("expected ',' or '}'") end
      end
    elseif c == "[" then
      pos = pos + 1
      local arr = {}
      skip()
      if text:sub(pos, pos) == "]" then pos = pos + 1; return arr end
      while true do
        arr[#arr + 1] = value()
        skip()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "]" then return arr end
        if d ~= "," then fail("expected ',' or ']'") end
      end
    elseif c == '"' then
      return str()
    elseif text:sub(pos, pos + 3) == "true" then pos = pos + 4; return true
    elseif text:sub(pos, pos + 4) == "false" then pos = pos + 5; return false
    elseif text:sub(pos, pos + 3) == "null" then pos = pos + 4; return h.null
    else
      local number = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      if not number or number == "" or not tonumber(number) then fail("unexpected character") end
      pos = pos + #number
      return tonumber(number)
    end
  end
  local result = value()
  skip()
  if pos <= #text then fail("trailing text") end
  return result
end

return h
