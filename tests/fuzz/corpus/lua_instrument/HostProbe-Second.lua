-- Second file of HostProbe: shares the addon table, adds a slash command and a ticker.
local addonName, ns = ...
ns.second_file_ran = true

SLASH_HOSTPROBE1 = "/probe"
SLASH_HOSTPROBE2 = "/hp"
SlashCmdList.HOSTPROBE = function(msg)
  print("slash:" .. msg .. " ticks=" .. (ns.ticks or 0))
  HostProbeCharDB.seen[#HostProbeCharDB.seen + 1] = msg
end

C_Timer.NewTicker(1, function() ns.ticks = (ns.ticks or 0) + 1 end, 3)
