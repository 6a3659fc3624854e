-- LootHistory: one spelling for character names, and name lists packed into entry fields.
local addonName, ns = ...

------------------------------------------------------------------------------------------------
-- Names

-- Names are stored fully qualified ("Dagna-Tally"), so clients on other realms read them the
-- same way; they are shown without the realm when it is the reader's own (ns.Display).
-- "dagna" -> "Dagna-Tally", "zed-other" -> "Zed-Other"; nil for an empty or non-string name.
function ns.FullName(name)
  if type(name) ~= "string" then return nil end
  name = strtrim(name)
  if name == "" then return nil end
  local short, realm = string.match(name, "^([^%-]+)%-(.+)$")
  if not short then short, realm = name, GetRealmName() end
  -- Only ASCII letters change case; other bytes are kept as typed.
  short = string.upper(string.sub(short, 1, 1)) .. string.lower(string.sub(short, 2))
  if string.lower(realm) == string.lower(GetRealmName()) then realm = GetRealmName() end
  return short .. "-" .. realm
end

-- "Dagna-Tally" -> "Dagna" on a Tally client; "?" for nil.
function ns.Display(name)
  if type(name) ~= "string" then return "?" end
  return Ambiguate(name, "none")
end

------------------------------------------------------------------------------------------------
-- Packing name lists (attendance) into entries

-- An entry holds at most 32 fields, strings of at most 255 bytes and 1024 encoded bytes. An
-- attendance entry carries its names comma-separated in fields n1..n3 of at most 240 bytes
-- each (about 750 encoded bytes with the other fields); longer lists spill into more entries
-- (part 1..parts of one snapshot). 40 names of "Name-Realm" need one or two entries.
ns.NAME_FIELD_BYTES = 240
ns.NAME_FIELDS_PER_ENTRY = 3

-- names (array) -> array of entries, each an array of 1..3 comma-joined strings. An empty list
-- gives one empty entry, so "nobody was there" is recorded as such.
function ns.PackNames(names)
  local entries, fields, field = {}, {}, nil
  local function close_field()
    if field then fields[#fields + 1] = field end
    field = nil
    if #fields == ns.NAME_FIELDS_PER_ENTRY then
      entries[#entries + 1] = fields
      fields = {}
    end
  end
  for i = 1, #names do
    local name = names[i]
    assert(#name <= ns.NAME_FIELD_BYTES, "PackNames: name longer than a field: " .. name)
    if field and #field + 1 + #name > ns.NAME_FIELD_BYTES then close_field() end
    field = field and (field .. "," .. name) or name
  end
  close_field()
  if #fields > 0 or #entries == 0 then entries[#entries + 1] = fields end
  return entries
end

-- The names of one attendance entry's data (fields n1..n3), appended to `into`.
function ns.UnpackNames(data, into)
  for i = 1, ns.NAME_FIELDS_PER_ENTRY do
    local text = data["n" .. i]
    if type(text) == "string" and text ~= "" then
      for name in string.gmatch(text, "[^,]+") do into[#into + 1] = name end
    end
  end
  return into
end
