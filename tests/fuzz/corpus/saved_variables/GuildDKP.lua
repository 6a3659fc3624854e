
GuildDKPDB = {
	["profileKeys"] = {
		["Dagna - Firemaw"] = "Default",
		["Brannoc - Firemaw"] = "Default",
	},
	["standings"] = {
		{
			["name"] = "Dagna",
			["dkp"] = 125,
			["ratio"] = 0.75,
			["active"] = true,
		}, -- [1]
		{
			["name"] = "Brannoc",
			["dkp"] = -12.5,
			["active"] = false,
		}, -- [2]
	},
	["lastSync"] = 1764000000,
	["motd"] = "Raid at 20:00 \"server\" time\\n\n",
}
GuildDKPLog = nil
