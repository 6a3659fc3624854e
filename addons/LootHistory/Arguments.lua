-- LootHistory: splits a slash command's text into words, item references and key=value options.
local addonName, ns = ...

-- "award |cffa335ee|Hitem:17076::|h[Bonereaver's Edge]|h|r Dagna need price=40 note=\"late bid\""
-- -> words { {kind="word", text="award"}, {kind="link", id=17076, text="Bonereaver's Edge"},
--            {kind="word", text="Dagna"}, ... }, options { price = "40", note = "late bid" }.
-- [text] and "text" hold spaces; an option's value may be either.
function ns.ParseArguments(message)
  local words, options = {}, {}
  local pos, len = 1, #message
  local function quoted(open, close)
    local finish = string.find(message, close, pos + 1, true)
    if not finish then return nil end
    local text = string.sub(message, pos + 1, finish - 1)
    pos = finish + 1
    return text
  end
  while pos <= len do
    local _, skip = string.find(message, "^%s+", pos)
    if skip then pos = skip + 1 end
    if pos > len then break end
    local link_start, link_end, id, name = string.find(message, "^|c%x+|Hitem:(%d+)[^|]*|h%[(.-)%]|h|r", pos)
    local key = string.match(message, "^(%a+)=", pos)
    if link_start then
      words[#words + 1] = { kind = "link", id = tonumber(id), text = name }
      pos = link_end + 1
    elseif key then
      pos = pos + #key + 1
      local c = string.sub(message, pos, pos)
      local value
      if c == "[" then value = quoted("[", "]") elseif c == '"' then value = quoted('"', '"') end
      if not value then
        value = string.match(message, "^%S*", pos)
        pos = pos + #value
      end
      options[string.lower(key)] = value
    else
      local c = string.sub(message, pos, pos)
      local text = (c == "[" and quoted("[", "]")) or (c == '"' and quoted('"', '"'))
      if text then
        words[#words + 1] = { kind = c == "[" and "bracket" or "quoted", text = text }
      else
        text = string.match(message, "^%S+", pos)
        pos = pos + #text
        words[#words + 1] = { kind = "word", text = text }
      end
    end
  end
  return words, options
end

-- An item at words[i]: a link, "<id> [Name]", "<id>" or "item:<id>".
-- -> id, name (or nil), index of the next word; or nil and why.
function ns.TakeItem(words, i)
  local w = words[i]
  if not w then return nil, "which item? (a link, or an id and [Name])" end
  if w.kind == "link" then return w.id, w.text, i + 1 end
  local id = tonumber(string.match(w.text, "^item:(%d+)$") or string.match(w.text, "^(%d+)$"))
  if not id or id < 1 then return nil, "not an item: " .. w.text .. " (a link, or an id and [Name])" end
  local nxt = words[i + 1]
  if nxt and nxt.kind == "bracket" then return id, nxt.text, i + 2 end
  return id, nil, i + 1
end

-- The words from index i on, joined by spaces ("Majordomo Executus"), or nil.
function ns.RestOf(words, i)
  local parts = {}
  for j = i, #words do parts[#parts + 1] = words[j].text end
  if #parts == 0 then return nil end
  return table.concat(parts, " ")
end
