GuildDKP = {}
