-- Anchor: the well-behaved addon of the hostile suite (tests/hostile). It counts its frames,
-- timer ticks and events, saves them at logout, and keeps a synced ledger that only officers
-- may write. Everything it calls is captured at load, before any addon that sorts after it runs,
-- so another addon replacing a global cannot change what Anchor does or authorizes.
local GetNumGuildMembers, GetGuildRosterInfo, GetGuildInfo = GetNumGuildMembers, GetGuildRosterInfo, GetGuildInfo
local format, sub = string.format, string.sub
local NewTicker, NewLedger = C_Timer.NewTicker, Tally.NewLedger

-- What the suite reads after every case.
AnchorStatus = { frames = 0, ticks = 0, events = 0, marks = 0 }
local status = AnchorStatus

-- Whether the creator (a GUID's last 8 hex digits) holds guild rank 0 or 1.
local function officer(creator)
  local suffix = format("%08X", creator)
  for i = 1, GetNumGuildMembers() do
    local _, _, rank, _, _, _, _, _, _, _, _, _, _, _, _, _, guid = GetGuildRosterInfo(i)
    if guid and sub(guid, -8) == suffix then return rank <= 1 end
  end
  return false
end

local ledger = NewLedger{ name = "Anchor", sync = true,
  initialState = function() return { marks = 0, total = 0 } end,
  authorize = function(entry) return officer(entry.creator), "officers only" end }
ledger:RegisterMutator("mark", function(state, data)
  state.marks = state.marks + 1
  state.total = state.total + data.n
end)

local frame = CreateFrame("Frame")
frame:RegisterEvent("ADDON_LOADED")
frame:RegisterEvent("PLAYER_LOGOUT")
frame:SetScript("OnEvent", function(_, event, name)
  status.events = status.events + 1
  if event == "ADDON_LOADED" and name == "Anchor" then
    AnchorDB = AnchorDB or { sessions = 0, frames = 0 }
    AnchorDB.sessions = AnchorDB.sessions + 1
  elseif event == "PLAYER_LOGOUT" then
    AnchorDB.frames = AnchorDB.frames + status.frames
  end
end)
frame:SetScript("OnUpdate", function()
  status.frames = status.frames + 1
end)

-- Officers mark the ledger every two seconds.
NewTicker(2, function()
  status.ticks = status.ticks + 1
  local _, _, rank = GetGuildInfo("player")
  if rank and rank <= 1 then
    status.marks = status.marks + 1
    ledger:Submit("mark", { n = status.ticks })
  end
end)
