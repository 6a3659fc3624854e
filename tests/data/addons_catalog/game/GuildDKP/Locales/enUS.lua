GuildDKP_L = { award = "Award" }
