V = {
	["entries"] = {
		{
			["counter"] = 0,
			["creator"] = 101,
			["data"] = {
				["amount"] = -5,
				["player"] = "Dagna",
			},
			["realm"] = 0,
			["rev"] = 1,
			["ts"] = 1764000000,
			["type"] = "award",
		}, -- [1]
		{
			["counter"] = 1,
			["creator"] = 102,
			["data"] = {
				["amount"] = 20,
				["boss"] = "Ragnaros",
				["player"] = "Brannoc",
				["ratio"] = 0.75,
			},
			["realm"] = 0,
			["rev"] = 1,
			["ts"] = 1764000090,
			["type"] = "award",
		}, -- [2]
		{
			["counter"] = 0,
			["creator"] = 103,
			["data"] = {
				["amount"] = 30,
				["player"] = "Thessaly",
			},
			["realm"] = 0,
			["rev"] = 1,
			["ts"] = 1764000180,
			["type"] = "spend",
		}, -- [3]
		{
			["counter"] = 1,
			["creator"] = 101,
			["data"] = {
				["amount"] = 40,
				["player"] = "Dagna",
			},
			["realm"] = 0,
			["rev"] = 1,
			["ts"] = 1764000270,
			["type"] = "award",
		}, -- [4]
		{
			["counter"] = 0,
			["creator"] = 102,
			["data"] = {
				["amount"] = 50,
				["final"] = true,
				["note"] = "\000ÿ raw\n",
				["player"] = "Brannoc",
			},
			["realm"] = 0,
			["rev"] = 1,
			["ts"] = 1764000360,
			["type"] = "award",
		}, -- [5]
		{
			["counter"] = 1,
			["creator"] = 103,
			["data"] = {
				["amount"] = 60,
				["player"] = "Thessaly",
			},
			["realm"] = 0,
			["rev"] = 1,
			["ts"] = 1764000450,
			["type"] = "spend",
		}, -- [6]
		{
			["counter"] = 0,
			["creator"] = 103,
			["data"] = {
			},
			["realm"] = 7,
			["rev"] = 2,
			["ts"] = 1764000600,
			["type"] = "decay",
		}, -- [7]
	},
	["format"] = "tally-ledger",
	["ledger"] = "GuildDKP",
	["version"] = 1,
}
