-- GuildDKP: standings and histories as CSV or JSON text, kept in GuildDKP_Export and printed.
local _, ns = ...

------------------------------------------------------------------------------------------------
-- Encoders

-- RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
local function csvField(value)
  local text = value == nil and "" or tostring(value)
  if strfind(text, '[,"\r\n]') then text = '"' .. gsub(text, '"', '""') .. '"' end
  return text
end

local function csvRow(values, count)
  local out = {}
  for i = 1, count do out[i] = csvField(values[i]) end
  return table.concat(out, ",")
end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local function jsonString(text)
  return '"' .. gsub(text, '[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", strbyte(c))
  end) .. '"'
end

-- A flat object with keys in the given order; values are strings, whole numbers, booleans,
-- arrays of strings, or nil (null).
local function jsonObject(keys, values)
  local parts = {}
  for i, key in ipairs(keys) do
    local v = values[key]
    local text
    if v == nil then text = "null"
    elseif type(v) == "number" then text = string.format("%d", v)
    elseif type(v) == "boolean" then text = tostring(v)
    elseif type(v) == "table" then
      local items = {}
      for j, item in ipairs(v) do items[j] = jsonString(item) end
      text = "[" .. table.concat(items, ",") .. "]"
    else text = jsonString(v) end
    parts[i] = jsonString(key) .. ":" .. text
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- One line per record: a CSV row, or a JSON object (the array's commas are added at the end).
local function encode(format, keys, r)
  if format == "json" then return jsonObject(keys, r) end
  local values = {}
  for i, key in ipairs(keys) do
    local v = r[key]
    values[i] = type(v) == "table" and table.concat(v, ";") or v
  end
  return csvRow(values, #keys)
end

------------------------------------------------------------------------------------------------
-- Records, produced one at a time by a source function (nil when done)

local STANDINGS_KEYS = { "rank", "name", "class", "points", "alts" }
local HISTORY_KEYS = { "player", "entry", "time", "date", "delta", "balance", "reason", "note" }

local function standingsSource(state)
  local rows, i = ns.standings(state), 0
  return function()
    i = i + 1
    local row = rows[i]
    if not row then return nil end
    local alts = {}
    for alt in gmatch(row.alts, "[^;]+") do alts[#alts + 1] = alt end
    return { rank = i, name = row.name, class = row.class, points = row.points, alts = alts }
  end
end

-- Every point change in ledger order (one main's, when `who` is given: an alt gives its
-- main's), each with the running balance. The log is read as it is now: entries replay
-- appends while the export runs are left out.
local function historySource(state, who)
  local log, count = state.log, #state.log
  local main = who and ns.mainOf(state, who)
  local index, pending, p = 0, {}, 1
  return function()
    while not pending[p] do
      index = index + 1
      if index > count then return nil end
      pending, p = {}, 1
      local record = log[index]
      if not main or ns.touches(record, main) then
        local r = ns.parseRecord(record)
        for _, c in ipairs(r.changes) do
          if not main or c.name == main then
            pending[#pending + 1] = { player = c.name, entry = r.id, time = r.t, date = date("!%Y-%m-%d %H:%M:%S", r.t),
              delta = c.d, balance = c.b, reason = c.r, note = c.n }
          end
        end
      end
    end
    p = p + 1
    return pending[p - 1]
  end
end

------------------------------------------------------------------------------------------------
-- The export command: kind "standings" or "history" (optionally one player), format "csv" or
-- "json". The text goes to GuildDKP_Export["<kind>.<format>"] (saved on logout) and the log.
-- A long export is built and printed STEP lines per frame, so it never stalls the game (one
-- call doing 40,000 rows runs into the game's "script ran too long").

local STEP = 500
local job  -- the export in progress
local runner = CreateFrame("Frame")
runner:Hide()

-- Encodes, then prints, up to STEP lines; true when the export is complete.
local function step()
  local budget = STEP
  while not job.encoded and budget > 0 do
    local record = job.source()
    if not record then
      job.encoded = true
      local lines = job.lines
      if job.format == "json" then
        if job.count == 0 then lines[1] = "[]" else lines[#lines + 1] = "]" end
      end
      job.text = table.concat(lines, "\n")
      GuildDKP_Export[job.slot] = job.text
      GuildDKP_Export.updated = GetServerTime()
      print(string.format("GuildDKP: export %s, %d records, saved in GuildDKP_Export[%q]:", job.slot, job.count, job.slot))
    else
      job.count = job.count + 1
      local lines = job.lines
      if job.format == "json" and job.count > 1 then lines[#lines] = lines[#lines] .. "," end
      lines[#lines + 1] = encode(job.format, job.keys, record)
      budget = budget - 1
    end
  end
  while job.encoded and budget > 0 and job.printed < #job.lines do
    job.printed = job.printed + 1
    print(job.lines[job.printed])
    budget = budget - 1
  end
  return job.encoded and job.printed == #job.lines
end

runner:SetScript("OnUpdate", function(self)
  if step() then
    job = nil
    self:Hide()
  end
end)

function ns.export(kind, format, who)
  if job then return ns.say("refused: the " .. job.slot .. " export is still running") end
  if format ~= "csv" and format ~= "json" then return ns.say("export format must be csv or json") end
  local state, lag = ns.state()
  if lag > 0 then ns.say(lag .. " entries still replaying; export is of the state so far") end
  local keys, source
  if kind == "standings" then
    keys, source = STANDINGS_KEYS, standingsSource(state)
  elseif kind == "history" then
    keys, source = HISTORY_KEYS, historySource(state, who and ns.normalizeName(who))
  else
    return ns.say("export what? standings or history")
  end
  job = { slot = kind .. "." .. format, format = format, keys = keys, source = source, count = 0, printed = 0,
    lines = format == "csv" and { table.concat(keys, ",") } or { "[" } }
  -- Small exports finish at once; longer ones go on over the next frames.
  if step() then
    job = nil
  else
    runner:Show()
  end
end

-- /dkp export standings|history [player] csv|json
ns.commands.export = function(w)
  local format = w[#w] and strlower(w[#w])
  ns.export(w[1] and strlower(w[1]), format, #w == 3 and w[2] or nil)
end
