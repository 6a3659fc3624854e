-- Called every frame and on every roster event, and does next to nothing: its profiler figures
-- must stay near zero next to ProfileBurner's.
local frames, events = 0, 0

local frame = CreateFrame("Frame")
frame:RegisterEvent("GROUP_ROSTER_UPDATE")
frame:SetScript("OnUpdate", function() frames = frames + 1 end)
frame:SetScript("OnEvent", function() events = events + 1 end)
