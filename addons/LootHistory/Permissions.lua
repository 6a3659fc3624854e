-- LootHistory: who may write to the ledger: guild officers, by rank. Used by the ledger's
-- authorize(entry, sender, stage) on this client's submits and on every received entry.
local addonName, ns = ...

-- Guild rank indexes 0..OfficerRank() are officers (0 is the guild master). A per-client
-- setting (LootHistoryDB.officerRank): received entries are judged with this client's value,
-- so every client of a guild should use the same one.
ns.DEFAULT_OFFICER_RANK = 1

function ns.OfficerRank()
  local rank = LootHistoryDB and tonumber(LootHistoryDB.officerRank)
  return rank or ns.DEFAULT_OFFICER_RANK
end

local function guid_tail(guid)
  return type(guid) == "string" and string.upper(string.sub(guid, -8)) or nil
end

-- The guild, by the last 8 hex digits of each member's GUID and by full name: built when first
-- needed and dropped when the roster changes. Each GetGuildRosterInfo call costs the whole
-- roster, so reading it once per change, not once per entry, keeps receiving a week of entries
-- cheap.
local by_tail, by_name, built_at

local function build()
  by_tail, by_name, built_at = {}, {}, GetTime()
  for i = 1, (GetNumGuildMembers()) do
    local name, _, rankIndex, _, _, _, _, _, _, _, _, _, _, _, _, _, guid = GetGuildRosterInfo(i)
    local member = { name = ns.FullName(name), rank = rankIndex }
    local tail = guid_tail(guid)
    if tail then by_tail[tail] = member end
    if member.name then by_name[member.name] = member end
  end
end

local roster_frame = CreateFrame("Frame")
roster_frame:RegisterEvent("GUILD_ROSTER_UPDATE")
roster_frame:SetScript("OnEvent", function() by_tail = nil end)

-- The guild member behind an entry's creator id: its GUID ends in the creator's 8 hex digits
-- (string.format("%08X", creator)). -> { name = "Name-Realm", rank = guild rank index }, or
-- nil. An unknown creator rebuilds the tables once per frame, in case the roster changed
-- without an event.
function ns.FindCreator(creator)
  if type(creator) ~= "number" then return nil end
  local hex = string.format("%08X", creator)
  if not by_tail then build() end
  if not by_tail[hex] and built_at ~= GetTime() then build() end
  return by_tail[hex]
end

-- Is `name` ("Name-Realm", as a received entry's sender) in the guild?
function ns.InGuild(name)
  local full = ns.FullName(name)
  if not by_tail then build() end
  if full and not by_name[full] and built_at ~= GetTime() then build() end
  return full ~= nil and by_name[full] ~= nil
end

-- May the creator record loot and raids? -> true, or false and why. `by` (the name an entry
-- says recorded it) must be the creator's own name, so nobody records in someone else's name.
-- Only the guild rank counts: it is the one fact every client of the guild can check, on the
-- day the entry is written and on the day a client that was offline receives it. (A raid
-- leader's or master looter's role is seen only by the clients in that raid, at that time;
-- clients judging by it would keep different ledgers.)
function ns.MayRecord(creator, by)
  local who = ns.FindCreator(creator)
  if not who then
    return false, string.format("creator %08X is not in this guild's roster", creator or 0)
  end
  if by ~= nil and ns.FullName(by) ~= who.name then
    return false, string.format("entry claims to be by %s but was created by %s", tostring(by), who.name)
  end
  local threshold = ns.OfficerRank()
  if who.rank <= threshold then return true end
  return false, string.format("%s is guild rank %d (officers are ranks 0-%d)", ns.Display(who.name), who.rank, threshold)
end
