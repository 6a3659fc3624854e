-- HostProbe: exercises the host's load order, events, timers and SavedVariables.
local addonName, ns = ...
ns.events = {}
ns.name = addonName

local frame = CreateFrame("Frame", "HostProbeFrame")
frame:RegisterEvent("ADDON_LOADED")
frame:RegisterEvent("PLAYER_LOGIN")
frame:RegisterEvent("PLAYER_ENTERING_WORLD")
frame:RegisterEvent("PLAYER_LOGOUT")
frame:SetScript("OnEvent", function(self, event, ...)
  ns.events[#ns.events + 1] = event
  if event == "ADDON_LOADED" and ... == addonName then
    HostProbeDB = HostProbeDB or { runs = 0 }
    HostProbeDB.runs = HostProbeDB.runs + 1
    HostProbeCharDB = HostProbeCharDB or { seen = {} }
    print("loaded; runs=" .. HostProbeDB.runs .. " file2=" .. tostring(ns.second_file_ran))
  elseif event == "PLAYER_ENTERING_WORLD" then
    local initial, reload = ...
    print("entering world", tostring(initial), tostring(reload))
  elseif event == "PLAYER_LOGOUT" then
    HostProbeDB.events = table.concat(ns.events, ",")
  end
end)
