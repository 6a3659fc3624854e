GuildDKP.shared = true
