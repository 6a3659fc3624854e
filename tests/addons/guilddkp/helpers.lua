-- Shared by GuildDKP's Lua tests: assertions, running commands, and decoders for the exports.
-- Load with: local h = dofile(<this dir> .. "/helpers.lua")
local h = {}

function h.expect(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what, tostring(expected), tostring(actual)), 2)
  end
end

function h.truthy(value, what)
  if not value then error(what, 2) end
  return value
end

-- Types a command into a client; returns the lines it printed.
function h.run(client, command)
  local before = #client:log()
  client:slash(command)
  local log, out = client:log(), {}
  for i = before + 1, #log do out[#out + 1] = log[i] end
  return out
end

-- The lines a client printed since `mark` (a log length).
function h.since(client, mark)
  local log, out = client:log(), {}
  for i = mark + 1, #log do out[#out + 1] = log[i] end
  return out
end

-- The first line containing `text` (plain), or nil.
function h.find(lines, text)
  for _, line in ipairs(lines) do
    if line:find(text, 1, true) then return line end
  end
end

function h.expectLine(lines, text, what)
  local line = h.find(lines, text)
  if not line then error(string.format("%s: no line with '%s' in:\n  %s", what, text, table.concat(lines, "\n  ")), 2) end
  return line
end

function h.expectNoLine(lines, text, what)
  local line = h.find(lines, text)
  if line then error(string.format("%s: unexpected line '%s'", what, line), 2) end
end

-- The entry id GuildDKP printed in brackets: "... [tttttttt-cc-rrrr-pppppppp]".
function h.idIn(lines)
  for i = #lines, 1, -1 do
    local id = lines[i]:match("%[(%x%x%x%x%x%x%x%x%-%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x)%]")
    if id then return id end
  end
end

function h.balance(client, name)
  return (client:eval(string.format("return GuildDKP.Balance(%q)", name)))
end

-- name -> points, from a client's standings
function h.points(client)
  local out = {}
  for _, row in ipairs(client:eval("return GuildDKP.Standings()")) do out[row.name] = row.points end
  return out
end

-- Standings as one comparable string: "Name:points,..." in standings order.
function h.standingsText(client)
  local parts = {}
  for _, row in ipairs(client:eval("return GuildDKP.Standings()")) do parts[#parts + 1] = row.name .. ":" .. row.points end
  return table.concat(parts, ",")
end

function h.noErrors(clients)
  for _, c in ipairs(clients) do
    local errors = c:log(true)
    if #errors > 0 then error(c:name() .. " logged errors:\n" .. table.concat(errors, "\n"), 2) end
  end
end

------------------------------------------------------------------------------------------------
-- A tiny JSON decoder (objects, arrays, strings with escapes, numbers, true/false/null).

function h.decodeJson(text)
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
      if c == '"' then
        pos = pos + 1
        return table.concat(out)
      end
      if c == "\\" then
        local e = text:sub(pos + 1, pos + 1)
        local simple = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
        if simple[e] then
          out[#out + 1] = simple[e]
          pos = pos + 2
        elseif e == "u" then
          local code = tonumber(text:sub(pos + 2, pos + 5), 16) or fail("bad \\u escape")
          if code > 127 then fail("only ASCII \\u escapes expected") end
          out[#out + 1] = string.char(code)
          pos = pos + 6
        else
          fail("bad escape")
        end
      else
        if c:byte() < 32 then fail("control character in string") end
        out[#out + 1] = c
        pos = pos + 1
      end
    end
  end
  function value()
    skip()
    local c = text:sub(pos, pos)
    if c == "{" then
      pos = pos + 1
      local obj = {}
      skip()
      if text:sub(pos, pos) == "}" then
        pos = pos + 1
        return obj
      end
      while true do
        skip()
        if text:sub(pos, pos) ~= '"' then fail("object key expected") end
        local key = str()
        skip()
        if text:sub(pos, pos) ~= ":" then fail("':' expected") end
        pos = pos + 1
        obj[key] = value()
        skip()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "}" then return obj end
        if d ~= "," then fail("',' or '}' expected") end
      end
    elseif c == "[" then
      pos = pos + 1
      local arr = { n = 0 }
      skip()
      if text:sub(pos, pos) == "]" then
        pos = pos + 1
        return arr
      end
      while true do
        arr.n = arr.n + 1
        arr[arr.n] = value()
        skip()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "]" then return arr end
        if d ~= "," then fail("',' or ']' expected") end
      end
    elseif c == '"' then
      return str()
    elseif text:sub(pos, pos + 3) == "true" then
      pos = pos + 4
      return true
    elseif text:sub(pos, pos + 4) == "false" then
      pos = pos + 5
      return false
    elseif text:sub(pos, pos + 3) == "null" then
      pos = pos + 4
      return h.null
    else
      local num = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      if not num or num == "" then fail("unexpected '" .. c .. "'") end
      pos = pos + #num
      return tonumber(num)
    end
  end
  local result = value()
  skip()
  if pos <= #text then fail("trailing text") end
  return result
end
h.null = setmetatable({}, { __tostring = function() return "null" end })

-- RFC 4180 CSV -> array of rows (arrays of fields).
function h.decodeCsv(text)
  local rows, row, field, pos = {}, {}, {}, 1
  local quoted = false
  while pos <= #text do
    local c = text:sub(pos, pos)
    if quoted then
      if c == '"' and text:sub(pos + 1, pos + 1) == '"' then
        field[#field + 1] = '"'
        pos = pos + 1
      elseif c == '"' then
        quoted = false
      else
        field[#field + 1] = c
      end
    elseif c == '"' then
      quoted = true
    elseif c == "," then
      row[#row + 1] = table.concat(field)
      field = {}
    elseif c == "\n" then
      row[#row + 1] = table.concat(field)
      rows[#rows + 1] = row
      row, field = {}, {}
    else
      field[#field + 1] = c
    end
    pos = pos + 1
  end
  if quoted then error("CSV: unterminated quote", 0) end
  row[#row + 1] = table.concat(field)
  rows[#rows + 1] = row
  return rows
end

return h
