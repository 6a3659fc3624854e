V = {
	["entries"] = {
	},
	["format"] = "tally-ledger",
	["ledger"] = "",
	["version"] = 1,
}
