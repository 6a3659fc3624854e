-- Gives tally profile replay and addon-message work to show: the guild master's client submits
-- `rate` awards per second to a synced ledger (every client replays them), and every client
-- pings the guild once a second.
local rate = 200
local names = {}
for i = 1, 500 do names[i] = "Player" .. i end

local ledger = Tally.NewLedger{
  name = "ProfileGuild", sync = true,
  initialState = function() return { points = {}, awards = 0 } end,
}
ledger:RegisterMutator("award", function(state, data)
  state.points[data.player] = (state.points[data.player] or 0) + data.amount
  state.awards = state.awards + 1
end)

local submitted = 0
local frame = CreateFrame("Frame")
frame:RegisterEvent("PLAYER_LOGIN")
frame:RegisterEvent("CHAT_MSG_ADDON")
frame:SetScript("OnEvent", function(_, event, prefix, text)
  if event == "PLAYER_LOGIN" then
    C_ChatInfo.RegisterAddonMessagePrefix("PGuild")
    C_Timer.NewTicker(1, function() C_ChatInfo.SendAddonMessage("PGuild", "ping", "GUILD") end)
    if select(3, GetGuildInfo("player")) ~= 0 then return end
    C_Timer.NewTicker(0.1, function()
      for _ = 1, rate / 10 do
        submitted = submitted + 1
        ledger:Submit("award", { player = names[submitted % #names + 1], amount = 1 })
      end
    end)
  end
end)

-- /pguild rate <awards per second> (at most 250: the ledger takes 256 per creator per second)
SLASH_PROFILEGUILD1 = "/pguild"
SlashCmdList.PROFILEGUILD = function(msg)
  local n = tonumber(strmatch(msg, "^rate%s+(%d+)$"))
  if n and n <= 250 then rate = n end
  print("ProfileGuild: " .. rate .. " awards per second, " .. submitted .. " submitted")
end
