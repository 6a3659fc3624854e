-- GuildDKP: character names, name lists packed into entry fields, and reason codes.
local _, ns = ...

------------------------------------------------------------------------------------------------
-- Names

-- "dagna", "DAGNA", "Dagna-Tally" (own realm) -> "Dagna"; "zed-Elsewhere" -> "Zed-Elsewhere".
-- Only ASCII letters change case; other bytes (accented names) are kept as typed.
function ns.normalizeName(text)
  if type(text) ~= "string" then return nil end
  text = strtrim(text)
  if text == "" then return nil end
  text = Ambiguate(text, "none")
  local name, realm = strmatch(text, "^([^-]+)-(.+)$")
  name = name or text
  name = strupper(strsub(name, 1, 1)) .. strlower(strsub(name, 2))
  if realm then return name .. "-" .. realm end
  return name
end

-- A name may go into a packed list: no separators, no control bytes, at most 48 bytes.
function ns.isValidName(name)
  return type(name) == "string" and #name >= 2 and #name <= 48 and not strfind(name, "[,:%c%s]")
end

------------------------------------------------------------------------------------------------
-- Packed lists: entries carry lists (raid members, roster items) as comma-joined strings in
-- the fields n1, n2, ... (each at most FIELD_BYTES). One entry holds at most ENTRY_BYTES of
-- list text so the rest of the payload still fits in 1024 bytes; a longer list is split over
-- several entries (see ns.packList).

local FIELD_BYTES, ENTRY_BYTES, MAX_FIELDS = 250, 700, 20

-- items -> array of chunks, each a table { n1 = "a,b", n2 = "c" } for one entry, holding at
-- most `entryBytes` (default ENTRY_BYTES) of list text.
function ns.packList(items, entryBytes)
  local limit = entryBytes or ENTRY_BYTES
  local chunks, chunk, field, fieldText, entryBytes = {}, {}, 1, {}, 0
  local fieldBytes = 0
  local function flushField()
    if #fieldText > 0 then
      chunk["n" .. field] = table.concat(fieldText, ",")
      field, fieldText, fieldBytes = field + 1, {}, 0
    end
  end
  local function flushChunk()
    flushField()
    if next(chunk) then chunks[#chunks + 1] = chunk end
    chunk, field, entryBytes = {}, 1, 0
  end
  for _, item in ipairs(items) do
    local size = #item + 1
    if entryBytes + size > limit then flushChunk() end
    if fieldBytes + size > FIELD_BYTES then
      flushField()
      if field > MAX_FIELDS then flushChunk() end
    end
    fieldText[#fieldText + 1] = item
    fieldBytes, entryBytes = fieldBytes + size, entryBytes + size
  end
  flushChunk()
  return chunks
end

-- An entry's data -> the items of its list, in the order they were packed.
function ns.unpackList(data)
  local items = {}
  for i = 1, MAX_FIELDS do
    local text = data["n" .. i]
    if type(text) ~= "string" then break end
    for item in gmatch(text, "[^,]+") do items[#items + 1] = item end
  end
  return items
end

-- A list with each name once, sorted by bytes: the order every mutator walks.
function ns.sortedUnique(names)
  local seen, out = {}, {}
  for _, name in ipairs(names) do
    if not seen[name] then
      seen[name] = true
      out[#out + 1] = name
    end
  end
  table.sort(out)
  return out
end

------------------------------------------------------------------------------------------------
-- Reason codes carried by awards and adjustments.

ns.REASONS = {
  "boss_kill", "on_time", "attendance", "completion", "progression", "standby", "bonus",
  "manual", "correction", "penalty", "import",
}
local known = {}
for _, code in ipairs(ns.REASONS) do known[code] = true end
local aliases = { boss = "boss_kill", kill = "boss_kill", ontime = "on_time", bench = "standby",
  attend = "attendance", fix = "correction" }

-- "Boss" -> "boss_kill"; an unknown code -> nil.
function ns.reasonCode(text)
  if type(text) ~= "string" then return nil end
  text = strlower(text)
  text = aliases[text] or text
  if known[text] then return text end
  return nil
end
