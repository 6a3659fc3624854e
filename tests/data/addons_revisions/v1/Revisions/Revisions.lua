-- Version 1 of the test addon: "award" { player, amount } at the default revision 1.
local addonName = ...

local function award(state, data)
  state.points[data.player] = (state.points[data.player] or 0) + data.amount
end

local frame = CreateFrame("Frame")
frame:RegisterEvent("ADDON_LOADED")
frame:SetScript("OnEvent", function(self, _, name)
  if name ~= addonName then return end
  RevisionsDB = RevisionsDB or {}
  Revisions = Tally.NewLedger{ name = "Revisions", persist = true,
                               initialState = function() return { points = {} } end }
  Revisions:RegisterMutator("award", award)
end)
