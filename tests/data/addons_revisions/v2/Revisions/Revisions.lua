-- Version 2 of the test addon: "award" { player, amount, reason } at revision 2. Awards that
-- version 1 wrote (revision 1, no reason) reach the mutator through the upcaster.
local addonName = ...

local function award(state, data)
  state.points[data.player] = (state.points[data.player] or 0) + data.amount
  state.byReason[data.reason] = (state.byReason[data.reason] or 0) + data.amount
end

-- Exposed for the test, which builds a second ledger with the same mutator.
RevisionsAward = {
  mutator = award,
  options = { revision = 2, upcasters = {
    [1] = function(data)
      data.reason = "unspecified"
      return data
    end,
  } },
  initialState = function() return { points = {}, byReason = {} } end,
}

local frame = CreateFrame("Frame")
frame:RegisterEvent("ADDON_LOADED")
frame:SetScript("OnEvent", function(self, _, name)
  if name ~= addonName then return end
  RevisionsDB = RevisionsDB or {}
  Revisions = Tally.NewLedger{ name = "Revisions", persist = true, initialState = RevisionsAward.initialState }
  Revisions:RegisterMutator("award", RevisionsAward.mutator, RevisionsAward.options)
end)
