-- Burns `burn_ms` of wall time in every frame's OnUpdate (2 ms unless /burn says otherwise), so
-- its profiler figures are known: at least that much per frame, in every frame.
local burn_ms = 2

local frame = CreateFrame("Frame")
frame:SetScript("OnUpdate", function()
  local start = debugprofilestop()
  while debugprofilestop() - start < burn_ms do end
end)

-- /burn <ms>: the time to burn per frame from now on (0 stops)
SLASH_PROFILEBURNER1 = "/burn"
SlashCmdList.PROFILEBURNER = function(msg)
  burn_ms = tonumber(msg) or burn_ms
  print("ProfileBurner: burning " .. burn_ms .. " ms per frame")
end
