GuildDKP.ui = {}
