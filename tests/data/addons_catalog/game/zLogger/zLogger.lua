zLogger = {}
