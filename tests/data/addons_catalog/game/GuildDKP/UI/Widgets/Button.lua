GuildDKP.Button = {}
