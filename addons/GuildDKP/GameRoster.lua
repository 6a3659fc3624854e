-- GuildDKP: the game's guild roster (by GUID suffix and name, for authorization) and raid.
local _, ns = ...

local cache  -- { byId = { ["8 hex digits"] = member }, byName = { [name] = member } } or nil

-- Reads GetGuildRosterInfo once; rebuilt after the next GUILD_ROSTER_UPDATE.
local function build()
  local byId, byName = {}, {}
  for i = 1, (GetNumGuildMembers()) do
    local full, rankName, rankIndex, _, _, _, _, _, online, _, classFile, _, _, _, _, _, guid = GetGuildRosterInfo(i)
    if full then
      local member = { name = Ambiguate(full, "none"), full = full, rank = rankIndex, rankName = rankName,
        class = classFile, online = online }
      if type(guid) == "string" then byId[strupper(strsub(guid, -8))] = member end
      byName[member.name] = member
    end
  end
  return { byId = byId, byName = byName }
end

local function roster()
  if not cache then cache = build() end
  return cache
end

local frame = CreateFrame("Frame")
frame:RegisterEvent("GUILD_ROSTER_UPDATE")
frame:RegisterEvent("PLAYER_GUILD_UPDATE")
frame:SetScript("OnEvent", function() cache = nil end)

ns.guild = {}

-- The guild member who created an entry: entry.creator is the last 8 hex digits of their GUID.
function ns.guild.byCreator(creator)
  if type(creator) ~= "number" then return nil end
  return roster().byId[string.format("%08X", creator)]
end

-- A guild member by character name ("Name" or "Name-Realm").
function ns.guild.byName(name)
  if type(name) ~= "string" then return nil end
  return roster().byName[Ambiguate(name, "none")]
end

-- Every guild member, sorted by name (the order of GetGuildRosterInfo).
function ns.guild.members()
  local list = {}
  for i = 1, (GetNumGuildMembers()) do
    local full, _, rankIndex, _, _, _, _, _, _, _, classFile = GetGuildRosterInfo(i)
    if full then list[#list + 1] = { name = Ambiguate(full, "none"), rank = rankIndex, class = classFile } end
  end
  return list
end

-- A creator id as a name for display: the guild member, or the raw id.
function ns.guild.creatorName(creator)
  local member = ns.guild.byCreator(creator)
  if member then return member.name end
  return string.format("%08X", creator or 0)
end

------------------------------------------------------------------------------------------------
-- The raid, read when an award or a zero-sum close is submitted.

-- -> { { name = "Dagna", class = "ROGUE" }, ... } in raid order; empty outside a raid.
function ns.raidMembers()
  local list = {}
  if not IsInRaid() then return list end
  for i = 1, GetNumGroupMembers() do
    local name, _, _, _, _, classFile = GetRaidRosterInfo(i)
    if name then list[#list + 1] = { name = ns.normalizeName(name), class = classFile } end
  end
  return list
end

-- This client's character: name and creator id (the number entries carry as creator).
function ns.me()
  return UnitName("player"), tonumber(strsub(UnitGUID("player"), -8), 16)
end
