-- GuildDKP: read-only questions about the state: standings, histories, what an entry changed.
local _, ns = ...

-- Standings: every main with points or a roster entry (alts count on their main).
-- Order: more points first; equal points by name in byte order (names are normalized, so
-- this is the same on every client). -> array of { name, class, points, alts = "Alt1;Alt2" }
function ns.standings(state)
  local seen, rows = {}, {}
  local names = {}
  for name in pairs(state.points) do names[#names + 1] = name end
  for name in pairs(state.members) do
    if ns.isMember(state, name) then names[#names + 1] = name end
  end
  table.sort(names)
  for _, name in ipairs(names) do
    if not seen[name] and not state.alts[name] then
      seen[name] = true
      rows[#rows + 1] = { name = name, class = state.members[name] or "UNKNOWN", points = state.points[name] or 0,
        alts = table.concat(ns.altsOf(state, name), ";") }
    end
  end
  table.sort(rows, function(a, b)
    if a.points ~= b.points then return a.points > b.points end
    return a.name < b.name
  end)
  return rows
end

-- The entry types that can change the standings: points (awards, adjustments, purchases, decay,
-- auction results) and the roster (members, alts).
ns.STANDINGS_INPUTS = { "award", "adjust", "spend", "decay", "close", "member", "member_remove", "alt", "unalt" }

-- The standings report (the state must be caught up first: ns.state()), of one class when
-- `classFilter` is given. -> rows as ns.standings gives them, shared with the report: read only.
function ns.currentStandings(classFilter)
  local rows = ns.model:Value("standings")
  if not classFilter then return rows end
  local out = {}
  for _, row in ipairs(rows) do
    if row.class == classFilter then out[#out + 1] = row end
  end
  return out
end

-- The point changes of one character in log records first..last (all by default), in ledger
-- order. -> array of { id, t, d, b, r, n } (b: the running balance after the change)
-- Only the matching changes are parsed: a raid award's record holds 40 of them.
function ns.changesOf(state, name, first, last)
  local rows, key = {}, "\t" .. name .. "\31"
  for i = first or 1, last or #state.log do
    local record = state.log[i]
    local at = strfind(record, key, 1, true)
    if at then
      local id, t = strmatch(record, "^([^\t]*)\t[^\t]*\t([^\t]*)")
      while at do
        local stop = strfind(record, "\t", at + 1, true) or #record + 1
        local _, d, b, reason, note = strsplit("\31", strsub(record, at + 1, stop - 1))
        rows[#rows + 1] = { id = id, t = tonumber(t), d = tonumber(d), b = tonumber(b), r = reason, n = note ~= "" and note or nil }
        at = strfind(record, key, stop, true)
      end
    end
  end
  return rows
end

-- A character's history (its main's, for an alt). -> main, rows { id, t, d, b, r, n }
function ns.historyOf(state, name)
  local main = ns.mainOf(state, name)
  return main, ns.changesOf(state, main)
end

-- What entry `id` changed. -> lines of text, or nil and a reason.
function ns.describeEntry(id)
  local entryType, data, time, creator = ns.ledger:Entry(id)
  if not entryType then return nil, "no entry " .. tostring(id) end
  local lines = { string.format("%s %s by %s at %s", entryType, id, ns.guild.creatorName(creator),
    date("!%Y-%m-%d %H:%M:%S", time)) }
  if entryType == "__ignore" then
    lines[#lines + 1] = "undoes " .. tostring(data.target) .. " (undo this entry to redo the target)"
    return lines
  end
  local state, lag = ns.state()
  local record = ns.findRecord(state, id)
  if not record then
    lines[#lines + 1] = lag > 0 and ("not applied yet (" .. lag .. " entries replaying)") or "ignored: it is undone"
    return lines
  end
  local r = ns.parseRecord(record)
  lines[#lines + 1] = r.summary
  for _, c in ipairs(r.changes) do lines[#lines + 1] = string.format("  %-14s %+d", c.name, c.d) end
  return lines
end

-- The auction a user means: "3" or "#3" (its number), an entry id, or nil when exactly one
-- auction is open. -> auction (see ns.auction) or nil, reason
function ns.findAuction(state, ref)
  if ref == nil or ref == "" then
    local open
    for _, id in ipairs(state.auctionOrder) do
      if ns.isOpen(state, id) then
        if open then return nil, "several auctions are open: name one by number (/dkp auction list)" end
        open = id
      end
    end
    if not open then return nil, "no auction is open" end
    return ns.auction(state, open)
  end
  local num = tonumber((strmatch(ref, "^#?(%d+)$")))
  local a = ns.auction(state, num and state.auctionOrder[num] or ref)
  if not a then return nil, "no auction " .. ref end
  return a
end
